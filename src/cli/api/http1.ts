// HTTP/1.1 on a node:net socket, as much as the Engine API client needs: one request per
// connection (Connection: close), its body sized or chunked, and a strict, bounded parser of the
// answer (a hostile daemon can neither grow it without bound nor make it wait for bytes that the
// framing says will not come). node:http is not used: loading its modules is start-up time, paid
// by every command (bench/README.md, cli).
import type { Socket } from "node:net";
import { Readable } from "node:stream";
import { failedWrite, GRACE_MS, guardUpload } from "./early-answer.ts";

/** An answer's headers, names in lower case (set-cookie as a list; other repeats joined by ", "). */
export type HttpHeaders = { [name: string]: string | string[] | undefined };

/** The status line and headers together (and a chunked body's trailers) may take this much. */
export const MAX_HEAD_BYTES = 64 * 1024;
export const MAX_HEADERS = 100;
/** A chunk's size line (size, extensions) may take this much. */
export const MAX_CHUNK_LINE = 4096;

/** The daemon's answer broke HTTP/1.1 or a bound; the client names the request. */
export class MalformedAnswer extends Error {}

/** The request's own body failed (a file that could not be read): not the daemon's fault. */
export class BodyError extends Error {}

export interface OutgoingRequest {
  method: string;
  /** The request target, already escaped. */
  path: string;
  headers: Record<string, string>;
  /** A Buffer or string is sent with Content-Length, a Readable with chunked encoding. */
  body?: Buffer | string | Readable;
  /** A 101 hands the socket over (attach, exec start). */
  upgrade?: boolean;
}

export type Exchange =
  | { kind: "response"; response: HttpResponse }
  | { kind: "upgraded"; socket: Socket; statusCode: number; headers: HttpHeaders };

/** An answer whose head is in: its body as a Readable. Destroying it closes the connection. */
export class HttpResponse extends Readable {
  readonly statusCode: number;
  readonly statusMessage: string;
  readonly headers: HttpHeaders;
  readonly #pull: () => void;
  readonly #close: () => void;
  #failure: Error | undefined;

  constructor(head: Head, pull: () => void, close: () => void) {
    super();
    this.statusCode = head.status;
    this.statusMessage = head.message;
    this.headers = head.headers;
    this.#pull = pull;
    this.#close = close;
  }

  override _read(): void {
    if (!this.#failure) this.#pull();
    // Read ahead before anyone consumes (Readable fills its buffer by itself): no one to tell yet.
    // An empty push lets the reader that comes later ask again.
    else if (this.listenerCount("error") > 0 || this.readableFlowing !== null) this.destroy(this.#failure);
    else this.push(Buffer.alloc(0));
  }

  /**
   * Ends the body with `err`: at once if someone listens for errors, else at the next read (an
   * answer that breaks before its reader is attached must not be an uncaught 'error').
   */
  fail(err: Error): void {
    if (this.listenerCount("error") > 0) this.destroy(err);
    else this.#failure = err;
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#close();
    cb(err);
  }
}

interface Head {
  status: number;
  message: string;
  headers: HttpHeaders;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values: visible ASCII, obs-text, space and tab; no other control character.
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
const STATUS_LINE = /^HTTP\/1\.[01] ([1-9]\d\d)(?: ([^\x00-\x08\x0a-\x1f\x7f]*))?$/;

/** Parses a head (without its final empty line); throws MalformedAnswer. */
export function parseHead(text: string): Head {
  const lines = text.split("\r\n");
  const m = STATUS_LINE.exec(lines[0] as string);
  if (!m) throw new MalformedAnswer("bad status line");
  if (lines.length - 1 > MAX_HEADERS) throw new MalformedAnswer(`more than ${MAX_HEADERS} headers`);
  const headers: HttpHeaders = {};
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.startsWith(" ") || line.startsWith("\t")) throw new MalformedAnswer("folded header line");
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).toLowerCase();
    if (colon <= 0 || !TOKEN.test(name)) throw new MalformedAnswer("bad header line");
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
    if (BAD_VALUE.test(value)) throw new MalformedAnswer(`bad value of header ${name}`);
    const had = headers[name];
    if (name === "set-cookie") headers[name] = [...((had as string[] | undefined) ?? []), value];
    else if (had === undefined) headers[name] = value;
    else if (name === "content-length") {
      if (had !== value) throw new MalformedAnswer("two different Content-Length headers");
    } else headers[name] = `${had}, ${value}`;
  }
  return { status: Number(m[1]), message: m[2] ?? "", headers };
}

