// What berthd reports as its version (/version, /info's ServerVersion, the Server header).
// Clients gate features on the API version (api/api-version.ts), not on this.
export const ENGINE_VERSION = {
  version: "0.1.0",
  /** No commit is recorded in the build yet; said rather than invented. */
  gitCommit: "n/a",
} as const;
