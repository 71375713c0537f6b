/** Flags that keep Chromium quiet and working on a closed network, as root or not. */
export const CHROMIUM_ARGS: string[];
/** `--no-sandbox` when running as root, else nothing. */
export const SANDBOX_ARGS: string[];
/** The path of a Chrome or Chromium binary; throws naming the install command when none. */
export function findChromium(): string;
