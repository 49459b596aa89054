// What this seccomp implementation knows, for the `features` command (runc prints sorted lists).

import { ARCHES } from "./arch.ts";
import { KNOWN_ACTIONS, KNOWN_FLAGS, KNOWN_OPERATORS } from "./profile.ts";

export const knownActions = (): string[] => [...KNOWN_ACTIONS].sort();
export const knownOperators = (): string[] => [...KNOWN_OPERATORS].sort();
export const knownArchitectures = (): string[] => [...ARCHES.keys()].sort();
/** Every known flag is also supported: the kernel features they need predate what berth requires. */
export const knownFlags = (): string[] => [...KNOWN_FLAGS.keys()];
