// The Engine API versions berthd speaks and the negotiation dockerd does. A client names the
// version it speaks in the path (`/v1.41/containers/json`); no version means the current one.
// docker CLI 28.2 speaks 1.50 and downgrades to what /_ping's Api-Version header says, so
// answering 1.50 keeps it on its own version (shapes of newer fields are each route's business).
import { InvalidArgumentError } from "../../common/errors.ts";

/** The newest version served: docker CLI 28.2's own (`docker version`: "API version: 1.50"). */
export const API_VERSION = "1.50";
/** The oldest version served: dockerd 25 and later refuse anything older than 1.24 too. */
export const MIN_API_VERSION = "1.24";

/**
 * Compares two dotted versions part by part as numbers, as dockerd does (a missing part is 0,
 * "1.41.1" is newer than "1.41"). Parts are compared as digit strings, so a hostile
 * "1.99999999999999999999999" is still ordered correctly. Returns -1, 0 or 1.
 */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(".");
  const pb = b.split(".");
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = digits(pa[i]);
    const y = digits(pb[i]);
    if (x.length !== y.length) return x.length < y.length ? -1 : 1;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** A version part as digits without leading zeros; what is not a number counts as 0 (dockerd's). */
function digits(part: string | undefined): string {
  if (part === undefined || !/^\d+$/.test(part)) return "0";
  return part.replace(/^0+(?=\d)/, "");
}

/**
 * The version a request is served at: the one its path names (checked against the range), or
 * the current one. Errors carry dockerd's words; the edge answers them 400.
 */
export function negotiateVersion(requested: string | undefined): string {
  if (requested === undefined || requested === "") return API_VERSION;
  if (compareVersions(requested, API_VERSION) > 0) {
    throw new InvalidArgumentError(
      `client version ${requested} is too new. Maximum supported API version is ${API_VERSION}`,
    );
  }
  if (compareVersions(requested, MIN_API_VERSION) < 0) {
    throw new InvalidArgumentError(
      `client version ${requested} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`,
    );
  }
  return requested;
}

/** True when `version` is at least `min` (a route's "since 1.44" branches). */
export function versionAtLeast(version: string, min: string): boolean {
  return compareVersions(version, min) >= 0;
}
