// Target: what a peer sends over the shim's ttrpc socket and the daemon's gRPC socket.
// - ttrpc: byte streams of frames (well-formed requests for every Task and Events method, with
//   payloads that are real messages, protobuf-shaped noise or mutations of either), in chunks of
//   any size, into the real TtrpcServer over a fake socket. Correct: the data handler never
//   throws (in a real socket that is an uncaught exception: the shim dies), the connection is
//   not dropped, and every frame gets exactly one well-formed Response frame on its stream id.
// - gRPC: the request deserializer of every method the daemon serves (grpc-js answers INTERNAL
//   when it throws, so any Error is a correct refusal); a message that decodes must encode again
//   and decode to an equal message.
import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import {
  create,
  type DescField,
  type DescMessage,
  type DescMethod,
  equals,
  fromBinary,
  type MessageInitShape,
  ScalarType,
  toBinary,
} from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import fc from "fast-check";
import { Transfer } from "../../../src/proto/gen/berth/transfer/v1/transfer_pb.js";
import { Containers } from "../../../src/proto/gen/containerd/services/containers/v1/containers_pb.js";
import { Content } from "../../../src/proto/gen/containerd/services/content/v1/content_pb.js";
import { Diff } from "../../../src/proto/gen/containerd/services/diff/v1/diff_pb.js";
import { Events } from "../../../src/proto/gen/containerd/services/events/v1/events_pb.js";
import { Images } from "../../../src/proto/gen/containerd/services/images/v1/images_pb.js";
import { Introspection } from "../../../src/proto/gen/containerd/services/introspection/v1/introspection_pb.js";
import { Leases } from "../../../src/proto/gen/containerd/services/leases/v1/leases_pb.js";
import { Namespaces } from "../../../src/proto/gen/containerd/services/namespaces/v1/namespace_pb.js";
import { Snapshots } from "../../../src/proto/gen/containerd/services/snapshots/v1/snapshots_pb.js";
import { Tasks } from "../../../src/proto/gen/containerd/services/tasks/v1/tasks_pb.js";
import { Events as TtrpcEvents } from "../../../src/proto/gen/containerd/services/ttrpc/events/v1/events_pb.js";
import { Version } from "../../../src/proto/gen/containerd/services/version/v1/version_pb.js";
import { Task } from "../../../src/proto/gen/containerd/task/v2/shim_pb.js";
import { RequestSchema, ResponseSchema } from "../../../src/proto/gen/ttrpc/ttrpc_pb.js";
import { serviceDefinition } from "../../../src/rpc/grpc.ts";
import type { ServiceImpl } from "../../../src/rpc/service.ts";
import { encodeHeader, FrameReader, MAX_MESSAGE_LENGTH, MESSAGE_RESPONSE } from "../../../src/rpc/ttrpc/frame.ts";
import { addTtrpcService, createTtrpcServer } from "../../../src/rpc/ttrpc/server.ts";
import { check, Finding, type FuzzTarget } from "../harness.ts";
import { applyEdits, byteEdit, rarely } from "../mutate.ts";

type AnyService = GenService<GenServiceMethods>;
const GRPC_SERVICES = [
  Version,
  Namespaces,
  Content,
  Images,
  Leases,
  Snapshots,
  Diff,
  Events,
  Containers,
  Transfer,
  Tasks,
  Introspection,
] as unknown as AnyService[];
const TTRPC_SERVICES = [Task, TtrpcEvents] as unknown as AnyService[];

export type WireInput =
  | { kind: "ttrpc"; chunks: Uint8Array[] }
  | { kind: "grpc"; service: number; method: number; bytes: Uint8Array };

// ---- messages by reflection: every field set, so the seeds reach every field's decoder ----

function scalarSample(t: ScalarType): unknown {
  switch (t) {
    case ScalarType.STRING:
      return "x/../y";
    case ScalarType.BYTES:
      return new Uint8Array([0, 1, 255]);
    case ScalarType.BOOL:
      return true;
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return 1.5;
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return -2n;
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return 2n ** 63n;
    default:
      return 7;
  }
}

