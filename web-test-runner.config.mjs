// Browser tests: real headless Chromium, the real sync server on another origin (see
// test/browser/support/sync-server-plugin.mjs), TypeScript compiled by esbuild on the fly.
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { chromeLauncher } from '@web/test-runner-chrome';
import { syncServerPlugin } from './test/browser/support/sync-server-plugin.mjs';
import { CHROMIUM_ARGS, SANDBOX_ARGS, findChromium } from './test/support/chromium.mjs';

export default {
  files: ['test/browser/**/*.test.ts'],
  nodeResolve: { exportConditions: ['production'] },
  concurrency: 1,
  testsFinishTimeout: 180_000,
  testFramework: { config: { timeout: 20_000 } },
  browsers: [
    chromeLauncher({
      launchOptions: {
        executablePath: findChromium(),
        args: [...CHROMIUM_ARGS, ...SANDBOX_ARGS],
      },
    }),
  ],
  plugins: [esbuildPlugin({ ts: true, target: 'es2021' }), syncServerPlugin()],
};
