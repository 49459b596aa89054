// The mounts array.
import {
  array,
  type DecodeContext,
  fail,
  isAbsent,
  object,
  optionalString,
  optionalStringArray,
  put,
  string,
} from "./decode.ts";
import { parseMountOptions } from "./mount-options.ts";
import { decodeIdMappings } from "./namespaces.ts";
import type { Mount } from "./types.ts";

function noNul(value: string | undefined, field: string): void {
  // The plan travels to the native stage as NUL-terminated strings.
  if (value?.includes("\0")) fail(field, "must not contain a NUL byte");
}

/**
 * Relative destinations are accepted and made absolute (relative to "/"), with a warning: the
 * runtime-spec (1.1+) deprecates them but requires that reading, and runc 1.1 and 1.2 both only
 * warn. An empty destination is refused.
 */
function decodeMount(raw: unknown, field: string, ctx: DecodeContext): Mount {
  const o = object(raw, field);
  if (isAbsent(o.destination)) fail(`${field}.destination`, "is required");
  let destination = string(o.destination, `${field}.destination`);
  if (destination === "") fail(`${field}.destination`, "must not be empty");
  noNul(destination, `${field}.destination`);
  if (!destination.startsWith("/")) {
    ctx.warn(
      `${field}.destination`,
      `relative mount destination ${JSON.stringify(destination)} is deprecated; using it as relative to /`,
    );
    destination = `/${destination}`;
  }
  const m: Mount = { destination };
  put(m, "type", optionalString(o.type, `${field}.type`));
  noNul(m.type, `${field}.type`);
  put(m, "source", optionalString(o.source, `${field}.source`));
  noNul(m.source, `${field}.source`);
  put(m, "options", optionalStringArray(o.options, `${field}.options`));
  if (!isAbsent(o.uidMappings)) m.uidMappings = decodeIdMappings(o.uidMappings, `${field}.uidMappings`);
  if (!isAbsent(o.gidMappings)) m.gidMappings = decodeIdMappings(o.gidMappings, `${field}.gidMappings`);

  const hasUid = (m.uidMappings?.length ?? 0) > 0;
  const hasGid = (m.gidMappings?.length ?? 0) > 0;
  if (hasUid !== hasGid) {
    fail(`${field}.${hasUid ? "gidMappings" : "uidMappings"}`, "uidMappings and gidMappings must be given together");
  }

  const parsed = parseMountOptions(m.options);
  if (parsed.bind && parsed.data !== "") {
    // The kernel ignores filesystem options on a bind mount. runc accepts them, and configs in the
    // wild carry them (e.g. a tmpfs turned into a bind), so this is a warning, not a refusal.
    ctx.warn(`${field}.options`, `filesystem-specific options are ignored on a bind mount (${parsed.data})`);
  }
  // Mappings make an idmapped mount even without the option (which the spec only says SHOULD be there).
  const idmapped = hasUid || parsed.extensions.includes("idmap") || parsed.extensions.includes("ridmap");
  if (idmapped && !parsed.bind) fail(`${field}.options`, "id-mapped mounts are only supported for bind mounts");
  return m;
}

export function decodeMounts(value: unknown, field: string, ctx: DecodeContext): Mount[] {
  return array(value, field, (raw, f) => decodeMount(raw, f, ctx));
}
