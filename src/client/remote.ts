// The client's ports over containerd's gRPC API, for berth-containerd or the reference containerd
// alike: the same calls ctr makes, with the namespace, the lease and the caller's W3C trace
// (`traceparent`) carried in gRPC metadata.
import type { Readable } from "node:stream";
import { Readable as ReadableStream } from "node:stream";
import type * as grpc from "@grpc/grpc-js";
import { AlreadyExistsError, FailedPreconditionError, NotFoundError } from "../common/errors.ts";
import type { Mount } from "../common/mount/mount.ts";
import type {
  BlobDescriptor,
  ContainerdPorts,
  ContentPort,
  ImagePort,
  LeasePort,
  SnapshotPort,
  StoredImage,
} from "../oci/transfer/ports.ts";
import { Content, WriteAction } from "../proto/gen/containerd/services/content/v1/content_pb.js";
import { Diff } from "../proto/gen/containerd/services/diff/v1/diff_pb.js";
import { Images } from "../proto/gen/containerd/services/images/v1/images_pb.js";
import { Leases } from "../proto/gen/containerd/services/leases/v1/leases_pb.js";
import { Snapshots } from "../proto/gen/containerd/services/snapshots/v1/snapshots_pb.js";
import { createClient, openChannel } from "../rpc/grpc.ts";
import type { TraceContext } from "../rpc/trace.ts";

/** Bytes per Write message: large enough to amortise the per-message overhead. */
const WRITE_CHUNK = 4 << 20;

export interface RemoteOptions {
  namespace: string;
  /**
   * The trace every call belongs to: a traceparent header (sent as given) or a TraceContext (a
   * handler's, continued as its child). The daemon starts a trace per call when there is none.
   */
  trace?: TraceContext | string | undefined;
  /** A connection shared with other clients (openChannel); closed when the last of them closes. */
  channel?: grpc.Channel;
}

/** Typed clients of the services the image workflows use, sharing one channel. */
export class RemoteContainerd {
  readonly address: string;
  readonly namespace: string;
  readonly content;
  readonly images;
  readonly leases;
  readonly snapshots;
  readonly diff;

  constructor(address: string, opts: RemoteOptions) {
    this.address = address;
    this.namespace = opts.namespace;
    const channel = opts.channel ?? openChannel(address);
    const o = { namespace: opts.namespace, trace: opts.trace, channel };
    this.content = createClient(Content, address, o);
    this.images = createClient(Images, address, o);
    this.leases = createClient(Leases, address, o);
    this.snapshots = createClient(Snapshots, address, o);
    this.diff = createClient(Diff, address, o);
  }

  close(): void {
    for (const c of [this.content, this.images, this.leases, this.snapshots, this.diff]) c.close();
  }

