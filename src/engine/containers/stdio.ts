// A running task's stdio on berthd's side, for the containers whose output goes through fifos
// (task-output.ts: a TTY, an open stdin, or no log): the fifos containerd's shim writes to
// (FifoSet), read here into their berth-logger (fifo-logger.ts; none for the "none" driver) and
// out to every
// attached client; stdin from an attached client into the stdin fifo. Other containers' output
// goes to their logger below berthd; their attached clients follow the log (routes.ts).
import type { FifoSet } from "../../client/fifos.ts";
import type { LogStream } from "../logs/entry.ts";
import type { FifoLogger } from "./fifo-logger.ts";

/** An attached client: what it wants and where its bytes go. */
export interface Attachment {
  stdout: boolean;
  stderr: boolean;
  /** Whether the client sends stdin too. */
  stdin?: boolean;
  /**
   * A reader of the log waiting only for the run's end (docker logs -f), not an attached client:
   * no "attach" event (dockerd has none for a follow).
   */
  follower?: boolean;
  /** Output for the client (raw with a TTY, the caller frames it otherwise). */
  write(stream: LogStream, data: Buffer): void;
  /** The output is over (the process and its copies are done). */
  end(): void;
}

/** Attachments waiting for, or following, a container's output, kept across its runs. */
export class Attachments {
  readonly #set = new Set<Attachment>();

  add(a: Attachment): () => void {
    this.#set.add(a);
    return () => this.#set.delete(a);
  }

  send(stream: LogStream, data: Buffer): void {
    for (const a of this.#set) if (a[stream]) a.write(stream, data);
  }

  /** Ends every attachment (the run is over, or the container is gone). */
  endAll(): void {
    const all = [...this.#set];
    this.#set.clear();
    for (const a of all) a.end();
  }
}

/** Bytes of stdin kept for a task that has not opened its stdin yet. */
export const MAX_PENDING_STDIN = 1 << 20;

export class TaskStdio {
  readonly fifos: FifoSet;
  /** Resolves once every output stream has ended (or `drain` gave up). */
  readonly drained: Promise<void>;
  readonly #log: FifoLogger | undefined;

  constructor(fifos: FifoSet, log: FifoLogger | undefined, attachments: Attachments) {
    this.fifos = fifos;
    this.#log = log;
    const ends: Promise<void>[] = [];
    for (const [stream, readable] of [
      ["stdout", fifos.stdout],
      ["stderr", fifos.stderr],
    ] as const) {
      if (!readable) continue;
      readable.on("data", (chunk: Buffer) => {
        log?.write(stream, chunk);
        attachments.send(stream, chunk);
      });
      ends.push(
        new Promise<void>((resolve) => {
          readable.once("end", resolve);
          readable.once("close", resolve);
        }),
      );
    }
    this.drained = Promise.all(ends).then(() => {});
  }

  /** Feeds the process's stdin (dropped when it has none or it is closed). */
  writeStdin(data: Buffer): void {
    const s = this.fifos.stdin;
    if (s && !s.writableEnded && !s.destroyed) s.write(data);
  }

  /** Waits up to `ms` for the output to end, then closes the fifos and the log. */
  async close(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.drained, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
    await this.fifos.close();
    await this.#log?.close();
  }
}
