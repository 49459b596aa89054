// An upload's connection that lets the daemon's early answer through. A daemon that refuses a
// request (load, import, cp of a stream) answers and closes before it has read the whole body;
// the next write then fails (EPIPE, ECONNRESET) and Node would destroy the socket at once,
// dropping the answer still in the kernel's receive queue: the user saw "write EPIPE" where
// docker prints the daemon's words. Here a write that fails so keeps the socket open for reading
// (the rest of the body is dropped) and the answer is parsed as usual; if none comes within
// GRACE_MS the socket is destroyed with the write's own error.
import type { ClientRequestArgs } from "node:http";
import { createConnection, type NetConnectOpts, type Socket } from "node:net";

/** How long a failed upload waits for an answer already on its way. */
export const GRACE_MS = 1000;

const writeFailure = new WeakMap<Socket, Error>();

/** The write error a socket from uploadConnection swallowed, if any (the reason when no answer came). */
export function failedWrite(socket: Socket | null | undefined): Error | undefined {
  return socket ? writeFailure.get(socket) : undefined;
}

function peerGone(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === "EPIPE" || code === "ECONNRESET";
}

type WriteCb = (err?: Error | null) => void;

/** http.request's createConnection for a request with a body. */
export function uploadConnection(opts: ClientRequestArgs): Socket {
  // http hands its own options on (socketPath or host/port), which net reads as they are.
  const socket = createConnection(opts as NetConnectOpts);
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
        const timer = setTimeout(() => socket.destroy(err), GRACE_MS);
        socket.once("data", () => clearTimeout(timer));
        socket.once("close", () => clearTimeout(timer));
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
  return socket;
}
