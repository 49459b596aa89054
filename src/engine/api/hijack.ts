// Taking over a connection for attach and exec: the client asks `Upgrade: tcp` (docker CLI,
// docker-py and dockerode all do), berthd answers `101 UPGRADED` with the stream's content type
// and from then on the socket carries raw bytes both ways (stdin in, output out: multiplexed
// stdcopy frames without a TTY, raw bytes with one). A client that did not ask for the upgrade
// gets a plain 200 response whose body is the output stream.
import type { IncomingMessage, ServerResponse } from "node:http";
import { Duplex } from "node:stream";

export const RAW_STREAM = "application/vnd.docker.raw-stream";
export const MULTIPLEXED_STREAM = "application/vnd.docker.multiplexed-stream";
export type StreamContentType = typeof RAW_STREAM | typeof MULTIPLEXED_STREAM;

/** The connection of a request node handed over as an upgrade (its 'upgrade' event). */
export interface UpgradedConnection {
  socket: Duplex;
  /** Bytes the client sent after the request head (the first of its stdin). */
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
  res.writeHead(200, { "Content-Type": contentType, Connection: "close" });
  res.flushHeaders();
  return Duplex.from({ readable: req, writable: res });
}
