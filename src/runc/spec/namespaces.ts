// linux.namespaces and the id mappings that go with user namespaces.
import { absolutePath, array, type DecodeContext, fail, integer, isAbsent, object, oneOf, UINT32 } from "./decode.ts";
import type { IdMapping, Namespace, NamespaceType } from "./types.ts";

export const KNOWN_NAMESPACES: readonly NamespaceType[] = Object.freeze([
  "pid",
  "network",
  "mount",
  "ipc",
  "uts",
  "user",
  "cgroup",
  "time",
]);

export function decodeNamespaces(value: unknown, field: string, _ctx: DecodeContext): Namespace[] {
  const seen = new Map<string, string>();
  return array(value, field, (raw, f) => {
    const o = object(raw, f);
    const type = oneOf(o.type, `${f}.type`, KNOWN_NAMESPACES);
    const first = seen.get(type);
    if (first !== undefined) fail(`${f}.type`, `duplicate namespace ${JSON.stringify(type)} (also at ${first})`);
    seen.set(type, f);
    const ns: Namespace = { type };
    if (!isAbsent(o.path)) {
      const path = absolutePath(o.path, `${f}.path`);
      ns.path = path;
    }
    return ns;
  });
}

export function decodeIdMappings(value: unknown, field: string): IdMapping[] {
  return array(value, field, (raw, f) => {
    const o = object(raw, f);
    const m: IdMapping = {
      containerID: integer(o.containerID, `${f}.containerID`, UINT32),
      hostID: integer(o.hostID, `${f}.hostID`, UINT32),
      size: integer(o.size, `${f}.size`, UINT32),
    };
    if (m.size === 0) fail(`${f}.size`, "must be greater than zero");
    return m;
  });
}