function fieldSample(f: DescField, depth: number): unknown {
  switch (f.fieldKind) {
    case "scalar":
      return scalarSample(f.scalar);
    case "enum":
      return 1;
    case "message":
      return depth > 3 ? undefined : sampleInit(f.message, depth + 1);
    case "list":
      if (f.listKind === "message") return depth > 3 ? [] : [sampleInit(f.message, depth + 1)];
      return f.listKind === "enum" ? [1, 0] : [scalarSample(f.scalar), scalarSample(f.scalar)];
    case "map": {
      const key = f.mapKey === ScalarType.STRING ? "k" : f.mapKey === ScalarType.BOOL ? "true" : "1";
      if (f.mapKind === "message") return depth > 3 ? {} : { [key]: sampleInit(f.message, depth + 1) };
      return { [key]: f.mapKind === "enum" ? 1 : scalarSample(f.scalar) };
    }
  }
}

function sampleInit(desc: DescMessage, depth = 0): Record<string, unknown> {
  const init: Record<string, unknown> = {};
  for (const f of desc.fields) {
    const v = fieldSample(f, depth);
    if (v === undefined) continue;
    if (f.oneof) init[f.oneof.localName] ??= { case: f.localName, value: v };
    else init[f.localName] = v;
  }
  return init;
}

function sampleBytes(desc: DescMessage): Uint8Array {
  // google.protobuf.Any payloads stay opaque bytes; everything else gets every field.
  return toBinary(desc, create(desc, sampleInit(desc) as MessageInitShape<DescMessage>));
}

// ---- protobuf-shaped noise ----

function varint(v: bigint): number[] {
  const out: number[] = [];
  let x = BigInt.asUintN(64, v);
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x > 0n) b |= 0x80;
    out.push(b);
  } while (x > 0n);
  return out;
}

interface PbField {
  field: number;
  wire: number;
  value: bigint | Uint8Array;
  /** For length-delimited values: a declared length that lies (or not). */
  lie?: number;
}

const pbField: fc.Arbitrary<PbField> = fc.record({
  field: fc.oneof(fc.integer({ min: 1, max: 20 }), fc.constantFrom(0, 536_870_911, 19_000)),
  wire: fc.constantFrom(0, 0, 1, 2, 2, 2, 3, 4, 5, 6, 7),
  value: fc.oneof(
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    fc.uint8Array({ maxLength: 24 }),
    fc.string({ maxLength: 16 }).map((s) => new Uint8Array(Buffer.from(s))),
  ),
  lie: rarely(fc.constantFrom(0, 1, 127, 128, 0x7fffffff, 2 ** 32 - 1), 6),
});

function encodePb(fields: readonly PbField[]): Uint8Array {
  const out: number[] = [];
  for (const f of fields) {
    out.push(...varint(BigInt((f.field << 3) | f.wire) & 0xffffffffn));
    const bytes = f.value instanceof Uint8Array ? f.value : new Uint8Array(varint(f.value));
    if (f.wire === 0) out.push(...(typeof f.value === "bigint" ? varint(f.value) : [...bytes.subarray(0, 10)]));
    else if (f.wire === 1) out.push(...Buffer.alloc(8).fill(bytes[0] ?? 0));
    else if (f.wire === 5) out.push(...Buffer.alloc(4).fill(bytes[0] ?? 0));
    else if (f.wire === 2) {
      out.push(...varint(BigInt(f.lie ?? bytes.length)));
      out.push(...bytes);
    }
  }
  return new Uint8Array(out);
}

/** Protobuf for a message type: its every-field sample, noise, or either with byte edits. */
function payloadArbitrary(samples: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.constantFrom(...samples),
    fc.array(pbField, { maxLength: 8 }).map(encodePb),
    fc
      .record({
        s: fc.nat({ max: samples.length - 1 }),
        edits: fc.array(byteEdit(samples.length), { minLength: 1, maxLength: 4 }),
      })
      .map(({ s, edits }) => new Uint8Array(applyEdits(samples[s]!, edits, samples))),
    fc
      .record({ s: fc.nat({ max: samples.length - 1 }), fields: fc.array(pbField, { minLength: 1, maxLength: 3 }) })
      .map(({ s, fields }) => new Uint8Array(Buffer.concat([samples[s]!, encodePb(fields)]))),
  );
}

// ---- ttrpc ----

