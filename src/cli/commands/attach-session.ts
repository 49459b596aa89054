// The local end of an attached container or exec (run, start -a, attach, exec): the hijacked
// connection's output to stdout/stderr (demultiplexed unless a tty), local stdin to it with the
// detach keys watched, stdin's EOF closing the write side, the local terminal in raw mode for
// -it (restored on every way out) and its size sent on SIGWINCH.
import type { Socket } from "node:net";
import type { Readable } from "node:stream";
import { Demuxer } from "../api/client.ts";
import type { Io } from "./command.ts";
import { DEFAULT_DETACH_KEYS, DetachScanner, watchedDetachKeys } from "./detach-keys.ts";

export interface SessionOptions {
  tty: boolean;
  /** Local stdin is sent. */
  stdin: boolean;
  /** --detach-keys, else config.json's detachKeys, else ctrl-p,ctrl-q. */
  detachKeys?: string | undefined;
}

export interface SessionEnd {
  /** The detach keys were typed. */
  detached: boolean;
}

/** The detach keys the daemon is told, as docker tells it: the flag, else config.json's
 * detachKeys; undefined leaves the daemon's default (ctrl-p,ctrl-q). The daemon watches for them
 * too, so it must be told the keys berth watches for: else it detaches on its own default. */
export function daemonDetachKeys(io: Io, flag: string | undefined): string | undefined {
  if (flag) return flag;
  const c = io.context.config.detachKeys;
  return typeof c === "string" && c !== "" ? c : undefined;
}

/** Detach keys from the flag or the config file. */
export function detachKeysOf(io: Io, flag: string | undefined): string {
  return daemonDetachKeys(io, flag) ?? DEFAULT_DETACH_KEYS;
}

/** Raw mode on the local terminal while `fn` runs (when asked and stdin is one). */
export function rawTerminal(on: boolean): () => void {
  // process.stdin is made on first use (a pipe's loads fs streams): not touched unless needed.
  if (!on) return () => {};
  const stdin = process.stdin;
  if (!stdin.isTTY) return () => {};
  stdin.setRawMode(true);
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    try {
      stdin.setRawMode(false);
    } catch {}
  };
  process.once("exit", restore);
  return restore;
}

/** Sends the terminal's size now and on each SIGWINCH; returns the stop function. */
export function followResize(send: (h: number, w: number) => Promise<unknown>): () => void {
  const out = process.stdout;
  if (!out.isTTY) return () => {};
  // One resize at a time, each with the size at its turn, as docker sends them: two in flight can
  // land swapped (stty sets rows and columns with two ioctls: two SIGWINCHs), leaving the older size.
  let queue: Promise<unknown> = Promise.resolve();
  const push = () => {
    queue = queue.then(() => (out.rows && out.columns ? send(out.rows, out.columns) : undefined)).catch(() => {});
  };
  push();
  process.on("SIGWINCH", push);
  return () => process.off("SIGWINCH", push);
}

/**
 * Runs the session on `conn` until its output ends (resolves {detached:false}) or the detach
 * keys are typed ({detached:true}).
 */
export function runSession(io: Io, conn: Socket | Readable, opts: SessionOptions): Promise<SessionEnd> {
  const keys =
    opts.stdin && opts.tty
      ? watchedDetachKeys(opts.detachKeys ?? DEFAULT_DETACH_KEYS, (line) => io.err.write(`${line}\n`))
      : [];
  return new Promise((resolve, reject) => {
    let settled = false;
    // Only read when stdin is sent: process.stdin is made on first use.
    const stdin = opts.stdin ? process.stdin : undefined;
    const finish = (end: SessionEnd | Error) => {
      if (settled) return;
      settled = true;
      if (stdin) {
        stdin.off("data", onInput);
        stdin.off("end", onInputEnd);
        stdin.pause();
      }
      if (end instanceof Error) reject(end);
      else resolve(end);
    };
    const demux = opts.tty
      ? undefined
      : new Demuxer((stream, data) => {
          if (stream === 2) io.err.write(data);
          else if (stream === 1 || stream === 0) io.out.write(data);
        });
    conn.on("data", (chunk: Buffer) => {
      try {
        if (demux) demux.push(chunk);
        else io.out.write(chunk);
      } catch (e) {
        finish(e as Error);
      }
    });
    conn.on("end", () => finish({ detached: false }));
    conn.on("close", () => finish({ detached: false }));
    conn.on("error", (e) => finish(e));

    const scanner = new DetachScanner(keys);
    const writable = conn as Socket;
    function onInput(chunk: Buffer) {
      // Without a tty docker watches for the keys too, but only -t makes them typeable.
      const { data: pass, detached } = opts.tty ? scanner.push(chunk) : { data: chunk, detached: false };
      if (pass.length > 0 && typeof writable.write === "function") writable.write(pass);
      if (detached) {
        finish({ detached: true });
        writable.destroy();
      }
    }
    function onInputEnd() {
      // stdin's EOF closes the container's stdin: the write side of the connection only.
      if (typeof writable.end === "function" && !settled) writable.end();
    }
    if (stdin) {
      stdin.on("data", onInput);
      stdin.on("end", onInputEnd);
      stdin.resume();
    } else if (typeof writable.end === "function") {
      // Nothing to send: the write side is closed at once, as docker's hijacked stream does. A
      // daemon may hold the stream (and a --rm container's removal) until the client's EOF.
      writable.end();
    }
    // The daemon may have ended the connection, with nothing to say, before the session began
    // (run and start -a wait for the start first): its end and close are gone already.
    if (conn.readableEnded || conn.destroyed) finish({ detached: false });
  });
}

/** The signals docker's proxy passes on (those a terminal user sends). */
const PROXIED = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"] as const;

/**
 * A whole attached session as run, start -a, attach and exec hold it: raw mode and resizes with
 * a tty, signals passed on without one (when `proxy` is given); everything undone on every way
 * out. True when the user detached (the caller says so or not, as docker's command does).
 */
export async function attachedSession(
  io: Io,
  conn: Socket | Readable,
  opts: SessionOptions & {
    resize: (h: number, w: number) => Promise<unknown>;
    proxy?: ((signal: string) => Promise<unknown>) | undefined;
  },
): Promise<boolean> {
  const restore = opts.tty ? rawTerminal(opts.stdin) : () => {};
  const stops: (() => void)[] = [];
  if (opts.tty) stops.push(followResize(opts.resize));
  else if (opts.proxy) {
    const proxy = opts.proxy;
    for (const sig of PROXIED) {
      const pass = () => {
        proxy(sig).catch(() => {});
      };
      process.on(sig, pass);
      stops.push(() => process.off(sig, pass));
    }
  }
  try {
    // On detach docker's run and start say nothing (exit 0); its attach and exec fail with "read
    // escape sequence" (exit 1): the caller says it.
    const end = await runSession(io, conn, opts);
    return end.detached;
  } finally {
    restore();
    for (const stop of stops) stop();
    conn.destroy();
    if (opts.stdin) process.stdin.pause();
  }
}
