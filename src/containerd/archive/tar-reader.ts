// A pull-based streaming tar reader: the caller asks for the next member, then consumes (or skips)
// its data before asking again, so a layer of any size is read with bounded memory and the
// consumer's own pace is the backpressure. Every byte pulled from the source passes through
// `onBytes` (the diffID hash), including what follows the end-of-archive blocks.
import { InvalidArgumentError } from "../../common/errors.ts";
import { BLOCK, decodeHeader, decodeName, isZeroBlock, parsePax, type TarEntry, toEntry } from "./tar-format.ts";

const MAX_EXTENDED = 16 << 20; // a PAX/GNU record larger than this is an attack, not a layer

export class TarReader {
  readonly #source: AsyncIterator<Buffer>;
  readonly #onBytes: (chunk: Buffer) => void;
  #chunk: Buffer = Buffer.alloc(0);
  #eof = false;
  /** Data bytes (plus padding) of the current member not consumed yet. */
  #remaining = 0;
  #padding = 0;
  #globalPax = new Map<string, Buffer>();
  #ended = false;

  constructor(source: AsyncIterable<Buffer>, onBytes: (chunk: Buffer) => void) {
    this.#source = source[Symbol.asyncIterator]();
    this.#onBytes = onBytes;
  }

  async #fill(): Promise<boolean> {
    if (this.#eof) return false;
    for (;;) {
      const r = await this.#source.next();
      if (r.done) {
        this.#eof = true;
        return false;
      }
      const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
      if (chunk.length === 0) continue;
      this.#onBytes(chunk);
      this.#chunk = this.#chunk.length === 0 ? chunk : Buffer.concat([this.#chunk, chunk]);
      return true;
    }
  }

  async #readExact(n: number, what: string): Promise<Buffer> {
    while (this.#chunk.length < n) {
      if (!(await this.#fill())) throw new InvalidArgumentError(`tar: unexpected end of archive in ${what}`);
    }
    const out = this.#chunk.subarray(0, n);
    this.#chunk = this.#chunk.subarray(n);
    return out;
  }

  async #skip(n: number, what: string): Promise<void> {
    while (n > 0) {
      if (this.#chunk.length === 0 && !(await this.#fill())) {
        throw new InvalidArgumentError(`tar: unexpected end of archive in ${what}`);
      }
      const take = Math.min(n, this.#chunk.length);
      this.#chunk = this.#chunk.subarray(take);
      n -= take;
    }
  }

  /** The next member, or null at the end of the archive. Skips unread data of the previous one. */
  async next(): Promise<TarEntry | null> {
    if (this.#ended) return null;
    await this.#skip(this.#remaining + this.#padding, "entry data");
    this.#remaining = 0;
    this.#padding = 0;
    let pax = new Map<string, Buffer>();
    let longName: string | undefined;
    let longLink: string | undefined;
    for (;;) {
      if (this.#chunk.length === 0 && !(await this.#fill())) {
        // An archive without end blocks: accepted (as Go's reader does), nothing more to read.
        this.#ended = true;
        return null;
      }
      const block = await this.#readExact(BLOCK, "header");
      if (isZeroBlock(block)) {
        this.#ended = true;
        return null;
      }
      const h = decodeHeader(block);
      const extended = h.typeflag === "x" || h.typeflag === "g" || h.typeflag === "L" || h.typeflag === "K";
      if (!extended) {
        const merged = new Map([...this.#globalPax, ...pax]);
        const entry = toEntry(h, merged, longName, longLink);
        this.#remaining = entry.type === "file" ? entry.size : h.size;
        this.#padding = (BLOCK - (this.#remaining % BLOCK)) % BLOCK;
        return entry;
      }
      if (h.size > MAX_EXTENDED) throw new InvalidArgumentError(`tar: extended header of ${h.size} bytes`);
      const data = Buffer.from(await this.#readExact(h.size, "extended header"));
      await this.#skip((BLOCK - (h.size % BLOCK)) % BLOCK, "extended header");
      if (h.typeflag === "x") pax = new Map([...pax, ...parsePax(data)]);
      else if (h.typeflag === "g") this.#globalPax = new Map([...this.#globalPax, ...parsePax(data)]);
      else {
        const end = data.indexOf(0);
        const text = data.subarray(0, end === -1 ? data.length : end);
        if (h.typeflag === "L") longName = decodeName(text, "GNU long name");
        else longLink = decodeName(text, "GNU long link name");
      }
    }
  }

  /** The current member's data in source-sized chunks (views: copy before keeping them past use). */
  async *data(): AsyncGenerator<Buffer> {
    while (this.#remaining > 0) {
      if (this.#chunk.length === 0 && !(await this.#fill())) {
        throw new InvalidArgumentError("tar: unexpected end of archive in file data");
      }
      const take = Math.min(this.#remaining, this.#chunk.length);
      const out = this.#chunk.subarray(0, take);
      this.#chunk = this.#chunk.subarray(take);
      this.#remaining -= take;
      yield out;
    }
  }

  /** Reads the source to its end so the hash covers every byte (trailing blocks included). */
  async drain(): Promise<void> {
    this.#chunk = Buffer.alloc(0);
    while (await this.#fill()) this.#chunk = Buffer.alloc(0);
  }
}