/** A chunk's size from its size line (extensions skipped); throws MalformedAnswer. */
export function chunkSize(line: string): number {
  const m = /^([0-9A-Fa-f]+)[ \t]*(?:;.*)?$/.exec(line);
  if (!m) throw new MalformedAnswer("bad chunk size");
  const hex = (m[1] as string).replace(/^0+(?=.)/, "");
  const size = hex.length > 14 ? Number.POSITIVE_INFINITY : Number.parseInt(hex, 16);
  if (size > Number.MAX_SAFE_INTEGER) throw new MalformedAnswer("chunk size too large");
  return size;
}

function requestHead(req: OutgoingRequest, framing: Record<string, string>): string {
  if (/[\x00-\x20\x7f]/.test(req.path)) throw new BodyError("the request path contains unescaped characters");
  let head = `${req.method} ${req.path} HTTP/1.1\r\n`;
  const all: Record<string, string> = { ...req.headers, ...framing };
  if (!Object.keys(all).some((k) => k.toLowerCase() === "connection")) all.Connection = "close";
  for (const [name, value] of Object.entries(all)) {
    if (!TOKEN.test(name) || /[\r\n\x00]/.test(value)) throw new BodyError(`the request header ${name} is invalid`);
    head += `${name}: ${value}\r\n`;
  }
  return `${head}\r\n`;
}

// Go's client sends Content-Length: 0 for these when there is no body; so does node:http.
const BODY_EXPECTED = new Set(["POST", "PUT", "PATCH"]);

/** Bytes held across reads (a head or a line not yet whole), as pieces: no copy of all per read. */
class Held {
  #parts: Buffer[] = [];
  length = 0;

  add(b: Buffer): void {
    if (b.length === 0) return;
    this.#parts.push(b);
    this.length += b.length;
  }

  /** The last `n` bytes held (fewer when less is held). */
  tail(n: number): Buffer {
    const out: Buffer[] = [];
    for (let i = this.#parts.length - 1; i >= 0 && n > 0; i--) {
      const p = this.#parts[i] as Buffer;
      const piece = p.subarray(Math.max(0, p.length - n));
      out.unshift(piece);
      n -= piece.length;
    }
    return Buffer.concat(out);
  }

  /** All of it, once, and nothing held after. */
  take(): Buffer {
    const all = Buffer.concat(this.#parts, this.length);
    this.#parts = [];
    this.length = 0;
    return all;
  }
}

type Phase = "head" | "length" | "size" | "data" | "crlf" | "trailers" | "close" | "done";

/**
 * Sends `req` on a connected (or connecting) socket and reads the answer: resolves once its head is
 * in, rejects with the socket's error, a MalformedAnswer or a BodyError. The socket is the
 * exchange's: closed when the answer ends or is destroyed, or handed over on a 101.
 */
export function exchange(socket: Socket, req: OutgoingRequest): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const body = req.body;
    const framing: Record<string, string> = {};
    if (body instanceof Readable) framing["Transfer-Encoding"] = "chunked";
    else if (body !== undefined) framing["Content-Length"] = String(Buffer.byteLength(body));
    else if (BODY_EXPECTED.has(req.method)) framing["Content-Length"] = "0";
    let headText: string;
    try {
      headText = requestHead(req, framing);
    } catch (e) {
      socket.destroy();
      reject(e);
      return;
    }

    let phase: Phase = "head";
    const held = new Held(); // a head, size line, chunk CRLF or trailer line not yet whole
    let left = 0; // bytes of the body (length) or of the chunk (data) still to come
    let trailerBytes = 0;
    let trailerLines = 0;
    let response: HttpResponse | undefined;
    let paused = false;
    let settled = false;
    let grace: NodeJS.Timeout | undefined;

    const fail = (err: Error) => {
      if (grace) clearTimeout(grace);
      if (phase === "done") return;
      phase = "done";
      stopUpload();
      socket.destroy();
      if (response) response.fail(err);
      else if (!settled) {
        settled = true;
        reject(err);
      }
    };
    const finish = () => {
      phase = "done";
      stopUpload();
      socket.destroy();
      response?.push(null);
    };

