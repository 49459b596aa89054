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

// A mapped range may use every id but (uid_t)-1, which is not an id (see ID_RANGE in decode.ts).
const LAST_MAPPABLE_ID = 2 ** 32 - 2;
const MAPPABLE_ID: readonly [bigint, bigint] = [0n, BigInt(LAST_MAPPABLE_ID)];

export function decodeIdMappings(value: unknown, field: string): IdMapping[] {
  return array(value, field, (raw, f) => {
    const o = object(raw, f);
    const m: IdMapping = {
      containerID: integer(o.containerID, `${f}.containerID`, MAPPABLE_ID),
      hostID: integer(o.hostID, `${f}.hostID`, MAPPABLE_ID),
      size: integer(o.size, `${f}.size`, UINT32),
    };
    if (m.size === 0) fail(`${f}.size`, "must be greater than zero");
    // The kernel refuses a range that wraps; say which field is wrong before it does.
    for (const start of ["containerID", "hostID"] as const) {
      if (m[start] + m.size - 1 > LAST_MAPPABLE_ID) {
        fail(`${f}.size`, `${start} ${m[start]} + size ${m.size} runs past the last id, ${LAST_MAPPABLE_ID}`);
      }
    }
    return m;
  });
}