  /** The workflow ports; `lease` scopes every write to it. */
  ports(lease = ""): ContainerdPorts {
    const call = lease ? { lease } : {};
    const content: ContentPort = {
      info: async (digest) => {
        try {
          // What a leased workflow finds it relies on, so the lease holds it against collection
          // before it is looked up: the other way round, a collection between the two (after an
          // earlier pull's lease was released) deleted a blob this pull had just been told exists.
          if (lease) await this.leases.addResource({ id: lease, resource: { id: digest, type: "content" } }, call);
          const r = await this.content.info({ digest }, call);
          return { size: Number(r.info?.size ?? 0), labels: r.info?.labels ?? {} };
        } catch (err) {
          if (err instanceof NotFoundError || (err as { kind?: string }).kind === "not-found") return undefined;
          throw err;
        }
      },
      read: (digest) => ReadableStream.from(readChunks(this, digest, call)),
      readAll: async (digest) => {
        const parts: Uint8Array[] = [];
        for await (const c of readChunks(this, digest, call)) parts.push(c);
        return Buffer.concat(parts);
      },
      label: async (digest, labels) => {
        const paths = Object.keys(labels).map((k) => `labels.${k}`);
        if (paths.length === 0) return;
        await this.content.update({ info: { digest, labels }, updateMask: { paths } }, call);
      },
      write: (ref, desc, open, labels, onProgress) => writeBlob(this, call, ref, desc, open, labels ?? {}, onProgress),
    };
    const snapshots = (snapshotter: string): SnapshotPort => ({
      snapshotter,
      exists: async (key) => {
        try {
          await this.snapshots.stat({ snapshotter, key }, call);
          if (lease)
            await this.leases.addResource({ id: lease, resource: { id: key, type: `snapshots/${snapshotter}` } }, call);
          return true;
        } catch (err) {
          if ((err as { kind?: string }).kind === "not-found") return false;
          throw err;
        }
      },
      prepare: async (key, parent, labels) => {
        const r = await this.snapshots.prepare({ snapshotter, key, parent, labels: labels ?? {} }, call);
        return r.mounts.map(toMount);
      },
      commit: async (name, key, labels) => {
        await this.snapshots.commit({ snapshotter, name, key, labels: labels ?? {} }, call);
      },
      remove: async (key) => {
        await this.snapshots.remove({ snapshotter, key }, call);
      },
    });
    const images: ImagePort = {
      get: async (name) => {
        try {
          const r = await this.images.get({ name }, call);
          return r.image ? fromImage(r.image) : undefined;
        } catch (err) {
          if ((err as { kind?: string }).kind === "not-found") return undefined;
          throw err;
        }
      },
      put: async (image) => {
        const msg = toImage(image);
        try {
          return fromImage((await this.images.create({ image: msg }, call)).image!);
        } catch (err) {
          if (!(err instanceof AlreadyExistsError) && (err as { kind?: string }).kind !== "already-exists") throw err;
          return fromImage(
            (await this.images.update({ image: msg, updateMask: { paths: ["target", "labels"] } }, call)).image!,
          );
        }
      },
      delete: async (name, opts) => {
        await this.images.delete({ name, sync: opts?.sync ?? false }, call);
      },
      list: async () => (await this.images.list({ filters: [] }, call)).images.map(fromImage),
    };
    const leases: LeasePort = {
      create: async (labels) => (await this.leases.create({ id: "", labels: labels ?? {} }, call)).lease!.id,
      release: async (id) => {
        await this.leases.delete({ id, sync: false }, call);
      },
    };
    return {
      content,
      snapshots,
      diff: {
        apply: async (layer, mounts) => {
          const r = await this.diff.apply(
            {
              diff: {
                mediaType: layer.mediaType,
                digest: layer.digest,
                size: BigInt(layer.size),
                annotations: layer.annotations ?? {},
              },
              mounts,
            },
            call,
          );
          return { digest: r.applied?.digest ?? "", size: Number(r.applied?.size ?? 0) };
        },
      },
      images,
      leases,
      withLease: (id) => this.ports(id),
    };
  }
}

/** A mount as the snapshots service sends it, as src/common's Mount. */
export const toMount = (m: { type: string; source: string; target: string; options: string[] }): Mount => ({
  type: m.type,
  source: m.source,
  target: m.target || undefined,
  options: m.options,
});

function toImage(i: StoredImage) {
  return {
    name: i.name,
    labels: i.labels,
    target: {
      mediaType: i.target.mediaType,
      digest: i.target.digest,
      size: BigInt(i.target.size),
      annotations: i.target.annotations ?? {},
    },
  };
}

type Timestamp = { seconds: bigint; nanos: number };
const dateOf = (t: Timestamp | undefined) =>
  t ? new Date(Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6)) : undefined;

function fromImage(i: {
  name: string;
  labels: Record<string, string>;
  target?: { mediaType: string; digest: string; size: bigint; annotations: Record<string, string> };
  createdAt?: Timestamp;
  updatedAt?: Timestamp;
}): StoredImage {
  const createdAt = dateOf(i.createdAt);
  const updatedAt = dateOf(i.updatedAt);
  return {
    name: i.name,
    labels: i.labels,
    target: {
      mediaType: i.target?.mediaType ?? "",
      digest: i.target?.digest ?? "",
      size: Number(i.target?.size ?? 0),
      annotations: i.target?.annotations,
    },
    ...(createdAt ? { createdAt } : {}),
    ...(updatedAt ? { updatedAt } : {}),
  };
}

