// berth stats [CONTAINER...]: GET /containers/{id}/stats per container (a stream of readings, or
// one with --no-stream), shown as docker shows them: the table redrawn in place every half second
// (cursor home, each line erased to its end, the rest of the screen cleared), or printed once.
// With no names, the running containers (all with -a), followed through the daemon's events.
import { jsonLines } from "../api/client.ts";
import { CliError, DaemonError } from "../errors.ts";
import { emptyEntry, entryOf, STATS_TABLE, type StatsDoc, type StatsEntry, statsRow } from "../format/stats-context.ts";
import { renderFormatted } from "../format/table.ts";
import { bool, type Command, type Io } from "./command.ts";
import { formatOf } from "./config-format.ts";
import type { EngineEvent } from "./events.ts";

/** docker's redraw period. */
const TICK_MS = 500;
/** A stats document is a few KiB; one line longer than this is refused. */
const MAX_DOC_BYTES = 1024 * 1024;

interface Tracked {
  entry: StatsEntry;
  /** Settles at the first reading or the first error. */
  first: Promise<void>;
  error?: string;
  stop(): void;
}

/** Follows one container's readings into its entry until the stream ends or stop() is called. */
function track(io: Io, container: string, stream: boolean): Tracked {
  const t: Tracked = { entry: emptyEntry(container), first: Promise.resolve(), stop: () => {} };
  let stopped = false;
  let body: NodeJS.ReadableStream & { destroy?: () => void };
  t.stop = () => {
    stopped = true;
    body?.destroy?.();
  };
  t.first = new Promise<void>((resolve) => {
    (async () => {
      try {
        body = await io.client().stream("GET", `/containers/${encodeURIComponent(container)}/stats`, {
          query: { stream },
        });
        if (stopped) body.destroy?.();
        for await (const doc of jsonLines<StatsDoc>(body as never, MAX_DOC_BYTES)) {
          t.entry = entryOf(container, doc && typeof doc === "object" ? doc : {});
          resolve();
          if (!stream) break;
        }
        // A stream the daemon ended (the container removed): its columns show "--", as docker's.
        if (stream && !stopped) t.entry = { ...t.entry, invalid: true };
      } catch (e) {
        if (stopped) return;
        t.error = e instanceof DaemonError ? e.message : (e as Error).message;
        t.entry = { ...t.entry, invalid: true };
      } finally {
        resolve();
      }
    })();
  });
  return t;
}

/** The frame docker 28 draws on a live table: home, each line erased past its end, the rest cleared. */
export function liveFrame(table: string): string {
  return `\x1b[H${table.replaceAll("\n", "\x1b[K\n")}\x1b[J`;
}

const command: Command = {
  usage: "stats [OPTIONS] [CONTAINER...]",
  summary: "Display a live stream of container(s) resource usage statistics",
  aliases: "berth container stats, berth stats",
  flags: [
    { long: "all", short: "a", kind: "bool", help: "Show all containers (default shows just running)" },
    { long: "format", kind: "string", help: "Format output using a custom template" },
    { long: "no-stream", kind: "bool", help: "Disable streaming stats and only pull the first result" },
    { long: "no-trunc", kind: "bool", help: "Do not truncate output" },
  ],
  async run(io, p) {
    const stream = !bool(p, "no-stream");
    const all = bool(p, "all");
    const format = formatOf(io, p, "statsFormat");
    const trunc = !bool(p, "no-trunc");
    const render = (list: Tracked[]) =>
      renderFormatted(
        format,
        list.map((t) => statsRow(t.entry, trunc)),
        STATS_TABLE,
      );
    // Checked before anything is sent: a bad template fails at once, as docker's formatter does.
    render([]);
    const tracked = new Map<string, Tracked>();
    const add = (container: string) => {
      if (!tracked.has(container)) tracked.set(container, track(io, container, stream));
    };
    const showAll = p.args.length === 0;
    let events: { destroy(): void } | undefined;
    try {
      if (showAll) {
        if (stream) events = await followEvents(io, all, add, (id) => forget(tracked, id));
        const list = await io.client().json<{ Id?: string }[]>("GET", "/containers/json", { query: { all } });
        for (const c of Array.isArray(list) ? list : []) if (typeof c?.Id === "string") add(c.Id.slice(0, 12));
        await Promise.all([...tracked.values()].map((t) => t.first));
        // A container gone between the list and its first reading is left out.
        for (const [k, t] of tracked) if (t.error !== undefined) forget(tracked, k);
      } else {
        for (const name of p.args) add(name);
        await Promise.all([...tracked.values()].map((t) => t.first));
        const errors = [...tracked.values()].flatMap((t) => (t.error === undefined ? [] : [t.error]));
        if (errors.length > 0) throw new CliError(errors.join("\n"));
      }
      if (!stream) {
        io.out.write(render([...tracked.values()]));
        return;
      }
      for (;;) {
        io.out.write(liveFrame(render([...tracked.values()])));
        await new Promise((r) => setTimeout(r, TICK_MS));
        // New containers (events) get their first reading before they are drawn.
        await Promise.race([
          Promise.all([...tracked.values()].map((t) => t.first)),
          new Promise((r) => setTimeout(r, TICK_MS)),
        ]);
      }
    } finally {
      events?.destroy();
      for (const t of tracked.values()) t.stop();
    }
  },
};

function forget(tracked: Map<string, Tracked>, id: string): void {
  tracked.get(id)?.stop();
  tracked.delete(id);
}

/** Containers that start (or are created, with -a) are added; those that die (or go) are dropped. */
async function followEvents(
  io: Io,
  all: boolean,
  add: (id: string) => void,
  drop: (id: string) => void,
): Promise<{ destroy(): void }> {
  const body = await io.client().stream("GET", "/events", {
    query: { filters: JSON.stringify({ type: { container: true } }) },
  });
  (async () => {
    try {
      for await (const e of jsonLines<EngineEvent>(body, MAX_DOC_BYTES)) {
        const id = typeof e?.Actor?.ID === "string" ? e.Actor.ID.slice(0, 12) : "";
        if (id === "") continue;
        if (e.Action === "start" || (all && e.Action === "create")) add(id);
        else if ((e.Action === "die" && !all) || e.Action === "destroy") drop(id);
      }
    } catch {}
  })();
  return body;
}

export default command;
