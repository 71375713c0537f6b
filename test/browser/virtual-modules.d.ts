// The module the test runner's sync-server plugin serves (test/browser/support/sync-server-plugin.mjs).
declare module '*/__sync-server.js' {
  /** URL of the normal sync server. */
  export const endpoint: string;
  /** URL of a sync server whose `/events` answers 501, like a gateway that cannot stream. */
  export const noStreamEndpoint: string;
}
