// A filter adaptor over any protobuf-es message, answering field paths the way the Field methods
// containerd generates for its event payloads do (its "fieldpath" protoc plugin):
// - a path starts with a field's proto name (snake_case: `container_id`, not `containerId`);
// - a string field is present when non-empty; a bool is always present, as "true"/"false";
// - a message field is followed into (an Any is unpacked first, when the registry knows its type);
// - a map<string,string> named `labels` takes the rest of the path, joined with ".", as its key;
// - numbers, enums, bytes, lists, timestamps and other maps are not addressable (absent).
import { type DescMessage, fromBinary, type Message, type Registry, ScalarType } from "@bufbuild/protobuf";
import type { Adaptor } from "./filters.ts";

/** The registry a type URL's message is looked up in ("types.x/pkg.Msg" or just "pkg.Msg"). */
export function unpackAny(
  any: { typeUrl: string; value: Uint8Array },
  registry: Registry,
): { desc: DescMessage; message: Message } | undefined {
  const name = any.typeUrl.slice(any.typeUrl.lastIndexOf("/") + 1);
  const desc = registry.getMessage(name);
  if (!desc) return undefined;
  try {
    return { desc, message: fromBinary(desc, any.value) };
  } catch {
    return undefined;
  }
}

/** An Adaptor over `message` (of type `desc`); `registry` resolves Any fields. */
export function messageAdaptor(desc: DescMessage, message: Message, registry?: Registry): Adaptor {
  return (path) => lookup(desc, message as unknown as Record<string, unknown>, path, registry);
}

function lookup(
  desc: DescMessage,
  msg: Record<string, unknown>,
  path: string[],
  registry: Registry | undefined,
): string | undefined {
  if (path.length === 0) return undefined;
  const field = desc.fields.find((f) => f.name === path[0]);
  if (!field) return undefined;
  let value: unknown;
  if (field.oneof) {
    const o = msg[field.oneof.localName] as { case?: string; value?: unknown } | undefined;
    value = o?.case === field.localName ? o.value : undefined;
  } else {
    value = msg[field.localName];
  }
  switch (field.fieldKind) {
    case "scalar":
      if (field.scalar === ScalarType.STRING) return typeof value === "string" && value !== "" ? value : undefined;
      if (field.scalar === ScalarType.BOOL) return String(Boolean(value));
      return undefined;
    case "map": {
      if (field.name !== "labels" || field.mapKey !== ScalarType.STRING || field.mapKind !== "scalar") return undefined;
      const m = (value ?? {}) as Record<string, unknown>;
      if (Object.keys(m).length === 0) return undefined;
      const key = path.slice(1).join(".");
      return Object.hasOwn(m, key) ? String(m[key]) : undefined;
    }
    case "message": {
      if (value === undefined || value === null) return undefined;
      if (field.message.typeName === "google.protobuf.Any") {
        if (!registry) return undefined;
        const inner = unpackAny(value as { typeUrl: string; value: Uint8Array }, registry);
        return inner
          ? lookup(inner.desc, inner.message as unknown as Record<string, unknown>, path.slice(1), registry)
          : undefined;
      }
      if (field.message.typeName.startsWith("google.protobuf.")) return undefined;
      return lookup(field.message, value as Record<string, unknown>, path.slice(1), registry);
    }
    default:
      return undefined;
  }
}
