// Where the browser tests and the end-to-end tests find Chromium, and the flags they start it
// with. Plain JavaScript so the web-test-runner config can load it as it is.
import { existsSync } from 'node:fs';

/** Flags that keep Chromium quiet and working on a closed network, as root or not. */
export const CHROMIUM_ARGS = [
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Chromium's sandbox cannot start as root; elsewhere it stays on. */
export const SANDBOX_ARGS = process.getuid?.() === 0 ? ['--no-sandbox'] : [];

/**
 * Finds Chromium through CHROME_PATH or the usual Debian paths, or says how to get it.
 * @returns the path of a Chrome or Chromium binary
 * @throws Error naming the install command when none is found
 */
export function findChromium() {
  const fromEnvironment = process.env.CHROME_PATH;
  if (fromEnvironment) {
    if (!existsSync(fromEnvironment)) {
      throw new Error(`CHROME_PATH is set to ${fromEnvironment}, but there is no file there.`);
    }
    return fromEnvironment;
  }
  const found = ['/usr/bin/chromium', '/usr/lib/chromium/chromium', '/usr/bin/google-chrome'].find(
    (path) => existsSync(path),
  );
  if (!found) {
    throw new Error(
      'No Chromium found. Install it (Debian: `sudo apt-get install -y chromium`) ' +
        'or point CHROME_PATH at a Chrome or Chromium binary.',
    );
  }
  return found;
}
