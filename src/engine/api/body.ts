// Request bodies, bounded: a route says how many bytes it takes (JSON bodies 1 MiB by default);
// a Content-Length above the limit is refused before a byte is read, a chunked body as soon as
// it passes the limit, both 413 (dockerd has no limit; 413 says exactly what happened). JSON is
// parsed once here: a Content-Type other than JSON or malformed JSON is a 400 saying which.
// Typed reads of the parsed document (a wrong type is a 400 in Go's words) are the body's
// decoder's: containers/spec/go-json.ts for container configs.
import type { IncomingMessage } from "node:http";
import { InvalidArgumentError } from "../../common/errors.ts";
import { PayloadTooLargeError } from "./api-errors.ts";

/** What a JSON body may weigh unless its route says otherwise. */
export const DEFAULT_JSON_LIMIT = 1 << 20;

/**
 * A refused body is read on into nothing after the 413 is written, so a client still sending
 * reads the answer instead of a reset (a connection closed on unread bytes is reset): for at most
 * this many bytes or this long, then the connection is closed (ApiServer does it; Go's server
 * reads on 256 KiB for the same reason).
 */
export const DISCARD_LIMIT = { bytes: 16 << 20, ms: 2_000 } as const;

/** Reads the whole body, refusing it (413) as soon as it is known to pass `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(new PayloadTooLargeError(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (err: Error | undefined, body?: Buffer) => {
      if (settled) return;
      settled = true;
      req.off("data", onData);
      if (err) reject(err);
      else resolve(body!);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // Read no further here: what happens to the rest is the server's call (discardRest).
        req.pause();
        chunks.length = 0;
        settle(new PayloadTooLargeError(limit));
      } else chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => settle(undefined, Buffer.concat(chunks, size)));
    req.once("error", (err) => settle(err));
    req.once("close", () => settle(new InvalidArgumentError("the client closed the connection before the body ended")));
  });
}

/**
 * The JSON body, or undefined when there is none (dockerd takes an empty body as "no options").
 * A Content-Type is optional, but when given it must be application/json (as dockerd checks).
 */
export async function readJson(req: IncomingMessage, limit = DEFAULT_JSON_LIMIT): Promise<unknown> {
  checkJsonContentType(req.headers["content-type"]);
  const body = await readBody(req, limit);
  return parseJsonBody(body);
}

export function checkJsonContentType(contentType: string | undefined): void {
  if (contentType === undefined || contentType === "") return;
  const mediaType = contentType.split(";")[0]!.trim().toLowerCase();
  if (mediaType !== "application/json") {
    throw new InvalidArgumentError(
      `unsupported Content-Type header (${contentType.slice(0, 128)}): must be 'application/json'`,
    );
  }
}

/** JSON.parse with dockerd's "invalid JSON: ..." message; empty (or all white space) → undefined. */
export function parseJsonBody(body: Buffer): unknown {
  const text = body.toString("utf8");
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    // A RangeError (a document nested past the parser's stack) is malformed input too.
    throw new InvalidArgumentError(`invalid JSON: ${(err as Error).message}`);
  }
}
