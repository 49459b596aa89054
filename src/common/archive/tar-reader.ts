// A pull-based streaming tar reader: the caller asks for the next member, then consumes (or skips)
// its data before asking again, so a layer of any size is read with bounded memory and the
// consumer's own pace is the backpressure. Every byte pulled from the source passes through
// `onBytes` (the diffID hash), including what follows the end-of-archive blocks.
//
// Memory is bounded whatever the archive says: an extended record (PAX or GNU long name) is at
// most MAX_EXTENDED_HEADER bytes and the reader keeps at most one of each kind ('x', 'L', 'K')
// for the next member, a later one replacing an earlier one as in Go's archive/tar. PAX global
// ('g') records are validated and dropped, as containerd and Docker drop them.
import { InvalidArgumentError } from "../errors.ts";
import {
  BLOCK,
  decodeHeader,
  decodeName,
  isZeroBlock,
  MAX_EXTENDED_HEADER,
  parsePax,
  type TarEntry,
  toEntry,
} from "./tar-format.ts";

export class TarReader {
  readonly #source: AsyncIterator<Buffer>;
  readonly #onBytes: (chunk: Buffer) => void;
  #chunk: Buffer = Buffer.alloc(0);
  #eof = false;
  /** Data bytes (plus padding) of the current member not consumed yet. */
  #remaining = 0;
  #padding = 0;
  #ended = false;

  constructor(source: AsyncIterable<Buffer>, onBytes: (chunk: Buffer) => void) {
    this.#source = source[Symbol.asyncIterator]();
    this.#onBytes = onBytes;
  }

  /** The next non-empty chunk of the source (hashed), or null at its end. */
  async #pull(): Promise<Buffer | null> {
    if (this.#eof) return null;
    for (;;) {
      const r = await this.#source.next();
      if (r.done) {
        this.#eof = true;
        return null;
      }
      const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
      if (chunk.length === 0) continue;
      this.#onBytes(chunk);
      return chunk;
    }
  }

  async #fill(): Promise<boolean> {
    const chunk = await this.#pull();
    if (chunk === null) return false;
    this.#chunk = this.#chunk.length === 0 ? chunk : Buffer.concat([this.#chunk, chunk]);
    return true;
  }

  async #readExact(n: number, what: string): Promise<Buffer> {
    if (this.#chunk.length < n) {
      // Gathered, then joined once: growing one buffer chunk by chunk would copy it quadratically.
      const parts = [this.#chunk];
      let have = this.#chunk.length;
      while (have < n) {
        const chunk = await this.#pull();
        if (chunk === null) throw new InvalidArgumentError(`tar: unexpected end of archive in ${what}`);
        parts.push(chunk);
        have += chunk.length;
      }
      this.#chunk = Buffer.concat(parts, have);
    }
    const out = this.#chunk.subarray(0, n);
    this.#chunk = this.#chunk.subarray(n);
    return out;
  }

  /** After one zero block: the archive ends at a second one or at the end of the input. */
  async #endOfArchive(): Promise<void> {
    if (this.#chunk.length === 0 && !(await this.#fill())) return;
    const block = await this.#readExact(BLOCK, "end-of-archive marker");
    // As Go's reader: a header after a lone zero block is corrupt, not a member to skip or read.
    if (!isZeroBlock(block)) throw new InvalidArgumentError("tar: a zero block followed by a header");
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
    // What extended records say about the next member: one of each kind, the latest.
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
        await this.#endOfArchive();
        this.#ended = true;
        return null;
      }
      const h = decodeHeader(block);
      const extended = h.typeflag === "x" || h.typeflag === "g" || h.typeflag === "L" || h.typeflag === "K";
      if (!extended) {
        const entry = toEntry(h, pax, longName, longLink);
        this.#remaining = entry.type === "file" ? entry.size : 0;
        this.#padding = (BLOCK - (this.#remaining % BLOCK)) % BLOCK;
        return entry;
      }
      if (h.size > MAX_EXTENDED_HEADER) {
        throw new InvalidArgumentError(
          `tar: extended header '${h.typeflag}' of ${h.size} bytes, more than the ${MAX_EXTENDED_HEADER} allowed`,
        );
      }
      // A view: parsePax and decodeName keep nothing of it beyond the next member.
      const data = await this.#readExact(h.size, "extended header");
      await this.#skip((BLOCK - (h.size % BLOCK)) % BLOCK, "extended header");
      if (h.typeflag === "x") pax = parsePax(data);
      else if (h.typeflag === "g") {
        // Checked, then dropped; like Go's reader (which returns it as a member of its own), it
        // also ends whatever extended records came before it.
        parsePax(data);
        pax = new Map();
        longName = undefined;
        longLink = undefined;
      } else {
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
