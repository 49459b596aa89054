// The bytes of one attached exec between its fifos and the client's hijacked connection: output
// as stdcopy frames (raw with a TTY) at the client's pace (a slow client holds the exec's output
// back, as dockerd's copy does, never the container's), stdin from the client with the detach
// keys scanned out. An output stream the client did not ask for is read and dropped, so the
// process never blocks on it.
import type { Duplex, Readable } from "node:stream";
import type { FifoSet } from "../../client/fifos.ts";
import { encodeFrame, STDERR, STDOUT } from "../api/stdcopy.ts";
import { DetachScanner } from "../containers/detach-keys.ts";

export interface ExecClient {
  socket: Duplex;
  /** Raw bytes (a TTY) or stdcopy frames. */
  raw: boolean;
  stdout: boolean;
  stderr: boolean;
}

/** Copies the fifos' output to the client (if any); resolves once every output stream has ended. */
export function pumpOutput(fifos: FifoSet, client: ExecClient | undefined): Promise<void> {
  const ends: Promise<void>[] = [];
  for (const [readable, stream, wanted] of [
    [fifos.stdout, STDOUT, client?.stdout === true],
    [fifos.stderr, STDERR, client?.stderr === true],
  ] as const) {
    if (!readable) continue;
    ends.push(ended(readable));
    const out = client?.socket;
    if (!out || !wanted) {
      readable.resume();
      continue;
    }
    readable.on("data", (chunk: Buffer) => {
      if (out.destroyed || out.writableEnded) return;
      if (!out.write(client.raw ? chunk : encodeFrame(stream, chunk))) {
        readable.pause();
        const go = () => {
          out.off("drain", go);
          out.off("close", go);
          readable.resume();
        };
        out.once("drain", go);
        out.once("close", go);
      }
    });
  }
  return Promise.all(ends).then(() => {});
}

function ended(r: Readable): Promise<void> {
  return new Promise((resolve) => {
    r.once("end", resolve);
    r.once("close", resolve);
  });
}

export interface InputHandlers {
  data(b: Buffer): void;
  /** The client ended its stdin. */
  end(): void;
  /** The client typed the detach keys: its attach ends, the exec runs on. */
  detach(): void;
}

/** The client's stdin through the detach-key scanner. */
export function pumpInput(socket: Duplex, keys: readonly number[], h: InputHandlers): void {
  const scanner = new DetachScanner(keys);
  let detached = false;
  socket.on("data", (d: Buffer) => {
    if (detached) return;
    const { data, detached: now } = scanner.push(d);
    if (data.length > 0) h.data(data);
    if (now) {
      detached = true;
      h.detach();
    }
  });
  socket.once("end", () => {
    if (!detached) h.end();
  });
}

/** An error of the start written to an attached client, as dockerd writes it (a stdout frame). */
export function errorBytes(message: string, raw: boolean): Buffer {
  const text = `${message}\r\n`;
  return raw ? Buffer.from(text) : encodeFrame(STDOUT, text);
}
