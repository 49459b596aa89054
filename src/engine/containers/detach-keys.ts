// Detach keys: a sequence a client attached with stdin types to leave the container running and
// end its attach (docker's default ctrl-p,ctrl-q; ?detachKeys= on attach). docker CLI watches for
// them itself and never sends them; other clients may rely on the daemon, so the stream from the
// client is scanned here: bytes that begin the sequence are held back, given on if the sequence
// breaks, and dropped if it completes.
import { InvalidArgumentError } from "../../common/errors.ts";

export const DEFAULT_DETACH_KEYS = "ctrl-p,ctrl-q";
/** No real sequence is longer; a bound on what is held back. */
export const MAX_DETACH_KEYS = 16;

const CTRL_SPECIAL: Record<string, number> = { "@": 0, "[": 27, "\\": 28, "]": 29, "^": 30, _: 31 };

/** "ctrl-p,ctrl-q" → [16, 17]; a single character stands for itself. Refused in dockerd's words. */
export function parseDetachKeys(spec: string): number[] {
  const bad = () => new InvalidArgumentError(`Invalid detach keys (${spec.slice(0, 64)}) provided`);
  const keys = spec.split(",").map((k) => {
    if (k.length === 1) {
      const c = k.charCodeAt(0);
      if (c > 0x7f) throw bad();
      return c;
    }
    const m = /^ctrl-(.)$/i.exec(k);
    if (!m) throw bad();
    const ch = m[1]!.toLowerCase();
    if (ch >= "a" && ch <= "z") return ch.charCodeAt(0) - 96;
    const special = CTRL_SPECIAL[ch];
    if (special === undefined) throw bad();
    return special;
  });
  if (keys.length === 0 || keys.length > MAX_DETACH_KEYS) throw bad();
  return keys;
}

export class DetachScanner {
  readonly #keys: readonly number[];
  /** How many keys of the sequence the bytes held back match. */
  #matched = 0;

  constructor(keys: readonly number[]) {
    this.#keys = keys;
  }

  /** The bytes to pass on, and whether the sequence completed (the rest of `chunk` is dropped). */
  push(chunk: Buffer): { data: Buffer; detached: boolean } {
    const out: number[] = [];
    for (const byte of chunk) {
      if (byte === this.#keys[this.#matched]) {
        this.#matched++;
        if (this.#matched === this.#keys.length) {
          this.#matched = 0;
          return { data: Buffer.from(out), detached: true };
        }
        continue;
      }
      // The sequence broke: what was held goes on, then this byte is looked at afresh.
      out.push(...this.#keys.slice(0, this.#matched));
      this.#matched = byte === this.#keys[0] ? 1 : 0;
      if (this.#matched === 1 && this.#keys.length === 1) {
        this.#matched = 0;
        return { data: Buffer.from(out), detached: true };
      }
      if (this.#matched === 0) out.push(byte);
    }
    return { data: Buffer.from(out), detached: false };
  }
}
