// The container routes of the Engine API over the ContainerManager: create, list, inspect,
// start, stop, restart, kill, wait, remove, rename, resize, attach and logs, with dockerd's
// shapes and statuses. docker CLI 28's `docker run` calls create → attach → wait
// (condition next-exit, or removed with --rm) → start → resize; wait answers its headers at
// once and its body at the exit, since the CLI starts the container only once wait has answered.
import type { ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { RE2JS } from "re2js";
import { InvalidArgumentError } from "../../common/errors.ts";
import { ApiError } from "../api/api-errors.ts";
import { streamContentType } from "../api/hijack.ts";
import { parseFilters, queryBool, queryInt, queryTail } from "../api/query.ts";
import type { ApiServer, Reply } from "../api/server.ts";
import { encodeFrame, STDERR, STDOUT } from "../api/stdcopy.ts";
import { formatEntry, type LogEntry, type LogStream, parseLogTime } from "../logs/entry.ts";
import { openLogEnd, type ReadOptions, readJsonFileLog } from "../logs/json-file.ts";
import { DEFAULT_DETACH_KEYS, DetachScanner, parseDetachKeys } from "./detach-keys.ts";
import type { ContainerManager, WaitCondition } from "./manager.ts";
import type { ContainerRecord } from "./record.ts";
import { hasReadableLog } from "./task-output.ts";
import { checkListFilters, inspectBody, LIST_FILTERS, listEntry, matchesFilters } from "./views.ts";

/** A client that reads slower than this much queued output is cut off, never the container. */
const MAX_CLIENT_BACKLOG = 8 << 20;
const CONDITIONS: readonly WaitCondition[] = ["not-running", "next-exit", "removed"];

/** A client's name pattern (Go's regexp syntax, as dockerd matches names), compiled once. */
function nameMatcher(): (pattern: string, name: string) => boolean {
  const cache = new Map<string, RE2JS | null>();
  return (pattern, name) => {
    let re = cache.get(pattern);
    if (re === undefined) {
      try {
        re = RE2JS.compile(pattern);
      } catch {
        re = null;
      }
      cache.set(pattern, re);
    }
    return re === null ? name.includes(pattern) : re.matcher(name).find();
  };
}

/** 304 answers have no body. */
async function orNotModified(p: Promise<void>, ok: number): Promise<Reply> {
  try {
    await p;
    return { status: ok };
  } catch (err) {
    if (err instanceof ApiError && err.status === 304) return { status: 304 };
    throw err;
  }
}

function optionalInt(q: URLSearchParams, name: string): number | undefined {
  return queryInt(q, name, { min: -1, max: 2_147_483_647 });
}

/** A frame (or raw bytes with a TTY) written to a client; false when the client is cut off. */
function sender(out: Duplex | (NodeJS.WritableStream & { destroy(): void; writableLength: number }), tty: boolean) {
  return (stream: LogStream, data: Buffer): boolean => {
    const o = out as Duplex;
    if (o.destroyed || o.writableEnded) return false;
    o.write(tty ? data : encodeFrame(stream === "stdout" ? STDOUT : STDERR, data));
    if (o.writableLength > MAX_CLIENT_BACKLOG) {
      o.destroy();
      return false;
    }
    return true;
  };
}

/** A logs since/until parameter in ns; none for absent, "" or "0" (dockerd's "no bound"). */
function logTime(raw: string | null, name: string): bigint | undefined {
  if (raw === null || raw === "" || raw === "0") return undefined;
  return parseLogTime(raw, name);
}

/** Containers' disk sizes for `size=1` (SizeRw, SizeRootFs), by id; the daemon's (system/sizes.ts). */
export type ListSizes = (records: readonly ContainerRecord[]) => Promise<ReadonlyMap<string, object>>;

export function addContainerRoutes(api: ApiServer, m: ContainerManager, sizes?: ListSizes): void {
  const names = nameMatcher();

  // The API core's default body limit (1 MiB): real create bodies are a few KiB, an inline
  // seccomp profile some tens.
  api.route("POST", "/containers/create", async (ctx) => ({
    status: 201,
    json: await m.create(await ctx.readJson(), ctx.query.get("name")),
  }));

  api.route("GET", "/containers/json", (ctx) => {
    const q = ctx.query;
    const filters = parseFilters(q.get("filters"), LIST_FILTERS);
    checkListFilters(filters);
    const limit = queryInt(q, "limit", { min: -1, max: 1_000_000 }, -1);
    // before/since name a container: those made before (after) it, stopped ones included (dockerd).
    const createdOf = (key: string) => {
      const ref = filters.get(key)?.[0];
      return ref === undefined ? undefined : Date.parse(m.get(ref).Created);
    };
    const before = createdOf("before");
    const since = createdOf("since");
    const all = queryBool(q, "all") || limit > 0 || ["status", "exited", "before", "since"].some((k) => filters.has(k));
    const now = Date.now();
    let list = m
      .all()
      .filter((r) => all || r.State.Running)
      .filter((r) => matchesFilters(r, filters, names))
      .filter((r) => before === undefined || Date.parse(r.Created) < before)
      .filter((r) => since === undefined || Date.parse(r.Created) > since)
      .sort((a, b) => Date.parse(b.Created) - Date.parse(a.Created));
    if (limit > 0) list = list.slice(0, limit);
    if (!sizes || !queryBool(q, "size")) return { json: list.map((r) => listEntry(r, now)) };
    return sizes(list).then((by) => ({ json: list.map((r) => ({ ...listEntry(r, now), ...by.get(r.ID) })) }));
  });

  api.route("GET", "/containers/{name}/json", (ctx) => ({ json: inspectBody(m.get(ctx.params.name!)) }));

  api.route("POST", "/containers/{name}/start", (ctx) => orNotModified(m.start(ctx.params.name!), 204));

  api.route("POST", "/containers/{name}/stop", (ctx) => {
    const timeout = optionalInt(ctx.query, "t");
    const signal = ctx.query.get("signal") ?? undefined;
    return orNotModified(
      m.stop(ctx.params.name!, { ...(timeout === undefined ? {} : { timeout }), ...(signal ? { signal } : {}) }),
      204,
    );
  });

  api.route("POST", "/containers/{name}/restart", async (ctx) => {
    const timeout = optionalInt(ctx.query, "t");
    const signal = ctx.query.get("signal") ?? undefined;
    await m.restart(ctx.params.name!, { ...(timeout === undefined ? {} : { timeout }), ...(signal ? { signal } : {}) });
    return { status: 204 };
  });

  api.route("POST", "/containers/{name}/update", async (ctx) => ({
    json: await m.update(ctx.params.name!, await ctx.readJson()),
  }));

  api.route("POST", "/containers/{name}/pause", async (ctx) => {
    await m.pause(ctx.params.name!);
    return { status: 204 };
  });

  api.route("POST", "/containers/{name}/unpause", async (ctx) => {
    await m.unpause(ctx.params.name!);
    return { status: 204 };
  });

  api.route("POST", "/containers/{name}/kill", async (ctx) => {
    await m.kill(ctx.params.name!, ctx.query.get("signal"));
    return { status: 204 };
  });

  api.route("POST", "/containers/{name}/wait", async (ctx) => {
    const condition = (ctx.query.get("condition") || "not-running") as WaitCondition;
    if (!CONDITIONS.includes(condition)) throw new InvalidArgumentError(`invalid condition: "${condition}"`);
    const w = m.wait(ctx.params.name!, condition);
    const res = ctx.res;
    // The client goes on (starts the container) once the headers are here.
    res.writeHead(200, { "Content-Type": "application/json" });
    res.flushHeaders();
    res.once("close", () => w.cancel());
    const code = await w.result;
    if (!res.destroyed) res.end(`${JSON.stringify({ StatusCode: code, Error: null })}\n`);
    return undefined;
  });

  api.route("DELETE", "/containers/{name}", async (ctx) => {
    if (queryBool(ctx.query, "link")) throw new InvalidArgumentError("links are not supported");
    await m.remove(ctx.params.name!, { force: queryBool(ctx.query, "force") });
    return { status: 204 };
  });

  api.route("POST", "/containers/{name}/rename", (ctx) => {
    m.rename(ctx.params.name!, ctx.query.get("name") ?? "");
    return { status: 204 };
  });

  api.route("GET", "/containers/{name}/top", async (ctx) => ({
    json: await m.top(ctx.params.name!, ctx.query.get("ps_args")),
  }));

  api.route("POST", "/containers/{name}/resize", async (ctx) => {
    const h = queryInt(ctx.query, "h", { min: 0, max: 65_535 }, 0);
    const w = queryInt(ctx.query, "w", { min: 0, max: 65_535 }, 0);
    await m.resize(ctx.params.name!, h, w);
    return { status: 200, text: "" };
  });

  api.route("POST", "/containers/{name}/attach", async (ctx) => {
    const r = m.get(ctx.params.name!);
    const q = ctx.query;
    const want = { stdin: queryBool(q, "stdin"), stdout: queryBool(q, "stdout"), stderr: queryBool(q, "stderr") };
    const tty = r.Config.Tty;
    const detachKeys = parseDetachKeys(q.get("detachKeys") || DEFAULT_DETACH_KEYS);
    const logs = queryBool(q, "logs") && hasReadableLog(r);
    const stream = queryBool(q, "stream");
    const fromLog = stream && !m.outputThroughFifos(r.ID);
    // The log's end is taken before the client is answered: it starts the container only then.
    const cursor = fromLog && !logs ? await openLogEnd(r.LogPath) : undefined;
    const sock = ctx.hijack(streamContentType(tty, ctx.version));
    const pick = (e: LogEntry) =>
      want[e.stream] ? formatEntry(e, { timestamps: false, details: false, tty }) : undefined;
    if (fromLog) {
      // The output goes to the logger, below berthd: the client follows the log, from its end
      // now (with logs=1 from its start), until the run is over (the exit's task delete has
      // waited for the logger: every line is in the file by then).
      const ac = new AbortController();
      const detach = m.attach(r.ID, { stdout: false, stderr: false, write: () => {}, end: () => ac.abort() });
      sock.once("close", () => {
        detach();
        ac.abort();
      });
      sock.resume();
      const follow: ReadOptions = { follow: true, signal: ac.signal, ...(cursor ? { from: cursor } : {}) };
      await send(readJsonFileLog(r.LogPath, follow), sock, pick);
      detach();
      if (!sock.destroyed) sock.end();
      return undefined;
    }
    if (logs) await send(readJsonFileLog(r.LogPath), sock, pick);
    if (!stream) {
      sock.end();
      return undefined;
    }
    const toClient = sender(sock, tty);
    const detach = m.attach(r.ID, {
      stdout: want.stdout,
      stderr: want.stderr,
      stdin: want.stdin,
      write: (s, data) => void toClient(s, data),
      end: () => sock.end(),
    });
    sock.once("close", detach);
    if (want.stdin) {
      const scanner = new DetachScanner(detachKeys);
      let detached = false;
      sock.on("data", (d: Buffer) => {
        if (detached) return;
        const { data, detached: now } = scanner.push(d);
        if (data.length > 0) m.writeStdin(r.ID, data);
        if (now) {
          // The client leaves; the container runs on with its stdin open.
          detached = true;
          detach();
          m.report(r.ID, "detach");
          sock.end();
        }
      });
      sock.once("end", () => {
        if (!detached) void m.closeStdin(r.ID);
      });
    } else {
      sock.resume();
    }
    return undefined;
  });

  api.route("GET", "/containers/{name}/logs", async (ctx) => {
    const r = m.get(ctx.params.name!);
    const q = ctx.query;
    const want = { stdout: queryBool(q, "stdout"), stderr: queryBool(q, "stderr") };
    if (!want.stdout && !want.stderr) {
      throw new InvalidArgumentError("Bad parameters: you must choose at least one stream");
    }
    const tail = queryTail(q);
    const since = logTime(q.get("since"), "since");
    const until = logTime(q.get("until"), "until");
    const format = { timestamps: queryBool(q, "timestamps"), details: queryBool(q, "details"), tty: r.Config.Tty };
    if (!hasReadableLog(r)) throw new ApiError(501, "configured logging driver does not support reading");
    const res = ctx.res;
    res.writeHead(200, { "Content-Type": streamContentType(r.Config.Tty, ctx.version) });
    res.flushHeaders();
    // A follow ends when the run does (or the client goes): the last lines are read first.
    const ac = new AbortController();
    res.once("close", () => ac.abort());
    let detach: () => void = () => {};
    if (queryBool(q, "follow")) {
      detach = m.attach(r.ID, { stdout: false, stderr: false, follower: true, write: () => {}, end: () => ac.abort() });
      if (!m.isRunning(r.ID)) ac.abort();
    }
    const opts: ReadOptions = {
      follow: queryBool(q, "follow"),
      signal: ac.signal,
      ...(tail === undefined ? {} : { tail }),
      ...(since === undefined ? {} : { since }),
      ...(until === undefined ? {} : { until }),
    };
    try {
      await send(readJsonFileLog(r.LogPath, opts), res, (e) => (want[e.stream] ? formatEntry(e, format) : undefined));
    } finally {
      detach();
    }
    if (!res.destroyed) res.end();
    return undefined;
  });
}

/**
 * The entries a read gives, written to a client at the client's pace (the log is a file: nothing
 * blocks a container while this waits); memory stays one chunk's entries.
 */
async function send(
  entries: AsyncGenerator<LogEntry>,
  out: Duplex | ServerResponse,
  pick: (e: LogEntry) => Buffer | undefined,
): Promise<void> {
  try {
    for await (const e of entries) {
      const data = pick(e);
      if (data === undefined) continue;
      if (out.destroyed) return;
      if (!out.write(data)) await drained(out);
    }
  } finally {
    await entries.return(undefined);
  }
}

function drained(out: Duplex | ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off("drain", done);
      out.off("close", done);
      resolve();
    };
    out.once("drain", done);
    out.once("close", done);
  });
}
