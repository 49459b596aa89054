// Detach keys: a sequence a client attached with stdin types to leave the container running and
// end its attach (docker's default ctrl-p,ctrl-q; ?detachKeys= on attach). docker CLI watches for
// them itself and never sends them; other clients may rely on the daemon, so the stream from the
// client is scanned here (common/detach-keys.ts: the notation and the scanner, shared with the CLI).
import { DEFAULT_DETACH_KEYS, DetachScanner, detachKeyCodes } from "../../common/detach-keys.ts";
import { InvalidArgumentError } from "../../common/errors.ts";

export { DEFAULT_DETACH_KEYS, DetachScanner };
/** No real sequence is longer; a bound on what is held back. */
export const MAX_DETACH_KEYS = 16;

/** "ctrl-p,ctrl-q" → [16, 17] (common/detach-keys.ts); refused in dockerd's words. */
export function parseDetachKeys(spec: string): number[] {
  const bad = () => new InvalidArgumentError(`Invalid detach keys (${spec.slice(0, 64)}) provided`);
  let keys: number[];
  try {
    keys = detachKeyCodes(spec);
  } catch {
    throw bad();
  }
  if (keys.length > MAX_DETACH_KEYS) throw bad();
  return keys;
}
