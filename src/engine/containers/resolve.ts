// Which container a client means, as dockerd resolves a reference: the full id, else the name
// (with or without its leading slash), else a unique id prefix. Anything else, a path included,
// is simply no container.
import { InvalidArgumentError, NotFoundError } from "../../common/errors.ts";

export interface Named {
  ID: string;
  Name: string;
}

/** dockerd's 404 for a reference that names no container. */
export class NoSuchContainerError extends NotFoundError {
  constructor(ref: string) {
    super(`No such container: ${ref}`);
  }
}

const HEX_PREFIX = /^[0-9a-f]{1,64}$/;

/** The container `ref` names among `all`. */
export function resolveContainer<T extends Named>(
  all: Iterable<T>,
  ref: string,
  byName?: (name: string) => T | undefined,
): T {
  if (ref === "") throw new InvalidArgumentError("invalid container name or ID: value is empty");
  const list = [...all];
  const exact = list.find((c) => c.ID === ref);
  if (exact) return exact;
  const name = ref.startsWith("/") ? ref : `/${ref}`;
  const named = byName ? byName(name) : list.find((c) => c.Name === name);
  if (named) return named;
  if (HEX_PREFIX.test(ref)) {
    const hits = list.filter((c) => c.ID.startsWith(ref));
    if (hits.length === 1) return hits[0]!;
    if (hits.length > 1) throw new InvalidArgumentError(`multiple IDs found with provided prefix: ${ref}`);
  }
  throw new NoSuchContainerError(ref);
}
