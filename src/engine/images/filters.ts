// The filters of GET /images/json and POST /images/prune, as dockerd applies them: dangling
// (true/false), label (key or key=value, every one must hold; label! none may), reference (a glob
// over the familiar name, with or without its tag: dockerd's FamiliarMatch), before/since (an
// image, compared by creation time), until (prune: a time). Patterns are compiled by RE2, so a
// hostile glob costs linear time.
import { RE2JS } from "re2js";
import { InvalidArgumentError } from "../../common/errors.ts";
import { type Filters, labelHolds } from "../api/query.ts";
import { type Image, isDangling, unixSeconds } from "./image.ts";
import { familiarName } from "./reference.ts";

export const LIST_FILTERS = ["dangling", "label", "reference", "before", "since"] as const;
export const PRUNE_FILTERS = ["dangling", "label", "label!", "until"] as const;

/** dangling=true|false; more than one value, or another word, is dockerd's "Invalid filter". */
export function danglingFilter(filters: Filters): boolean | undefined {
  const v = filters.get("dangling");
  if (!v || v.length === 0) return undefined;
  const words = v.map((x) => x.toLowerCase());
  for (const w of words) {
    if (w !== "true" && w !== "false" && w !== "1" && w !== "0")
      throw new InvalidArgumentError(`Invalid filter 'dangling=${w.slice(0, 64)}'`);
  }
  return words.includes("true") || words.includes("1");
}

/** Go's path.Match glob as an RE2 pattern: `*` and `?` stop at '/', classes as written. */
export function globToRe2(glob: string): RE2JS {
  let out = "^";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else if (c === "\\" && i + 1 < glob.length) out += RE2JS.quote(glob[++i]!);
    else if (c === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end < 0) throw new InvalidArgumentError(`invalid reference filter ${JSON.stringify(glob.slice(0, 64))}`);
      let body = glob.slice(i + 1, end);
      if (body.startsWith("^")) body = `^${body.slice(1).replace(/[\]\\]/g, "\\$&")}`;
      else body = body.replace(/[\]\\^]/g, "\\$&");
      out += `[${body}]`;
      i = end;
    } else out += RE2JS.quote(c);
  }
  try {
    return RE2JS.compile(`${out}$`);
  } catch {
    throw new InvalidArgumentError(`invalid reference filter ${JSON.stringify(glob.slice(0, 64))}`);
  }
}

/** dockerd's FamiliarMatch: the familiar name with its tag, or its repository alone. */
function referenceMatches(pattern: RE2JS, name: string): boolean {
  const familiar = familiarName(name);
  if (pattern.matches(familiar)) return true;
  const at = familiar.indexOf("@");
  const colon = familiar.lastIndexOf(":");
  const repo =
    at >= 0 ? familiar.slice(0, at) : colon > familiar.lastIndexOf("/") ? familiar.slice(0, colon) : familiar;
  return pattern.matches(repo);
}

function labelsMatch(image: Image, kvs: readonly string[], every: boolean): boolean {
  const raw = image.config.config.Labels;
  const labels = raw && typeof raw === "object" && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const holds = (kv: string) => labelHolds(labels, kv);
  return every ? kvs.every(holds) : !kvs.some(holds);
}

/** A time filter's value: unix seconds (with a fraction) or RFC 3339; bounded. */
export function parseUntil(v: string): number {
  if (/^\d{1,12}(\.\d{1,9})?$/.test(v)) return Number(v);
  const ms = v.length <= 64 ? Date.parse(v) : Number.NaN;
  if (!Number.isFinite(ms)) throw new InvalidArgumentError(`invalid filter 'until=${v.slice(0, 64)}'`);
  return ms / 1000;
}

/**
 * The reference filter over one of an image's names, or undefined without one. A listing shows
 * only the names it matches (dockerd's RepoTags and RepoDigests under `reference=`), and an image
 * none of whose names match is left out.
 */
export function referenceNameFilter(filters: Filters): ((name: string) => boolean) | undefined {
  const refs = (filters.get("reference") ?? []).map(globToRe2);
  if (refs.length === 0) return undefined;
  return (name) => refs.some((p) => referenceMatches(p, name));
}

/**
 * A predicate over images for `filters`; `find` resolves before/since's images (its 404 is the
 * request's).
 */
export function imageFilter(filters: Filters, find: (ref: string) => Image): (image: Image) => boolean {
  const dangling = danglingFilter(filters);
  const labels = filters.get("label") ?? [];
  const notLabels = filters.get("label!") ?? [];
  const named = referenceNameFilter(filters);
  const before = (filters.get("before") ?? []).map((r) => unixSeconds(find(r).facts.created));
  const since = (filters.get("since") ?? []).map((r) => unixSeconds(find(r).facts.created));
  const until = (filters.get("until") ?? []).map(parseUntil);
  return (image) => {
    const created = unixSeconds(image.facts.created);
    if (dangling !== undefined && isDangling(image) !== dangling) return false;
    if (labels.length > 0 && !labelsMatch(image, labels, true)) return false;
    if (notLabels.length > 0 && !labelsMatch(image, notLabels, false)) return false;
    if (named && !image.names.some(named)) return false;
    if (before.some((t) => created >= t)) return false;
    if (since.some((t) => created <= t)) return false;
    if (until.some((t) => created >= t)) return false;
    return true;
  };
}
