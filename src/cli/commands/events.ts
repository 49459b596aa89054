// berth events: GET /events (streamed until --until or ^C), a line per event as docker prints it.
import { jsonLines } from "../api/client.ts";
import { type Command, list, str } from "./command.ts";
import { filtersOf } from "./output.ts";
import { timeArg } from "./times.ts";

export interface EngineEvent {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
  /** Kept as the daemon's digits (a string): nanoseconds since 1970 do not fit a double. */
  timeNano?: number | string;
}

/** docker's RFC3339NanoFixed in UTC: always nine digits of fraction. */
function rfc3339Nano(timeNano: number | string): string {
  const ns = typeof timeNano === "string" ? BigInt(timeNano) : BigInt(Math.round(timeNano));
  const secs = ns / 1_000_000_000n;
  const frac = (ns % 1_000_000_000n).toString().padStart(9, "0");
  const base = new Date(Number(secs) * 1000).toISOString().slice(0, 19);
  return `${base}.${frac}Z`;
}

/** "2026-12-05T18:50:00.1234Z container start <id> (image=busybox, name=web)". */
export function eventLine(e: EngineEvent): string {
  const when = e.timeNano ? `${rfc3339Nano(e.timeNano)} ` : e.time ? `${rfc3339Nano(e.time * 1e9)} ` : "";
  const attrs = Object.entries(e.Actor?.Attributes ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`);
  return `${when}${e.Type ?? ""} ${e.Action ?? ""} ${e.Actor?.ID ?? ""}${attrs.length > 0 ? ` (${attrs.join(", ")})` : ""}`;
}

/**
 * An event as docker's --format json prints it: timeNano last (its place in docker's struct), as
 * the daemon's exact digits. Only that top-level field is touched: an attribute named timeNano
 * stays a string.
 */
export function eventJson(e: EngineEvent): string {
  const { timeNano, ...rest } = e;
  const text = JSON.stringify(rest);
  if (timeNano === undefined) return text;
  const digits = typeof timeNano === "string" && /^\d+$/.test(timeNano) ? timeNano : JSON.stringify(timeNano);
  return `${text.slice(0, -1)}${text === "{}" ? "" : ","}"timeNano":${digits}}`;
}

const command: Command = {
  usage: "events [OPTIONS]",
  summary: "Get real time events from the server",
  aliases: "berth system events, berth events",
  args: { max: 0 },
  flags: [
    { long: "filter", short: "f", kind: "strings", type: "filter", help: "Filter output based on conditions provided" },
    { long: "format", kind: "string", help: "Format output using a custom template" },
    { long: "since", kind: "string", help: "Show all events created since timestamp" },
    { long: "until", kind: "string", help: "Stream events until this timestamp" },
  ],
  async run(io, p) {
    const since = str(p, "since");
    const until = str(p, "until");
    const body = await io.client().stream("GET", "/events", {
      query: {
        since: since ? timeArg(since) : undefined,
        until: until ? timeArg(until) : undefined,
        filters: filtersOf(list(p, "filter"), io.name),
      },
    });
    const format = str(p, "format");
    let render: ((e: EngineEvent) => string) | undefined;
    if (format === "json" || format === "{{json .}}") render = eventJson;
    else if (format) {
      const { compileTemplate } = await import("../format/template.ts");
      const t = compileTemplate(format);
      render = (e) => t(e);
    }
    const exactNanos = (key: string, value: unknown, ctx: { source?: string }) =>
      key === "timeNano" && typeof ctx?.source === "string" && /^\d+$/.test(ctx.source) ? ctx.source : value;
    for await (const e of jsonLines<EngineEvent>(body, undefined, exactNanos))
      io.out.write(`${render ? render(e) : eventLine(e)}\n`);
  },
};
export default command;
