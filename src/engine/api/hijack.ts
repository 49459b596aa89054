// Taking over a connection for attach and exec: the client asks `Upgrade: tcp` (docker CLI,
// docker-py and dockerode all do), berthd answers `101 UPGRADED` with the stream's content type
// and from then on the socket carries raw bytes both ways (stdin in, output out: multiplexed
// stdcopy frames without a TTY, raw bytes with one). A client that did not ask for the upgrade
// gets a plain 200 response whose body is the output stream, called raw-stream whatever it holds
// (dockerd names the frames only in its 101 answer).
import type { IncomingMessage, ServerResponse } from "node:http";
import { Duplex } from "node:stream";
import { InvalidArgumentError } from "../../common/errors.ts";
import { PayloadTooLargeError } from "./api-errors.ts";
import { versionAtLeast } from "./api-version.ts";

export const RAW_STREAM = "application/vnd.docker.raw-stream";
export const MULTIPLEXED_STREAM = "application/vnd.docker.multiplexed-stream";
export type StreamContentType = typeof RAW_STREAM | typeof MULTIPLEXED_STREAM;

/**
 * The content type of a container's output stream (attach, exec start, logs), as dockerd names
 * it: multiplexed frames are announced as such only from API 1.42 on; before, every stream was
 * called raw, and clients of those versions (docker CLI 20.10, old docker-py) expect that.
 */
export function streamContentType(tty: boolean, version: string): StreamContentType {
  return !tty && versionAtLeast(version, "1.42") ? MULTIPLEXED_STREAM : RAW_STREAM;
}

/** The connection of a request node handed over as an upgrade (its 'upgrade' event). */
export interface UpgradedConnection {
  socket: Duplex;
  /** Bytes the client sent after the request head (its body, then the first of its stdin). */
  head: Buffer;
}

/** Whether the client asked to take the connection over (`Connection: Upgrade`, `Upgrade: tcp`). */
export function wantsUpgrade(req: IncomingMessage): boolean {
  const connection = String(req.headers.connection ?? "").toLowerCase();
  const upgrade = String(req.headers.upgrade ?? "").toLowerCase();
  return connection.split(",").some((t) => t.trim() === "upgrade") && upgrade === "tcp";
}

/** The 101 answer, written before any stream byte. */
export function upgradeResponse(contentType: StreamContentType): string {
  return `HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`;
}

/**
 * Answers the request with the stream's head and returns the stream: the raw socket after a
 * 101 when the connection was upgraded (with the bytes that came behind the request head
 * pushed back to be read first), else the request body and the response body as one duplex
 * (no input, output as the response body, the connection closed at its end).
 */
export function hijack(
  req: IncomingMessage,
  res: ServerResponse,
  upgraded: UpgradedConnection | undefined,
  contentType: StreamContentType,
): Duplex {
  if (upgraded) {
    const { socket, head } = upgraded;
    // The response object was only a stand-in: nothing of it is written from here on.
    res.detachSocket(socket as never);
    socket.write(upgradeResponse(contentType));
    if (head.length > 0) socket.unshift(head);
    return socket;
  }
  res.writeHead(200, { "Content-Type": RAW_STREAM, Connection: "close" });
  res.flushHeaders();
  return Duplex.from({ readable: req, writable: res });
}

/**
 * The body of an upgraded request (exec start's options). node hands the connection over right
 * after the head without reading a body, so its Content-Length bytes are the first of the
 * connection's: they are taken off here (from `head`, then the socket), bounded by `limit`, and
 * what follows is left in `head` for the stream. Docker's clients send such a body with a length;
 * a chunked one is refused.
 */
export function readUpgradedBody(req: IncomingMessage, upgraded: UpgradedConnection, limit: number): Promise<Buffer> {
  if (req.headers["transfer-encoding"] !== undefined) {
    return Promise.reject(new InvalidArgumentError("a chunked body on an upgraded connection is not supported"));
  }
  const declared = Number(req.headers["content-length"] ?? 0);
  if (!Number.isSafeInteger(declared) || declared < 0) {
    return Promise.reject(new InvalidArgumentError("invalid Content-Length"));
  }
  if (declared > limit) return Promise.reject(new PayloadTooLargeError(limit));
  const take = () => {
    const body = upgraded.head.subarray(0, declared);
    upgraded.head = upgraded.head.subarray(declared);
    return body;
  };
  if (upgraded.head.length >= declared) return Promise.resolve(take());
  const { socket } = upgraded;
  return new Promise((resolve, reject) => {
    // 'readable' and read(), not 'data': once its listener is gone the socket is back in the
    // state a stream starts in, so the handler's own 'data' listener makes it flow (after a
    // pause() it would not).
    const done = (err?: Error) => {
      socket.off("readable", onReadable);
      socket.off("end", onEnd);
      socket.off("close", onEnd);
      if (err) reject(err);
      else resolve(take());
    };
    const onReadable = () => {
      for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) {
        upgraded.head = Buffer.concat([upgraded.head, chunk]);
        if (upgraded.head.length >= declared) {
          done();
          return;
        }
      }
    };
    const onEnd = () => done(new InvalidArgumentError("the client closed the connection before the body ended"));
    socket.on("readable", onReadable);
    socket.once("end", onEnd);
    socket.once("close", onEnd);
  });
}
