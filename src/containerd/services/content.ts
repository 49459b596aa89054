// containerd.services.content.v1: blobs by digest, per namespace. Write is containerd's ingest
// protocol: a stream of STAT / WRITE / COMMIT actions on one ref, each answered with the ingest's
// state; a broken stream leaves the ingest to be resumed by the next writer of the ref.
import { AlreadyExistsError, InvalidArgumentError } from "../../common/errors.ts";
import { ContentDeleteSchema } from "../../proto/gen/containerd/events/store_pb.js";
import {
  type Content,
  WriteAction,
  type WriteContentRequest,
} from "../../proto/gen/containerd/services/content/v1/content_pb.js";
import type { Impl } from "../../rpc/service.ts";
import type { ContentWriter, IngestStatus } from "../content/content-store.ts";
import { validateDigest } from "../content/local-store.ts";
import { parseFilters, recordAdaptor } from "../filters/filters.ts";
import type { ContentRow } from "../metadata/content-table.ts";
import { namespaceOf, pathsOf, type ServiceDeps, ts } from "./deps.ts";
import { sizeField, storedSize } from "./int64.ts";
import { publish } from "./publish.ts";

const READ_CHUNK = 1 << 20;

const infoOf = (r: ContentRow & { size: number }) => ({
  digest: r.digest,
  size: BigInt(r.size),
  createdAt: ts(r.createdAt),
  updatedAt: ts(r.updatedAt),
  labels: r.labels,
});

const statusOf = (s: IngestStatus) => ({
  ref: s.ref,
  offset: BigInt(s.offset),
  total: storedSize(s.total),
  expected: s.expected,
  startedAt: ts(s.startedAt),
  updatedAt: ts(s.updatedAt),
});

export function contentService(deps: ServiceDeps): Impl<typeof Content> {
  const c = deps.content;
  return {
    info: async (req, ctx) => ({ info: infoOf(await c.info(namespaceOf(ctx), validateDigest(req.digest))) }),

    update: async (req, ctx) => {
      const ns = namespaceOf(ctx);
      if (!req.info) throw new InvalidArgumentError("update: info is required");
      return {
        info: infoOf(await c.update(ns, validateDigest(req.info.digest), req.info.labels, pathsOf(req.updateMask))),
      };
    },

    list: async function* (req, ctx) {
      const match = parseFilters(req.filters);
      const rows = (await c.list(namespaceOf(ctx))).filter((r) =>
        match(recordAdaptor({ digest: r.digest, size: String(r.size) }, r.labels)),
      );
      for (let i = 0; i < rows.length; i += 100) yield { info: rows.slice(i, i + 100).map(infoOf) };
    },

    delete: async (req, ctx) => {
      const ns = namespaceOf(ctx);
      c.delete(ns, validateDigest(req.digest));
      publish(deps, ns, "/content/delete", ContentDeleteSchema, { digest: req.digest });
      deps.gc.schedule();
      return {};
    },

    read: async function* (req, ctx) {
      const ns = namespaceOf(ctx);
      const digest = validateDigest(req.digest);
      const info = await c.info(ns, digest);
      // Compared as int64s: no offset a client sends is rounded into range.
      if (req.offset < 0n || req.offset > BigInt(info.size))
        throw new InvalidArgumentError(`read ${digest}: offset ${req.offset} outside [0, ${info.size}]`);
      const offset = Number(req.offset);
      // As containerd: a size of 0 or less, or past the blob's end, reads to the end.
      const size = req.size > 0n && req.size < BigInt(info.size) ? Number(req.size) : 0;
      let at = offset;
      for await (const chunk of await c.read(ns, digest, offset, size)) {
        const buf = chunk as Buffer;
        for (let i = 0; i < buf.length; i += READ_CHUNK) {
          const data = buf.subarray(i, i + READ_CHUNK);
          yield { offset: BigInt(at), data };
          at += data.length;
        }
      }
    },

    status: async (req, ctx) => ({ status: statusOf(await c.status(namespaceOf(ctx), req.ref)) }),

    listStatuses: async (req, ctx) => {
      const match = parseFilters(req.filters);
      const all = await c.listStatuses(namespaceOf(ctx));
      return { statuses: all.filter((s) => match(recordAdaptor({ ref: s.ref }))).map(statusOf) };
    },

    abort: async (req, ctx) => {
      await c.abort(namespaceOf(ctx), req.ref);
      return {};
    },

    write: (reqs, ctx) => writeStream(deps, reqs, ctx.lease, namespaceOf(ctx)),
  };
}

