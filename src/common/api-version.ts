// Comparing Engine API versions ("1.41" < "1.50"): berthd negotiates with them, the CLI picks the
// version it speaks and which flags a daemon supports. One rule for both sides, dockerd's.

/**
 * Compares two dotted versions part by part as numbers, as dockerd does (a missing part is 0,
 * "1.41.1" is newer than "1.41"). Parts are compared as digit strings, so a hostile
 * "1.99999999999999999999999" is still ordered correctly. Returns -1, 0 or 1.
 */
export function compareApiVersions(a: string, b: string): number {
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
