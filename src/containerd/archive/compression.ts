// Layer compression by magic bytes, as containerd's DecompressStream does: gzip, zstd or none.
// Decompression streams; nothing is buffered beyond a chunk.
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, createZstdDecompress, constants as zc } from "node:zlib";
import { InvalidArgumentError } from "../../common/errors.ts";

export type Compression = "gzip" | "zstd" | "none";

const GZIP = [0x1f, 0x8b];
const ZSTD = [0x28, 0xb5, 0x2f, 0xfd];
/** Big output chunks: fewer iterations and larger file writes downstream. */
const CHUNK = 256 * 1024;
/**
 * Largest zstd window a layer may ask for, as log2 bytes: 2^27 = 128 MiB, libzstd's own default
 * limit (what `zstd --long` writes). The decoder allocates the window a frame declares, so this
 * bounds what a tiny zstd layer can make one decompression hold; a frame asking for more is
 * refused ("Frame requires too much memory for decoding").
 */
const ZSTD_WINDOW_LOG_MAX = 27;

export function detectCompression(head: Uint8Array): Compression {
  const starts = (magic: number[]) => head.length >= magic.length && magic.every((b, i) => head[i] === b);
  if (starts(GZIP)) return "gzip";
  if (starts(ZSTD)) return "zstd";
  return "none";
}

export interface Decompressed {
  compression: Compression;
  /** Uncompressed bytes. Abandoning the iteration early destroys the input. */
  stream: AsyncIterable<Buffer>;
}

/**
 * Peeks at the first bytes of `input` and returns its uncompressed content. `onRead` sees the
 * number of input (compressed) bytes consumed so far.
 */
export async function decompress(
  input: AsyncIterable<Uint8Array>,
  onRead?: (bytes: number) => void,
  signal?: AbortSignal,
): Promise<Decompressed> {
  const it = input[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headLen = 0;
  let done = false;
  while (headLen < ZSTD.length) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    head.push(b);
    headLen += b.length;
  }
  let read = 0;
  async function* raw(): AsyncGenerator<Buffer> {
    try {
      for (const b of head) {
        read += b.length;
        onRead?.(read);
        yield b;
      }
      while (!done) {
        const r = await it.next();
        if (r.done) break;
        const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
        read += b.length;
        onRead?.(read);
        yield b;
      }
    } finally {
      // Stopped early (an error downstream): let the input release its resources.
      await it.return?.();
    }
  }
  const compression = detectCompression(Buffer.concat(head));
  if (compression === "none") return { compression, stream: raw() };
  const inflate =
    compression === "gzip"
      ? createGunzip({ chunkSize: CHUNK })
      : createZstdDecompress({ chunkSize: CHUNK, params: { [zc.ZSTD_d_windowLogMax]: ZSTD_WINDOW_LOG_MAX } });
  // Errors of either side surface through the iteration of `inflate` (pipeline destroys it).
  pipeline(Readable.from(raw(), { objectMode: false }), inflate, { signal }).catch(() => {});
  // destroy() as the stream's own, for callers that abandon it before reading.
  return {
    compression,
    stream: Object.assign(refusingCorrupt(inflate, compression), { destroy: () => inflate.destroy() }),
  };
}

/** zlib's and zstd's own errors for bad input carry codes like Z_DATA_ERROR, ZSTD_error_*. */
function isCodecError(err: unknown): err is Error {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === "string" && /^(Z_|ZSTD_error_)/.test(code);
}

/**
 * The decompressed chunks; corrupt or refused compressed data (a bad header or checksum, a zstd
 * window over the limit) ends them with InvalidArgumentError, the typed refusal of a bad layer,
 * rather than the codec's untyped error. Other errors (the input's, an abort) pass unchanged.
 */
async function* refusingCorrupt(stream: AsyncIterable<Buffer>, compression: Compression): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of stream) yield chunk;
  } catch (err) {
    if (!isCodecError(err)) throw err;
    throw new InvalidArgumentError(`layer: corrupt ${compression} data: ${err.message}`, { cause: err });
  }
}
