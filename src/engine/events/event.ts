// One engine event, as dockerd's events.Message carries it: what happened (Type, Action), to what
// (Actor: its id and attributes), where (scope "local": berthd is never a swarm node) and when
// (Unix seconds and nanoseconds). The answer's shape per API version is here too.
import { versionAtLeast } from "../api/api-version.ts";

/** The object types dockerd's events name; berthd emits container and image events today. */
export const EVENT_TYPES = [
  "builder",
  "config",
  "container",
  "daemon",
  "image",
  "network",
  "node",
  "plugin",
  "secret",
  "service",
  "volume",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface EventActor {
  ID: string;
  Attributes: Readonly<Record<string, string>>;
}

export interface EngineEvent {
  Type: EventType;
  Action: string;
  Actor: EventActor;
  scope: "local";
  /** Nanoseconds since the Unix epoch (too large for a double: kept as a bigint). */
  timeNano: bigint;
}

/**
 * The JSON text of `e` for API `version`, one line. `time`/`timeNano` as dockerd writes them
 * (timeNano exact: JSON's number, not a double). Until API 1.52 a container or image event also
 * carries the old fields status, id and from (the image attribute), as dockerd still sends them.
 */
export function eventJson(e: EngineEvent, version: string): string {
  const legacy =
    !versionAtLeast(version, "1.52") && (e.Type === "container" || e.Type === "image")
      ? {
          status: e.Action,
          id: e.Actor.ID,
          ...(e.Type === "container" && e.Actor.Attributes.image !== undefined
            ? { from: e.Actor.Attributes.image }
            : {}),
        }
      : {};
  // Attributes sorted, as Go writes a map.
  const attributes = Object.fromEntries(Object.entries(e.Actor.Attributes).sort(([a], [b]) => (a < b ? -1 : 1)));
  const head = JSON.stringify({
    ...legacy,
    Type: e.Type,
    Action: e.Action,
    Actor: { ID: e.Actor.ID, Attributes: attributes },
    scope: e.scope,
  });
  const seconds = e.timeNano / 1_000_000_000n;
  return `${head.slice(0, -1)},"time":${seconds},"timeNano":${e.timeNano}}`;
}

/** The Action of an exec event as dockerd words it: "exec_create: <entrypoint> <args...>". */
export function execAction(kind: "exec_create" | "exec_start", entrypoint: string, args: readonly string[]): string {
  return `${kind}: ${entrypoint} ${args.join(" ")}`;
}

/** The Action of a health event: "health_status: healthy". */
export function healthAction(status: string): string {
  return `health_status: ${status}`;
}
