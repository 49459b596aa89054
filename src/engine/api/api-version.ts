// The Engine API versions berthd speaks and the negotiation dockerd does. A client names the
// version it speaks in the path (`/v1.41/containers/json`); no version means the current one.
// docker CLI 28.2 speaks 1.50 and downgrades to what /_ping's Api-Version header says, so
// answering 1.50 keeps it on its own version (shapes of newer fields are each route's business).
import { compareApiVersions } from "../../common/api-version.ts";
import { InvalidArgumentError } from "../../common/errors.ts";

/** The newest version served: docker CLI 28.2's own (`docker version`: "API version: 1.50"). */
export const API_VERSION = "1.50";
/** The oldest version served: dockerd 25 and later refuse anything older than 1.24 too. */
export const MIN_API_VERSION = "1.24";

/**
 * The version a request is served at: the one its path names (checked against the range), or
 * the current one. Errors carry dockerd's words; the edge answers them 400.
 */
export function negotiateVersion(requested: string | undefined): string {
  if (requested === undefined || requested === "") return API_VERSION;
  if (compareApiVersions(requested, API_VERSION) > 0) {
    throw new InvalidArgumentError(
      `client version ${requested} is too new. Maximum supported API version is ${API_VERSION}`,
    );
  }
  if (compareApiVersions(requested, MIN_API_VERSION) < 0) {
    throw new InvalidArgumentError(
      `client version ${requested} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`,
    );
  }
  return requested;
}

/** True when `version` is at least `min` (a route's "since 1.44" branches). */
export function versionAtLeast(version: string, min: string): boolean {
  return compareApiVersions(version, min) >= 0;
}
