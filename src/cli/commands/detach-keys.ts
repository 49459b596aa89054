// Detach keys on the CLI's side: docker's notation (common/detach-keys.ts) with the CLI's words,
// and what the local watcher uses when the keys given cannot be read.
import { DEFAULT_DETACH_KEYS, DetachScanner, detachKeyCodes, UnknownDetachKey } from "../../common/detach-keys.ts";
import { UsageError } from "../errors.ts";

export { DEFAULT_DETACH_KEYS, DetachScanner };

/** "ctrl-p,ctrl-q" → [16, 17]; an unknown key is a UsageError in docker's words. */
export function parseDetachKeys(spec: string): number[] {
  try {
    return detachKeyCodes(spec);
  } catch (e) {
    throw e instanceof UnknownDetachKey ? new UsageError(e.message) : e;
  }
}

/**
 * The keys the local watcher looks for: `spec`'s, or the default when they cannot be read, with a
 * warning, as docker's hijacked stream does (the daemon, sent the same spec, refuses it itself).
 */
export function watchedDetachKeys(spec: string, warn: (line: string) => void): number[] {
  try {
    return detachKeyCodes(spec);
  } catch (e) {
    if (!(e instanceof UnknownDetachKey)) throw e;
    warn(`WARNING: invalid detach escape keys, using default: ${e.message}`);
    return detachKeyCodes(DEFAULT_DETACH_KEYS);
  }
}