    const emit = (data: Buffer) => {
      if (data.length > 0 && response && !response.push(data)) paused = true;
    };

    /** A CRLF-ended line from `chunk` at `at` and what was held: [line or undefined, where the chunk goes on]. */
    const takeLine = (chunk: Buffer, at: number, limit: number, what: string): [string | undefined, number] => {
      const nl = chunk.indexOf(10, at);
      const end = nl < 0 ? chunk.length : nl + 1;
      held.add(chunk.subarray(at, end));
      if (held.length > limit) throw new MalformedAnswer(`${what} longer than ${limit} bytes`);
      if (nl < 0) return [undefined, end];
      const line = held.take();
      if (line.length < 2 || line[line.length - 2] !== 13) throw new MalformedAnswer(`${what} not ended by CRLF`);
      return [line.subarray(0, line.length - 2).toString("latin1"), end];
    };

    const onHead = (head: Head, rest: Buffer): Buffer | undefined => {
      if (head.status === 101) {
        if (!req.upgrade) throw new MalformedAnswer("101 Switching Protocols to a request that asked for none");
        phase = "done";
        if (grace) clearTimeout(grace);
        settled = true;
        handOver(rest, head);
        return undefined;
      }
      // Interim answers (100 Continue and the like) are skipped; the real one follows.
      if (head.status < 200) return rest;
      const te = head.headers["transfer-encoding"] as string | undefined;
      const cl = head.headers["content-length"] as string | undefined;
      if (req.method === "HEAD" || head.status === 204 || head.status === 304) phase = "done";
      else if (te !== undefined) {
        if (cl !== undefined) throw new MalformedAnswer("both Transfer-Encoding and Content-Length");
        phase = te.split(",").at(-1)?.trim().toLowerCase() === "chunked" ? "size" : "close";
      } else if (cl !== undefined) {
        if (!/^\d{1,15}$/.test(cl)) throw new MalformedAnswer("bad Content-Length");
        left = Number(cl);
        phase = left === 0 ? "done" : "length";
      } else phase = "close";
      settled = true;
      response = new HttpResponse(head, pull, () => {
        if (phase !== "done") phase = "done";
        stopUpload();
        socket.destroy();
      });
      resolve({ kind: "response", response });
      if (phase === "done") finish();
      return rest;
    };

    /** Feeds bytes to the parser; returns false once the socket is no longer the parser's. */
    const feed = (chunk: Buffer): boolean => {
      let at = 0;
      while (at < chunk.length || phase === "head") {
        switch (phase) {
          case "head": {
            if (at >= chunk.length) return true;
            // The empty line may straddle reads: looked for from the last 3 bytes held.
            const piece = chunk.subarray(at);
            at = chunk.length;
            const tail = held.tail(3);
            const found = Buffer.concat([tail, piece]).indexOf("\r\n\r\n");
            const end = found < 0 ? -1 : held.length - tail.length + found;
            held.add(piece);
            if (end < 0 || end > MAX_HEAD_BYTES) {
              if (held.length > MAX_HEAD_BYTES) throw new MalformedAnswer(`head longer than ${MAX_HEAD_BYTES} bytes`);
              return true;
            }
            const all = held.take();
            const head = parseHead(all.subarray(0, end).toString("latin1"));
            const rest = all.subarray(end + 4);
            const after = onHead(head, rest);
            if (after === undefined) return false;
            chunk = after;
            at = 0;
            break;
          }
          case "length": {
            const n = Math.min(left, chunk.length - at);
            emit(chunk.subarray(at, at + n));
            at += n;
            left -= n;
            // Bytes past Content-Length are not the answer's: dropped with the connection.
            if (left === 0) finish();
            break;
          }
          case "close":
            emit(chunk.subarray(at));
            at = chunk.length;
            break;
          case "size": {
            const [line, next] = takeLine(chunk, at, MAX_CHUNK_LINE, "chunk size line");
            at = next;
            if (line === undefined) break;
            left = chunkSize(line);
            phase = left === 0 ? "trailers" : "data";
            break;
          }
          case "data": {
            const n = Math.min(left, chunk.length - at);
            emit(chunk.subarray(at, at + n));
            at += n;
            left -= n;
            if (left === 0) phase = "crlf";
            break;
          }
          case "crlf": {
            // The CRLF after a chunk's data, maybe split across reads.
            const n = Math.min(2 - held.length, chunk.length - at);
            held.add(chunk.subarray(at, at + n));
            at += n;
            if (held.length < 2) break;
            const crlf = held.take();
            if (crlf[0] !== 13 || crlf[1] !== 10) throw new MalformedAnswer("chunk longer than its size");
            phase = "size";
            break;
          }
          case "trailers": {
            const [line, next] = takeLine(chunk, at, MAX_HEAD_BYTES, "trailer line");
            trailerBytes += next - at;
            at = next;
            if (trailerBytes > MAX_HEAD_BYTES)
              throw new MalformedAnswer(`trailers longer than ${MAX_HEAD_BYTES} bytes`);
            if (line === undefined) break;
            if (line === "") finish();
            else if (++trailerLines > MAX_HEADERS) throw new MalformedAnswer(`more than ${MAX_HEADERS} trailers`);
            break;
          }
          case "done":
            return false;
        }
      }
      return phase !== "done";
    };

