// Container names as dockerd keeps them: stored with a leading "/", checked against dockerd's
// pattern, unique across the daemon (one index, reserved before anything is made and released
// when the container goes), and chosen at random from our own word lists when none is given.
import { randomInt } from "node:crypto";
import { AlreadyExistsError, InvalidArgumentError } from "../../common/errors.ts";
import { NAME_ADJECTIVES, NAME_NOUNS } from "./name-words.ts";

/** dockerd's restrictions on a name (without its leading slash). */
const VALID_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
/** A bound no real name reaches; dockerd has none, a name is a path component here and there. */
export const MAX_NAME_LENGTH = 253;

/** `raw` as the stored name ("/web"); refused in dockerd's words when it is not one. */
export function normalizeName(raw: string): string {
  const bare = raw.startsWith("/") ? raw.slice(1) : raw;
  if (bare.length > MAX_NAME_LENGTH || !VALID_NAME.test(bare)) {
    const shown = bare.length > 64 ? `${bare.slice(0, 64)}...` : bare;
    throw new InvalidArgumentError(`Invalid container name (${shown}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  return `/${bare}`;
}

/** dockerd's answer to a name another container holds. */
export class NameConflictError extends AlreadyExistsError {
  constructor(name: string, holder: string) {
    super(
      `Conflict. The container name "${name}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`,
    );
  }
}

/** Which container holds which name ("/web" → id). */
export class NameIndex {
  readonly #byName = new Map<string, string>();

  /** Reserves `name` (normalized) for `id`; a name held by another container is a conflict. */
  reserve(name: string, id: string): void {
    const holder = this.#byName.get(name);
    if (holder !== undefined && holder !== id) throw new NameConflictError(name, holder);
    this.#byName.set(name, id);
  }

  /** Frees `name` if `id` holds it. */
  release(name: string, id: string): void {
    if (this.#byName.get(name) === id) this.#byName.delete(name);
  }

  holder(name: string): string | undefined {
    return this.#byName.get(name);
  }

  get size(): number {
    return this.#byName.size;
  }

  /**
   * A free random name ("/quiet_harbor"), as dockerd picks one: adjective_noun, and a number
   * behind it after a few collisions.
   */
  randomName(pick: (n: number) => number = randomInt): string {
    for (let attempt = 0; ; attempt++) {
      let name = `/${NAME_ADJECTIVES[pick(NAME_ADJECTIVES.length)]}_${NAME_NOUNS[pick(NAME_NOUNS.length)]}`;
      if (attempt >= 3) name += String(pick(10));
      if (attempt >= 6) name += String(pick(1_000_000));
      if (!this.#byName.has(name)) return name;
    }
  }
}
