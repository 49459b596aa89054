// One process run in a running container through containerd's task Exec, to its end: its
// stdout and stderr collected together (bounded: past the bound the rest is read and dropped,
// so the process never blocks), its exit code, and a deadline after which it is SIGKILLed. The
// health checks' probes run through it; anything that needs a process's output and exit code
// without a client attached (no terminal, no stdin) can. Exits come from the Wait RPC, so it
// needs nothing from berthd's event subscription.
import { randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import type { ContainerdConnection } from "../../client/connection.ts";
import { FifoSet } from "../../client/fifos.ts";

export interface RunResult {
  /** The exit status (128 + n for signal n); -1 when the deadline passed. */
  exitCode: number;
  /** stdout and stderr in the order they came, at most `maxOutput` bytes. */
  output: Buffer;
  /** Output was dropped past the bound. */
  truncated: boolean;
  timedOut: boolean;
}

export interface RunOptions {
  /** Where the fifos' private directory is made (the caller's, 0700). */
  fifoParent: string;
  /** Kill the process after this long (ms). */
  timeoutMs: number;
  maxOutput: number;
  /** A prefix for the exec id (what it is for: "health"). */
  purpose: string;
}

/** How long the output may take to drain after the exit (a child left holding the pipe). */
const DRAIN_MS = 1_000;
/** Node's timers hold at most this many ms (a longer one fires at once). */
export const MAX_TIMER_MS = 2_147_483_647;

/** Output of several streams into one buffer, at most `limit` bytes kept. */
class BoundedOutput {
  readonly #parts: Buffer[] = [];
  #kept = 0;
  truncated = false;
  readonly limit: number;
  constructor(limit: number) {
    this.limit = limit;
  }

  add(b: Buffer): void {
    const room = this.limit - this.#kept;
    if (b.length > room) this.truncated = true;
    if (room <= 0) return;
    const take = b.subarray(0, room);
    this.#parts.push(Buffer.from(take));
    this.#kept += take.length;
  }

  get bytes(): Buffer {
    return Buffer.concat(this.#parts, this.#kept);
  }
}

function drained(stream: Readable | undefined, into: BoundedOutput): Promise<void> {
  if (!stream) return Promise.resolve();
  return new Promise((resolve) => {
    stream.on("data", (b: Buffer) => into.add(b));
    stream.once("end", resolve);
    stream.once("close", resolve);
    stream.once("error", () => resolve());
  });
}

const within = async (p: Promise<unknown>, ms: number): Promise<boolean> => {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([
    p.then(() => true),
    new Promise<boolean>((res) => (timer = setTimeout(() => res(false), Math.min(ms, MAX_TIMER_MS)))),
  ]);
  clearTimeout(timer);
  return r;
};

/**
 * Runs `process` (a runtime-spec process: args, env, cwd, user, ...; no terminal) in the task of
 * `containerId`. Throws when it cannot be started (no such task, a bad process).
 */
export async function runInContainer(
  conn: ContainerdConnection,
  containerId: string,
  process: unknown,
  opts: RunOptions,
): Promise<RunResult> {
  const execId = `${opts.purpose}-${randomBytes(8).toString("hex")}`;
  const fifos = await FifoSet.create(opts.fifoParent, execId, { stdin: false, terminal: false });
  const out = new BoundedOutput(opts.maxOutput);
  const outputDone = Promise.all([drained(fifos.stdout, out), drained(fifos.stderr, out)]);
  let created = false;
  try {
    await conn.tasks.exec({ containerId, execId, process, io: fifos.io });
    created = true;
    const waiter = new AbortController();
    const exited = conn.tasks.wait(containerId, { execId, signal: waiter.signal });
    exited.catch(() => {});
    await conn.tasks.start(containerId, execId);
    let timedOut = false;
    if (!(await within(exited, opts.timeoutMs))) {
      timedOut = true;
      await conn.tasks.kill(containerId, 9, { execId }).catch(() => {});
      if (!(await within(exited, 5_000))) waiter.abort();
    }
    let exitCode = -1;
    try {
      exitCode = (await exited).exitStatus;
    } catch {}
    await within(outputDone, DRAIN_MS);
    return { exitCode: timedOut ? -1 : exitCode, output: out.bytes, truncated: out.truncated, timedOut };
  } finally {
    if (created) {
      // Gone already when the task ended with it.
      await conn.tasks.deleteProcess(containerId, execId).catch(() => {});
    }
    await fifos.close();
  }
}
