// Our element from the sources, bundled by the same esbuild as the others, the way a bundler
// user registers it (the shipped dist/session-sync.min.js is built by rollup and terser and
// measured as it is).
import { SessionSync } from '../../src/index.ts';

if (!customElements.get('session-sync')) customElements.define('session-sync', SessionSync);