async function* writeStream(deps: ServiceDeps, reqs: AsyncIterable<WriteContentRequest>, lease: string, ns: string) {
  const c = deps.content;
  let writer: ContentWriter | undefined;
  let ref = "";
  try {
    for await (const req of reqs) {
      if (!writer) {
        ref = req.ref;
        if (!ref) throw new InvalidArgumentError("first message must have a reference");
        const expected = req.expected ? validateDigest(req.expected) : undefined;
        if (expected && (await claimExisting(deps, ns, expected, req.labels, lease))) {
          throw new AlreadyExistsError(`content ${expected}: already exists`);
        }
        writer = await c.writer(ns, ref, { total: sizeField("total", req.total) || undefined, expected }, lease);
      } else if (req.ref && req.ref !== ref) {
        throw new InvalidArgumentError(`write: ref changed from ${ref} to ${req.ref} within one stream`);
      }
      const w = writer;
      const answer = (action: WriteAction, extra: { digest?: string } = {}) => {
        const s = w.status();
        return {
          action,
          startedAt: ts(s.startedAt),
          updatedAt: ts(s.updatedAt),
          offset: BigInt(s.offset),
          total: storedSize(s.total),
          ...extra,
        };
      };
      switch (req.action) {
        case WriteAction.STAT:
          yield answer(WriteAction.STAT);
          break;
        case WriteAction.WRITE:
        case WriteAction.COMMIT: {
          const offset = sizeField("offset", req.offset);
          if (offset > 0 && offset !== w.offset()) {
            throw new InvalidArgumentError(`write @${offset} must occur at current offset ${w.offset()}`);
          }
          if (offset === 0 && w.offset() > 0) await w.truncate(0);
          if (req.data.length > 0) await w.write(req.data);
          if (req.action === WriteAction.WRITE) {
            yield answer(WriteAction.WRITE);
            break;
          }
          const total = sizeField("total", req.total) || w.status().total;
          const expected = req.expected || w.status().expected;
          const digest = await deps.gc.exclusive(async () => {
            const d = await w.commit(total, expected);
            if (deps.db.content.get(ns, d)) {
              // Already in this namespace: containerd answers AlreadyExists, which clients treat as done.
              deps.db.content.put(ns, d, req.labels, lease || undefined);
              throw new AlreadyExistsError(`content ${d}: already exists`);
            }
            c.committed(ns, d, req.labels, lease);
            return d;
          });
          writer = undefined;
          yield { ...answer(WriteAction.COMMIT, { digest }), offset: BigInt(total), total: BigInt(total) };
          return;
        }
        default:
          throw new InvalidArgumentError(`write: unknown action ${req.action}`);
      }
    }
  } finally {
    // The ingest stays for a later writer of the same ref; only the lock goes.
    await writer?.close();
  }
}

/**
 * Whether the blob `digest` is already stored, so the writer need not send it (under the
 * collector's lock). Only its file counts: a row whose file was lost (a disk error, an rm) is
 * written again, not claimed. A row of this namespace joins the caller's lease, or a collection
 * could take the blob mid-pull; a blob another namespace stored joins this one (shared content,
 * containerd's default policy).
 */
async function claimExisting(
  deps: ServiceDeps,
  ns: string,
  digest: string,
  labels: Record<string, string>,
  lease: string,
): Promise<boolean> {
  return deps.gc.exclusive(async () => {
    const present = await deps.content.store.info(digest).then(
      () => true,
      () => false,
    );
    if (!present) return false;
    if (!deps.db.content.get(ns, digest)) deps.content.committed(ns, digest, labels, lease);
    else if (lease) deps.db.leases.addResource(ns, lease, { type: "content", id: digest });
    return true;
  });
}
