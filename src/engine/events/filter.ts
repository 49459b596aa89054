// Which events a client asked for (GET /events' filters) and from when to when (since, until):
// pure, decided as dockerd's events filter decides. Every key is ANDed; the values of one key are
// ORed. container, volume, network and daemon match an id or a name, exactly or by prefix; image
// matches the image's id or name, with or without its tag; event matches the Action exactly,
// except that exec_create, exec_start and health_status also match their longer actions
// ("exec_start: sh -c ..."), as dockerd allows; label matches the actor's attributes (key, or
// key=value).
import { InvalidArgumentError } from "../../common/errors.ts";
import type { Filters } from "../api/query.ts";
import { familiarName, parseImageRef } from "../images/reference.ts";
import type { EngineEvent } from "./event.ts";

/** dockerd's event filter keys (the swarm ones accepted: they match nothing berthd emits). */
export const EVENT_FILTERS = [
  "config",
  "container",
  "daemon",
  "event",
  "image",
  "label",
  "network",
  "node",
  "plugin",
  "scope",
  "secret",
  "service",
  "type",
  "volume",
] as const;

const PREFIX_ACTIONS = ["exec_create", "exec_start", "health_status"];

/** docker's ExactMatch: true when the key is absent, else when `value` is one of its values. */
function exact(f: Filters, key: string, value: string): boolean {
  const vs = f.get(key);
  return vs === undefined || vs.length === 0 || vs.includes(value);
}

/** docker's FuzzyMatch: exact, or `value` starts with one of the key's values. */
function fuzzy(f: Filters, key: string, value: string): boolean {
  const vs = f.get(key);
  return vs === undefined || vs.length === 0 || vs.some((v) => value === v || value.startsWith(v));
}

/** An event's actor by id or name, for the filter key that names its type. */
function byName(f: Filters, key: string, e: EngineEvent): boolean {
  const name = e.Actor.Attributes.name ?? "";
  return fuzzy(f, key, e.Actor.ID) || fuzzy(f, key, name);
}

/** An image name without its tag, familiar ("busybox" for docker.io/library/busybox:latest). */
function withoutTag(image: string): string {
  try {
    return familiarName(parseImageRef(image).repo);
  } catch {
    return image;
  }
}

function matchImage(f: Filters, e: EngineEvent): boolean {
  if (!f.has("image")) return true;
  const name = e.Actor.Attributes[e.Type === "image" ? "name" : "image"] ?? "";
  return [e.Actor.ID, name, withoutTag(e.Actor.ID), withoutTag(name)].some((v) => exact(f, "image", v));
}

function matchEvent(f: Filters, e: EngineEvent): boolean {
  const vs = f.get("event");
  if (vs === undefined || vs.length === 0) return true;
  if (vs.some((v) => PREFIX_ACTIONS.includes(v))) return fuzzy(f, "event", e.Action);
  return vs.includes(e.Action);
}

function matchLabels(f: Filters, attrs: Readonly<Record<string, string>>): boolean {
  const vs = f.get("label");
  if (vs === undefined || vs.length === 0) return true;
  return vs.every((v) => {
    const eq = v.indexOf("=");
    const key = eq < 0 ? v : v.slice(0, eq);
    if (!Object.hasOwn(attrs, key)) return false;
    return eq < 0 || attrs[key] === v.slice(eq + 1);
  });
}

/** The predicate of parsed (and key-checked) filters. */
export function eventMatcher(f: Filters): (e: EngineEvent) => boolean {
  return (e) =>
    matchEvent(f, e) &&
    exact(f, "type", e.Type) &&
    exact(f, "scope", e.scope) &&
    (!f.has("daemon") || (e.Type === "daemon" && byName(f, "daemon", e))) &&
    byName(f, "container", e) &&
    byName(f, "volume", e) &&
    byName(f, "network", e) &&
    byName(f, "plugin", e) &&
    byName(f, "node", e) &&
    byName(f, "service", e) &&
    byName(f, "secret", e) &&
    byName(f, "config", e) &&
    matchImage(f, e) &&
    matchLabels(f, e.Actor.Attributes);
}

const NANOS = 1_000_000_000n;
/** Unix seconds with an optional fraction (what docker clients send), bounded. */
const UNIX = /^(-?\d{1,12})(?:\.(\d{1,9}))?$/;
/** RFC 3339 with an optional fraction and a zone. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.(\d{1,9}))?(?:Z|[+-]\d{2}:\d{2})$/i;

/**
 * A since/until value as nanoseconds since the epoch; undefined when absent or empty. docker
 * clients send Unix seconds with a fraction ("1700000000.000000001", what `--since 5m` becomes);
 * RFC 3339 is taken too. Anything else is a 400 naming the parameter.
 */
export function parseEventTime(raw: string | null, name: "since" | "until"): bigint | undefined {
  if (raw === null || raw === "") return undefined;
  const unix = UNIX.exec(raw);
  if (unix) {
    // As dockerd reads it: the seconds, plus the fraction as nanoseconds (added, whatever the sign).
    return BigInt(unix[1]!) * NANOS + BigInt((unix[2] ?? "").padEnd(9, "0"));
  }
  const rfc = RFC3339.exec(raw);
  if (rfc) {
    const ms = Date.parse(raw);
    if (Number.isFinite(ms)) {
      const wholeSeconds = BigInt(Math.floor(ms / 1000));
      return wholeSeconds * NANOS + BigInt((rfc[1] ?? "").padEnd(9, "0") || "0");
    }
  }
  throw new InvalidArgumentError(
    `invalid value for ${name}: ${JSON.stringify(raw.slice(0, 64))}: expected Unix seconds (with an optional fraction) or RFC 3339`,
  );
}

/** since and until checked together: since after until is dockerd's 400. */
export function eventWindow(
  sinceRaw: string | null,
  untilRaw: string | null,
): { since: bigint | undefined; until: bigint | undefined } {
  const since = parseEventTime(sinceRaw, "since");
  const until = parseEventTime(untilRaw, "until");
  if (since !== undefined && until !== undefined && until < since) {
    throw new InvalidArgumentError(`\`since\` time (${sinceRaw}) cannot be after \`until\` time (${untilRaw})`);
  }
  return { since, until };
}
