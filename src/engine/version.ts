// What berthd reports as its version (/version, /info's ServerVersion, the Server header).
// Clients gate features on the API version (api/api-version.ts), not on this.
import { BERTH_VERSION } from "../common/version.ts";

export const ENGINE_VERSION = {
  version: BERTH_VERSION,
  /** No commit is recorded in the build yet; said rather than invented. */
  gitCommit: "n/a",
} as const;
