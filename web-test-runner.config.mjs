// Browser tests: real headless Chromium, the real sync server on another origin (see
// test/browser/support/sync-server-plugin.mjs), TypeScript compiled by esbuild on the fly.
import { existsSync } from 'node:fs';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { chromeLauncher } from '@web/test-runner-chrome';
import { syncServerPlugin } from './test/browser/support/sync-server-plugin.mjs';

const executablePath = process.env.CHROME_PATH || '/usr/bin/chromium';
if (!existsSync(executablePath)) {
  throw new Error(
    `No Chromium at ${executablePath}. Install it with \`apt-get install chromium\`, ` +
      'or set CHROME_PATH to a Chrome or Chromium binary.',
  );
}

export default {
  files: ['test/browser/**/*.test.ts'],
  nodeResolve: { exportConditions: ['production'] },
  concurrency: 1,
  testsFinishTimeout: 180_000,
  testFramework: { config: { timeout: 20_000 } },
  browsers: [
    chromeLauncher({
      launchOptions: {
        executablePath,
        // Root needs --no-sandbox; the rest keep Chromium off the (closed) outside network.
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-dev-shm-usage',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
        ],
      },
    }),
  ],
  plugins: [esbuildPlugin({ ts: true, target: 'es2021' }), syncServerPlugin()],
};