async function* readChunks(
  self: RemoteContainerd,
  digest: string,
  call: { lease?: string },
): AsyncGenerator<Uint8Array> {
  for await (const r of self.content.read({ digest, offset: 0n, size: 0n }, call)) yield r.data;
}

/**
 * containerd's ingest protocol from the client side: STAT to learn how much the ingest already
 * holds, stream the rest (1 MiB per message, answered one by one), then COMMIT with the expected
 * digest. An ingest left by a crash or a dropped connection is resumed, not restarted.
 */
async function writeBlob(
  self: RemoteContainerd,
  call: { lease?: string },
  ref: string,
  desc: BlobDescriptor,
  open: (offset: number) => Promise<Readable>,
  labels: Record<string, string>,
  onProgress?: (written: number) => void,
): Promise<void> {
  const stream = self.content.write(call);
  const responses = stream.responses[Symbol.asyncIterator]();
  const next = async () => {
    const r = await responses.next();
    if (r.done) throw new FailedPreconditionError(`write ${ref}: the daemon closed the stream early`);
    return r.value;
  };
  try {
    await stream.send({ action: WriteAction.STAT, ref, total: BigInt(desc.size), expected: desc.digest });
    let offset = Number((await next()).offset);
    if (offset > desc.size) offset = 0;
    const body = await open(offset);
    // Writes are pipelined: the daemon answers each in order, and a reader drains the answers
    // while the next chunks go out, so the transfer never waits a round trip per chunk.
    let outstanding = 0;
    let wake: (() => void) | undefined;
    let committing = false;
    let failure: unknown;
    let acked = offset;
    const acks = (async () => {
      try {
        while (outstanding > 0 || !committing) {
          if (outstanding === 0) {
            await new Promise<void>((r) => {
              wake = r;
            });
            continue;
          }
          const r = await next();
          outstanding--;
          acked = Number(r.offset);
          onProgress?.(acked);
          if (r.action === WriteAction.COMMIT) return;
        }
      } catch (err) {
        failure = err;
      }
    })();
    let first = true;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async (action: WriteAction) => {
      if (failure) throw failure;
      const data = pendingBytes > 0 ? Buffer.concat(pending, pendingBytes) : new Uint8Array();
      outstanding++;
      if (action === WriteAction.COMMIT) committing = true;
      await stream.send({
        action,
        ref: first ? ref : "",
        offset: BigInt(offset),
        data,
        total: BigInt(desc.size),
        expected: desc.digest,
        labels: action === WriteAction.COMMIT ? labels : {},
      });
      wake?.();
      wake = undefined;
      first = false;
      offset += data.length;
      pending = [];
      pendingBytes = 0;
    };
    try {
      for await (const chunk of body) {
        const buf = chunk as Buffer;
        if (offset + pendingBytes + buf.length > desc.size)
          throw new FailedPreconditionError(`write ${ref}: more than the ${desc.size} bytes of ${desc.digest}`);
        pending.push(buf);
        pendingBytes += buf.length;
        if (pendingBytes >= WRITE_CHUNK) await flush(WriteAction.WRITE);
      }
    } catch (err) {
      // The source broke off (a dropped download): keep what arrived in the ingest, so the next
      // attempt resumes after it instead of starting over.
      if (pendingBytes > 0 && !failure) {
        await flush(WriteAction.WRITE);
        committing = true;
        wake?.();
        await acks;
      }
      throw err;
    }
    await flush(WriteAction.COMMIT);
    await acks;
    if (failure) throw failure;
  } catch (err) {
    // Someone (this namespace) already has it: that is success for a writer.
    if ((err as { kind?: string }).kind === "already-exists") {
      // The daemon had it (here or shared from another namespace) before seeing our commit's
      // labels: set them now, as containerd's client does after such a write.
      const paths = Object.keys(labels).map((k) => `labels.${k}`);
      if (paths.length > 0)
        await self.content.update({ info: { digest: desc.digest, labels }, updateMask: { paths } }, call);
      return;
    }
    throw err;
  } finally {
    stream.end();
  }
}
