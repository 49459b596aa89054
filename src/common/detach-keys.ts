// Detach keys, the sequence an attached client types to leave a container running ("ctrl-p,ctrl-q",
// docker's default), read as docker's term.ToBytes reads them for the CLI and dockerd alike, and
// the scanner both sides run over typed bytes. Callers word the refusal their own way (the CLI
// "Unknown character: 'x'", berthd "Invalid detach keys (x) provided").

export const DEFAULT_DETACH_KEYS = "ctrl-p,ctrl-q";

/** A key term.ToBytes does not know; `key` is the comma-separated part that failed. */
export class UnknownDetachKey extends Error {
  readonly key: string;
  constructor(key: string) {
    super(`Unknown character: '${key}'`);
    this.name = "UnknownDetachKey";
    this.key = key;
  }
}

/** ctrl-@ is 0, ctrl-a..ctrl-z 1..26, then ctrl-[ ctrl-\ ctrl-] ctrl-^ ctrl-_ 27..31. */
const CTRL = "@abcdefghijklmnopqrstuvwxyz[\\]^_";

/**
 * "ctrl-p,ctrl-q" → [16, 17]. A one-byte part (an ASCII character) is its own code, as typed
 * ("A" is 65); a longer part must be ctrl-<one of CTRL>, in any case. No trimming: " a" is refused.
 */
export function detachKeyCodes(spec: string): number[] {
  return spec.split(",").map((key) => {
    if (key.length === 1 && key.charCodeAt(0) <= 0x7f) return key.charCodeAt(0);
    const k = key.toLowerCase();
    const i = k.length === 6 && k.startsWith("ctrl-") ? CTRL.indexOf(k[5]!) : -1;
    if (i < 0) throw new UnknownDetachKey(key);
    return i;
  });
}

/**
 * Watches typed bytes for the sequence: bytes that begin it are held back, given on if the
 * sequence breaks, and dropped when it completes (what follows in that chunk is dropped too).
 */
export class DetachScanner {
  readonly #keys: readonly number[];
  /** How many keys of the sequence the bytes held back match. */
  #matched = 0;

  constructor(keys: readonly number[]) {
    this.#keys = keys;
  }

  /** The bytes to pass on, and whether the sequence completed. */
  push(chunk: Buffer): { data: Buffer; detached: boolean } {
    const out: number[] = [];
    for (const byte of chunk) {
      if (byte !== this.#keys[this.#matched]) {
        // The sequence broke: what was held goes on, then this byte is looked at afresh.
        for (let i = 0; i < this.#matched; i++) out.push(this.#keys[i]!);
        this.#matched = 0;
        if (byte !== this.#keys[0]) {
          out.push(byte);
          continue;
        }
      }
      this.#matched++;
      if (this.#matched === this.#keys.length) {
        this.#matched = 0;
        return { data: Buffer.from(out), detached: true };
      }
    }
    return { data: Buffer.from(out), detached: false };
  }
}
