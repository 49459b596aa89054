// An upload's socket that lets the daemon's early answer through. A daemon that refuses a request
// (load, import, cp of a stream) answers and closes before it has read the whole body; the next
// write then fails (EPIPE, ECONNRESET) and net would destroy the socket at once, dropping the
// answer still in the kernel's receive queue: the user would see "write EPIPE" where docker prints
// the daemon's words. Here a write that fails so keeps the socket open for reading (the rest of
// the body is dropped); http1.ts stops the upload and waits GRACE_MS for the answer, and reports
// the write's own error if none comes.
import type { Socket } from "node:net";

/** How long a failed upload waits for an answer already on its way. */
export const GRACE_MS = 1000;

const writeFailure = new WeakMap<Socket, Error>();

/** The write error a guarded socket swallowed, if any (the reason when no answer came). */
export function failedWrite(socket: Socket | null | undefined): Error | undefined {
  return socket ? writeFailure.get(socket) : undefined;
}

function peerGone(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === "EPIPE" || code === "ECONNRESET";
}

type WriteCb = (err?: Error | null) => void;

/** Makes `socket`'s writes swallow a gone peer's error (once, reported to `onFail`) instead of destroying it. */
export function guardUpload(socket: Socket, onFail: (err: Error) => void): void {
  const proto = Object.getPrototypeOf(socket) as {
    _write(chunk: unknown, enc: BufferEncoding, cb: WriteCb): void;
    _writev(chunks: unknown, cb: WriteCb): void;
    _final(cb: WriteCb): void;
  };
  const swallow =
    (cb: WriteCb): WriteCb =>
    (err) => {
      if (!err || !peerGone(err)) return cb(err);
      if (!writeFailure.has(socket)) {
        writeFailure.set(socket, err);
        onFail(err);
      }
      cb();
    };
  const s = socket as unknown as typeof proto;
  s._write = (chunk, enc, cb) => {
    if (writeFailure.has(socket)) return cb();
    proto._write.call(socket, chunk, enc, swallow(cb));
  };
  s._writev = (chunks, cb) => {
    if (writeFailure.has(socket)) return cb();
    proto._writev.call(socket, chunks, swallow(cb));
  };
  // No shutdown on a connection whose peer is gone (it would fail the same way).
  s._final = (cb) => {
    if (writeFailure.has(socket)) return cb();
    proto._final.call(socket, cb);
  };
}