interface FrameSpec {
  streamId: number;
  type: number;
  flags: number;
  body: Uint8Array;
  /** Declares a length other than the body's. */
  lie?: number;
}

function ttrpcArbitrary(): fc.Arbitrary<WireInput> {
  const methods = TTRPC_SERVICES.flatMap((s) => s.methods);
  const samples = methods.map((m) => sampleBytes(m.input));
  const request = fc
    .record({
      method: fc.nat({ max: methods.length - 1 }),
      service: rarely(fc.constantFrom("", "containerd.task.v2.Taskx", "x".repeat(300)), 10),
      payload: payloadArbitrary(samples),
      timeoutNano: fc.oneof(fc.constant(0n), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
      metadata: fc.array(
        fc.record({ key: fc.constantFrom("containerd-namespace", "x", ""), value: fc.string({ maxLength: 8 }) }),
        {
          maxLength: 3,
        },
      ),
    })
    .map(({ method, service, payload, timeoutNano, metadata }) => {
      const m = methods[method]!;
      return toBinary(
        RequestSchema,
        create(RequestSchema, {
          service: service ?? m.parent.typeName,
          method: m.name,
          payload,
          timeoutNano,
          metadata,
        }),
      );
    });
  const body = fc.oneof(
    { arbitrary: request, weight: 8 },
    { arbitrary: fc.array(pbField, { maxLength: 6 }).map(encodePb), weight: 1 },
  );
  const frame: fc.Arbitrary<FrameSpec> = fc.record({
    streamId: fc.oneof(
      { arbitrary: fc.constant(-1), weight: 6 },
      { arbitrary: fc.constantFrom(0, 2, 2 ** 32 - 1, 2 ** 31 + 1), weight: 1 },
    ),
    type: fc.oneof({ arbitrary: fc.constant(1), weight: 8 }, { arbitrary: fc.nat({ max: 255 }), weight: 1 }),
    flags: fc.oneof({ arbitrary: fc.constant(0), weight: 8 }, { arbitrary: fc.nat({ max: 255 }), weight: 1 }),
    body,
    lie: rarely(fc.constantFrom(0, 1, MAX_MESSAGE_LENGTH, MAX_MESSAGE_LENGTH + 1, 2 ** 32 - 1), 12),
  });
  return fc
    .record({
      frames: fc.array(frame, { minLength: 1, maxLength: 6 }),
      // Edits of the stream itself now and then: most inputs keep their frames whole.
      edits: rarely(fc.array(byteEdit(1), { minLength: 1, maxLength: 3 }), 4),
      cuts: fc.array(fc.nat(), { maxLength: 6 }),
    })
    .map(({ frames, edits, cuts }) => {
      let id = 1;
      const stream = Buffer.concat(
        frames.map((f) => {
          const streamId = f.streamId === -1 ? id : f.streamId; // -1: the next odd id, as a client does
          if (f.streamId === -1) id += 2;
          const header = encodeHeader({ length: f.lie ?? f.body.length, streamId, type: f.type, flags: f.flags });
          return Buffer.concat([header, f.body]);
        }),
      );
      const bytes = applyEdits(stream, edits ?? [], [stream]);
      const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
      const chunks: Uint8Array[] = [];
      let last = 0;
      for (const p of [...points, bytes.length]) {
        if (p > last) chunks.push(new Uint8Array(bytes.subarray(last, p)));
        last = p;
      }
      return { kind: "ttrpc" as const, chunks };
    });
}

/** A socket as TtrpcServer.serve uses it: data in, writes collected, destroy recorded. */
class FakeSocket extends EventEmitter {
  written: Buffer[] = [];
  destroyed = false;
  write(b: Uint8Array): boolean {
    this.written.push(Buffer.from(b));
    return true;
  }
  destroy(): this {
    if (!this.destroyed) {
      this.destroyed = true;
      this.emit("close");
    }
    return this;
  }
}

function ttrpcServer() {
  const server = createTtrpcServer();
  // Handlers answer at once with an empty message: the decoding is what is fuzzed.
  for (const s of TTRPC_SERVICES) {
    const impl: Record<string, () => Promise<object>> = {};
    for (const m of s.methods) impl[m.localName] = async () => ({});
    addTtrpcService(server, s, impl as unknown as Partial<ServiceImpl<GenServiceMethods>>);
  }
  return server;
}

async function runTtrpc(chunks: Uint8Array[]): Promise<void> {
  const server = ttrpcServer();
  const sock = new FakeSocket();
  server.serve(sock as unknown as Socket);
  // What the server should see: frames as an independent reader splits them.
  const expected = new FrameReader();
  const frames = chunks.flatMap((c) => expected.push(c));
  const ids = frames.map((f) => f.streamId);
  // The reader must not depend on how the bytes were cut.
  const whole = new FrameReader().push(Buffer.concat(chunks));
  check(
    whole.length === frames.length &&
      whole.every((f, i) => f.streamId === frames[i]!.streamId && Buffer.compare(f.payload, frames[i]!.payload) === 0),
    () => `frames depend on the chunking | ${whole.length} whole vs ${frames.length} chunked`,
  );
  for (const c of chunks) {
    try {
      sock.emit("data", Buffer.from(c));
    } catch (err) {
      const what = "the ttrpc data handler threw (an uncaught exception in a real socket)";
      throw new Finding(`${what}: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
        signature: what,
      });
    }
  }
  // Answers are asynchronous (the handlers are): wait until all came or a second passed.
  const deadline = Date.now() + 1000;
  const answers = () => {
    const r = new FrameReader();
    return sock.written.flatMap((b) => r.push(b));
  };
  while (answers().length < ids.length && !sock.destroyed && Date.now() < deadline) {
    await new Promise((r) => setImmediate(r));
  }
  const got = answers();
  check(!sock.destroyed, "the server dropped the connection");
  check(got.length === ids.length, () => `frames answered: ${got.length} of ${ids.length} | ids ${ids.join(",")}`);
  for (const f of got) {
    check(f.type === MESSAGE_RESPONSE, "an answer is not a response frame");
    const res = fromBinary(ResponseSchema, f.payload);
    check(res.status !== undefined, "a response without a status");
  }
  const want = [...ids].sort((a, b) => a - b).join(",");
  const have = got
    .map((f) => f.streamId)
    .sort((a, b) => a - b)
    .join(",");
  check(want === have, () => `answers on the wrong stream ids | ${have} for ${want}`);
  sock.destroy();
  await server.close();
}

// ---- gRPC ----

function grpcArbitrary(): fc.Arbitrary<WireInput> {
  const all: { service: number; method: number; m: DescMethod }[] = [];
  GRPC_SERVICES.forEach((s, si) => {
    s.methods.forEach((m, mi) => {
      all.push({ service: si, method: mi, m });
    });
  });
  return fc.nat({ max: all.length - 1 }).chain((i) => {
    const { service, method, m } = all[i]!;
    return payloadArbitrary([sampleBytes(m.input)]).map((bytes) => ({ kind: "grpc" as const, service, method, bytes }));
  });
}

const definitions = GRPC_SERVICES.map((s) => serviceDefinition(s));

function runGrpc(input: { service: number; method: number; bytes: Uint8Array }): void {
  const si = input.service % GRPC_SERVICES.length;
  const s = GRPC_SERVICES[si]!;
  const m = s.methods[input.method % s.methods.length]!;
  const def = definitions[si]![m.localName]!;
  let msg: unknown;
  try {
    msg = def.requestDeserialize(Buffer.from(input.bytes));
  } catch {
    return; // grpc-js answers INTERNAL "Error deserializing request": a refusal
  }
  const again = def.requestSerialize(msg);
  const back = def.requestDeserialize(again);
  check(
    equals(m.input, msg as never, back as never),
    () => `a decoded ${m.input.typeName} does not survive encoding | ${m.name}`,
  );
}

export function createTarget(): FuzzTarget<WireInput> {
  return {
    name: "ttrpc-grpc",
    about:
      "ttrpc frame streams into the real TtrpcServer (one answer per frame, no throw, no drop); gRPC request decoding round-trips",
    arbitrary: fc.oneof(ttrpcArbitrary(), grpcArbitrary()),
    run: (input) => (input.kind === "ttrpc" ? runTtrpc(input.chunks) : runGrpc(input)),
    // Only invariants fail here: refusals are answered inside the server.
    isExpected: () => false,
    slowMs: 2000,
  };
}
