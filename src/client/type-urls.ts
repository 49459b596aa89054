// The google.protobuf.Any values the container and task calls carry, with the type URLs containerd's
// typeurl package gives them: OCI runtime-spec documents travel as JSON under
// "types.containerd.io/opencontainers/runtime-spec/1/<Type>", protobuf messages under their full
// name with no prefix (what ctr and dockerd send, and what both daemons' shims look up).
import { create, type DescMessage, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { InvalidArgumentError } from "../common/errors.ts";
import { OptionsSchema } from "../proto/gen/containerd/runc/v1/options_pb.js";

const RUNTIME_SPEC = "types.containerd.io/opencontainers/runtime-spec/1";

export const TypeUrl = {
  /** A container's whole runtime spec (config.json). */
  spec: `${RUNTIME_SPEC}/Spec`,
  /** An exec'd process (the spec's `process` object). */
  process: `${RUNTIME_SPEC}/Process`,
  /** Resources for a task update (the spec's `linux.resources` object). */
  linuxResources: `${RUNTIME_SPEC}/LinuxResources`,
  /** io.containerd.runc.v2's (and berth-shim's) runtime options. */
  runcOptions: "containerd.runc.v1.Options",
} as const;

/**
 * Largest runtime spec (or process, or resources) sent: 4 MiB. A real spec is a few KiB to a few
 * tens of KiB (a seccomp profile); environment and arguments together cannot usefully pass the
 * kernel's execve limit (a quarter of the stack limit, 2 MiB by default), and the gRPC message
 * that carries the spec is at most 16 MiB.
 */
export const MAX_SPEC_BYTES = 4 << 20;

export interface AnyValue {
  typeUrl: string;
  value: Uint8Array;
}

/** A JSON document as an Any of `typeUrl`; `what` names it in the error when it is over `limit`. */
export function jsonAny(typeUrl: string, doc: unknown, what: string, limit = MAX_SPEC_BYTES): AnyValue {
  const text = JSON.stringify(doc);
  if (text === undefined) throw new InvalidArgumentError(`${what}: not a JSON document`);
  const value = Buffer.from(text, "utf8");
  if (value.length > limit)
    throw new InvalidArgumentError(`${what}: ${value.length} bytes, more than the ${limit} bytes allowed`);
  return { typeUrl, value };
}

/** The runtime spec of a container as containerd stores it. */
export function specAny(spec: unknown, what: string): AnyValue {
  return jsonAny(TypeUrl.spec, spec, what);
}

/** A protobuf message as an Any under its full name (containerd's typeurl, no URL prefix). */
export function messageAny<D extends DescMessage>(schema: D, init: MessageInitShape<D>): AnyValue {
  return { typeUrl: schema.typeName, value: toBinary(schema, create(schema, init)) };
}

/** What io.containerd.runc.v2 and berth-shim read from a container's runtime options. */
export interface RuncOptions {
  /** The runc-compatible binary the shim runs (ctr's --runc-binary). */
  binaryName?: string;
  /** The runtime's state root (ctr's --runc-root). */
  root?: string;
  systemdCgroup?: boolean;
  noPivotRoot?: boolean;
  noNewKeyring?: boolean;
  shimCgroup?: string;
  ioUid?: number;
  ioGid?: number;
}

export function runcOptionsAny(o: RuncOptions): AnyValue {
  const a = messageAny(OptionsSchema, o);
  return { typeUrl: TypeUrl.runcOptions, value: a.value };
}

/** The message name an Any's type URL stands for, with or without a URL prefix. */
export function typeNameOf(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf("/") + 1);
}