    const drain = () => {
      while (!paused && phase !== "done") {
        const chunk = socket.read() as Buffer | null;
        if (chunk === null) return;
        if (grace) {
          clearTimeout(grace);
          grace = undefined;
        }
        try {
          if (!feed(chunk)) return;
        } catch (e) {
          fail(e as Error);
          return;
        }
      }
    };
    function pull() {
      paused = false;
      drain();
    }

    const onEnd = () => {
      if (phase === "done") return;
      if (phase === "close") return finish();
      if (phase === "head" && held.length === 0 && !response) {
        // No answer at all: after a failed upload, the write's error is the reason.
        const hangUp = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
        return fail(failedWrite(socket) ?? hangUp);
      }
      fail(new MalformedAnswer(phase === "head" ? "the answer ended inside its head" : "the answer ended early"));
    };
    const onError = (err: Error) => fail(phase === "head" ? (failedWrite(socket) ?? err) : err);

    function detach() {
      socket.removeListener("readable", drain);
      socket.removeListener("end", onEnd);
      socket.removeListener("close", onEnd);
      socket.removeListener("error", onError);
    }
    function handOver(rest: Buffer, head: Head) {
      stopUpload();
      detach();
      // Without a 'readable' listener the socket flows again once someone listens for 'data'.
      if (rest.length > 0) socket.unshift(rest);
      resolve({ kind: "upgraded", socket, statusCode: head.status, headers: head.headers });
    }

    socket.on("readable", drain);
    socket.on("end", onEnd);
    socket.on("close", onEnd);
    socket.on("error", onError);

    // The request. An upload's writes may fail because the daemon answered early and closed
    // (early-answer.ts): the rest of the body is dropped and the answer waited for, GRACE_MS.
    let stopUpload = () => {};
    if (body instanceof Readable) {
      guardUpload(socket, (err) => {
        stopUpload();
        if (phase === "head" && !response) grace ??= setTimeout(() => fail(err), GRACE_MS);
      });
      socket.write(headText);
      const onData = (c: Buffer | string) => {
        const data = typeof c === "string" ? Buffer.from(c) : c;
        if (data.length === 0) return;
        socket.cork();
        socket.write(`${data.length.toString(16)}\r\n`);
        socket.write(data);
        const ok = socket.write("\r\n");
        socket.uncork();
        if (!ok) {
          body.pause();
          socket.once("drain", () => body.resume());
        }
      };
      const onBodyEnd = () => socket.write("0\r\n\r\n");
      const onBodyError = (err: Error) => fail(new BodyError(err.message));
      stopUpload = () => {
        body.removeListener("data", onData);
        body.removeListener("end", onBodyEnd);
        body.removeListener("error", onBodyError);
        body.pause();
        stopUpload = () => {};
      };
      body.on("data", onData);
      body.on("end", onBodyEnd);
      body.on("error", onBodyError);
    } else {
      socket.write(body === undefined ? headText : Buffer.concat([Buffer.from(headText, "latin1"), Buffer.from(body)]));
    }
  });
}
