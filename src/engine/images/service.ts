// berthd's images, kept in containerd's image store (the daemon's namespace) over src/client:
// list and find (by name, id or id prefix), tag, remove with dockerd's rules, load and save
// archives (src/oci's import/export; loaded images are unpacked into the snapshotter), pull
// (berth-containerd's transfer service, or the client-side pull on another containerd), prune.
// Names are docker's full names (docker.io/library/busybox:latest); an image that loses its last
// name while something still holds it keeps a dangling name (moby-dangling@<digest>, dockerd's).
import { createHash } from "node:crypto";
import { Readable, type Writable } from "node:stream";
import type { ContainerdConnection } from "../../client/connection.ts";
import { resolveTarget } from "../../client/rootfs.ts";
import { transferPull } from "../../client/transfer.ts";
import { BerthError, errorMessage, InvalidArgumentError, NotFoundError } from "../../common/errors.ts";
import type { DaemonLogger } from "../../common/log.ts";
import { chainIds } from "../../oci/image/identity.ts";
import { MediaType } from "../../oci/image/media-types.ts";
import { hostPlatform, parsePlatform } from "../../oci/image/platforms.ts";
import { RegistryClient } from "../../oci/registry/registry-client.ts";
import { readStoredDocument } from "../../oci/size-limits.ts";
import { exportImages, importImages } from "../../oci/transfer/archive.ts";
import type { BlobDescriptor, ContainerdPorts } from "../../oci/transfer/ports.ts";
import type { ProgressListener } from "../../oci/transfer/progress.ts";
import { pull } from "../../oci/transfer/pull.ts";
import { push } from "../../oci/transfer/push.ts";
import { unpackLayers } from "../../oci/transfer/unpack.ts";
import type { Filters } from "../api/query.ts";
import { type ContainerSubject, type EngineEvents, NO_EVENTS } from "../events/emit.ts";
import { applyChanges } from "./changes.ts";
import { commitConfig, diffContainerLayer } from "./commit.ts";
import { imageFilter } from "./filters.ts";
import { configFacts, groupImages, type Image, type ImageRecord, imageSize, type ResolvedTarget } from "./image.ts";
import {
  DANGLING_PREFIX,
  familiarName,
  type ImageRef,
  isDanglingName,
  parseImageRef,
  parseTagTarget,
} from "./reference.ts";
import type { RegistryAuth } from "./registry-auth.ts";
import { planRemove, type RemoveRef, removeAnswer } from "./remove.ts";
import { importRootfs } from "./rootfs-import.ts";
import { type ImageUsers, NO_USERS } from "./users.ts";

export interface ImageServiceOptions {
  conn: ContainerdConnection;
  log: DaemonLogger;
  users?: ImageUsers;
  snapshotter?: string;
  /** Where loaded archives are spooled (berthd: <data-root>/tmp, as dockerd's; not a RAM /tmp). */
  spoolDir?: string;
  /** Where image events go (GET /events); none: nowhere. */
  events?: EngineEvents;
}

/** Resolved targets and layer usages kept: content and committed snapshots never change. */
const CACHE_ENTRIES = 4096;
const FULL_ID = /^(sha256:)?([a-f0-9]{64})$/;
const ID_PREFIX = /^(sha256:)?([a-f0-9]{1,63})$/;

/** The image found for a reference, and how it was named. */
export interface Found {
  image: Image;
  ref: RemoveRef;
}

export class ImageService {
  readonly #conn: ContainerdConnection;
  readonly #log: DaemonLogger;
  readonly #snapshotter: string;
  readonly #spoolDir: string | undefined;
  readonly #events: EngineEvents;
  #users: ImageUsers;
  readonly #resolved = new Map<string, ResolvedTarget>();
  readonly #usage = new Map<string, number>();

  constructor(opts: ImageServiceOptions) {
    this.#conn = opts.conn;
    this.#log = opts.log;
    this.#users = opts.users ?? NO_USERS;
    this.#snapshotter = opts.snapshotter ?? "overlayfs";
    this.#spoolDir = opts.spoolDir;
    this.#events = opts.events ?? NO_EVENTS;
  }

  /** An image event named by the image's id, as dockerd names untag, delete, load, save, import. */
  #idEvent(id: string, action: string): void {
    this.#events.image(id, action, { name: id });
  }

  /** The containers side answers "who uses this image?" once it is up. */
  setUsers(users: ImageUsers): void {
    this.#users = users;
  }

  #ports(): ContainerdPorts {
    return this.#conn.remote.ports();
  }

  /** Every record of the namespace, with containerd's times. */
  async records(): Promise<ImageRecord[]> {
    return this.#ports().images.list();
  }

  async #resolve(rec: ImageRecord): Promise<ResolvedTarget | undefined> {
    const hit = this.#resolved.get(rec.target.digest);
    if (hit) return hit;
    try {
      const r = await resolveTarget(this.#ports().content, rec.target, rec.name);
      const resolved: ResolvedTarget = {
        configDigest: r.configDigest,
        manifestDigest: r.manifestDigest,
        layers: r.layers,
        config: r.config,
        facts: configFacts(r.configBytes),
        chainId: r.chainId,
      };
      if (this.#resolved.size >= CACHE_ENTRIES) this.#resolved.clear();
      this.#resolved.set(rec.target.digest, resolved);
      return resolved;
    } catch (err) {
      // A record whose content is not (or no longer) all there is no image to show: a pull or an
      // import still under way, or another client's half-written record.
      this.#log.debug("image record skipped", { name: rec.name, error: errorMessage(err) });
      return undefined;
    }
  }

  /** Each layer's unpacked size (its snapshot's usage), or its blob's size when not unpacked. */
  async #layerSizes(r: ResolvedTarget): Promise<number[]> {
    const chain = chainIds(r.config.rootfs.diff_ids);
    const out: number[] = [];
    for (const [i, layer] of r.layers.entries()) {
      const id = chain[i];
      let size = id === undefined ? undefined : this.#usage.get(id);
      if (size === undefined && id !== undefined) {
        try {
          size = (await this.#conn.snapshots(this.#snapshotter).usage(id)).size;
          if (this.#usage.size >= CACHE_ENTRIES) this.#usage.clear();
          this.#usage.set(id, size);
        } catch {}
      }
      out.push(size ?? layer.size);
    }
    return out;
  }

  async list(): Promise<Image[]> {
    const records = await this.records();
    const resolved = new Map<string, ResolvedTarget>();
    const sizes = new Map<string, number[]>();
    for (const rec of records) {
      if (resolved.has(rec.target.digest)) continue;
      const r = await this.#resolve(rec);
      if (!r) continue;
      resolved.set(rec.target.digest, r);
      if (!sizes.has(r.configDigest)) sizes.set(r.configDigest, await this.#layerSizes(r));
    }
    return groupImages(records, resolved, (r) => sizes.get(r.configDigest) ?? []);
  }

  /** For /info: a containerd that does not answer counts no images rather than failing /info. */
  async count(): Promise<number> {
    try {
      return (await this.list()).length;
    } catch (err) {
      this.#log.debug("images not counted", { error: errorMessage(err) });
      return 0;
    }
  }

  /** The image `s` names (a name, an id, or a unique id prefix), as dockerd's GetImage finds it. */
  async find(s: string, images?: Image[]): Promise<Found> {
    return findIn(images ?? (await this.list()), s);
  }

  async filtered(filters: Filters): Promise<Image[]> {
    const images = await this.list();
    const match = imageFilter(filters, (r) => findIn(images, r).image);
    return images.filter(match);
  }

  /** Points `name` at `target`; the image that loses it, if that was its last name, stays dangling. */
  async #setName(images: Image[], name: string, target: BlobDescriptor, configDigest: string): Promise<void> {
    const ports = this.#ports();
    const holder = images.find((i) => i.names.includes(name));
    if (holder && holder.id !== configDigest && holder.names.length === 1) {
      const rec = holder.records.find((r) => r.name === name)!;
      await ports.images.put({ name: `${DANGLING_PREFIX}${rec.target.digest}`, target: rec.target, labels: {} });
    }
    await ports.images.put({ name, target, labels: {} });
    // A dangling image that gets a name is no longer dangling.
    const named = images.find((i) => i.id === configDigest);
    for (const r of named?.records ?? []) if (isDanglingName(r.name)) await ports.images.delete(r.name);
  }

  /** POST /images/{name}/tag. */
  async tag(source: string, repo: string, tag: string): Promise<void> {
    const target = parseTagTarget(repo, tag);
    const images = await this.list();
    const { image, ref } = findIn(images, source);
    const rec = image.records.find((r) => ref.kind === "name" && r.name === ref.name) ?? image.records[0]!;
    await this.#setName(images, target.name, rec.target, image.id);
    this.#events.image(image.id, "tag", { name: familiarName(target.name) });
  }

  /** The containers made from `image` (by its id, its manifest or any record's target). */
  #usersOf(image: Image) {
    return this.#users.usersOf({
      id: image.id,
      targets: [...new Set([image.manifestDigest, ...image.records.map((r) => r.target.digest)])],
      names: image.names,
    });
  }

  /** DELETE /images/{name}: dockerd's answer entries. */
  async remove(s: string, opts: { force: boolean }): Promise<Record<string, string>[]> {
    const { image, ref } = await this.find(s);
    const plan = planRemove(image, ref, this.#usersOf(image), opts.force);
    const ports = this.#ports();
    if (plan.keepDangling) {
      const t = image.records[0]!.target;
      await ports.images.put({ name: `${DANGLING_PREFIX}${t.digest}`, target: t, labels: {} });
    }
    const gone = plan.delete ? image.records.map((r) => r.name) : plan.untag;
    // A deleted image's layers are gone when rmi answers, as with dockerd: a pull right after
    // downloads them again instead of finding them "Already exists".
    for (const [i, name] of gone.entries())
      await ports.images.delete(name, { sync: plan.delete && i === gone.length - 1 });
    const answer = removeAnswer(image, plan);
    for (const entry of answer) this.#idEvent(image.id, entry.Deleted === undefined ? "untag" : "delete");
    return answer;
  }

  /** POST /images/prune: unused images (only dangling ones unless dangling=false). */
  async prune(filters: Filters): Promise<{ deleted: Record<string, string>[]; reclaimed: number }> {
    const all = new Map(filters);
    if (!all.has("dangling")) all.set("dangling", ["true"]);
    const images = await this.filtered(all);
    const deleted: Record<string, string>[] = [];
    let reclaimed = 0;
    const ports = this.#ports();
    const unused = images.filter((image) => this.#usersOf(image).length === 0);
    for (const [k, image] of unused.entries()) {
      // One collection, with the last record: a full one per pruned image would walk the whole
      // store again for each; the layers are gone when prune answers all the same.
      const last = k === unused.length - 1;
      for (const [i, r] of image.records.entries())
        await ports.images.delete(r.name, { sync: last && i === image.records.length - 1 });
      deleted.push(...image.names.map((n) => ({ Untagged: familiarName(n) })), { Deleted: image.id });
      for (const _ of image.names) this.#idEvent(image.id, "untag");
      this.#idEvent(image.id, "delete");
      reclaimed += imageSize(image);
    }
    this.#events.pruned("image", reclaimed);
    return { deleted, reclaimed };
  }

  /**
   * POST /images/load: the archive (docker save or OCI layout, one image or several) imported,
   * its names normalised as docker names them, each image unpacked. Returns what was loaded.
   */
  async load(input: Readable): Promise<{ names: string[]; ids: string[] }> {
    const before = await this.list();
    const ports = this.#ports();
    let records: { name: string; target: BlobDescriptor }[];
    try {
      records = await importImages(ports, input, this.#spoolDir ? { spoolDir: this.#spoolDir } : {});
    } catch (err) {
      throw archiveError(err);
    }
    if (records.length === 0) throw new InvalidArgumentError("load: the archive names no image");
    // Every image unpacks (each layer's content checked against its config's diff_id) before any
    // is named: an archive that fails here leaves the store as it was.
    const resolved: ResolvedTarget[] = [];
    try {
      for (const rec of records) {
        const r = await resolveTarget(ports.content, rec.target, rec.name);
        await this.#unpack(ports, r.layers, r.config.rootfs.diff_ids, r.configDigest);
        resolved.push({ ...r, facts: configFacts(r.configBytes) });
      }
    } catch (err) {
      await this.#restore(
        before,
        records.map((r) => r.name),
      );
      throw archiveError(err);
    }
    const names: string[] = [];
    const ids: string[] = [];
    for (const [i, rec] of records.entries()) {
      const configDigest = resolved[i]!.configDigest;
      let ref: ImageRef | undefined;
      try {
        ref = parseImageRef(rec.name);
      } catch {}
      const name = ref?.name ?? `${DANGLING_PREFIX}${rec.target.digest}`;
      if (name !== rec.name) {
        await this.#setName(before, name, rec.target, configDigest);
        await ports.images.delete(rec.name);
      } else {
        await this.#keepLosers(before, name, configDigest);
      }
      if (ref) names.push(ref.name);
      else ids.push(configDigest);
    }
    for (const id of new Set(resolved.map((r) => r.configDigest))) this.#idEvent(id, "load");
    return { names, ids };
  }

  /** Puts `names` back as they were in `before`: the old target where there was one, else gone. */
  async #restore(before: Image[], names: string[]): Promise<void> {
    const ports = this.#ports();
    for (const name of new Set(names)) {
      const old = before.flatMap((i) => i.records).find((r) => r.name === name);
      try {
        if (old) await ports.images.put({ name, target: old.target, labels: old.labels });
        else await ports.images.delete(name);
      } catch (err) {
        this.#log.warn("image name not restored after a failed load", { name, error: errorMessage(err) });
      }
    }
  }

  /** `name` now points at another image (an import replaced it): the image it left keeps a dangling name. */
  async #keepLosers(before: Image[], name: string, configDigest: string): Promise<void> {
    const holder = before.find((i) => i.names.includes(name));
    if (!holder || holder.id === configDigest || holder.names.length !== 1) return;
    const rec = holder.records.find((r) => r.name === name)!;
    await this.#ports().images.put({ name: `${DANGLING_PREFIX}${rec.target.digest}`, target: rec.target, labels: {} });
  }

  /** Unpacks layers into the snapshotter and roots the top snapshot at the config (as a pull does). */
  async #unpack(ports: ContainerdPorts, layers: BlobDescriptor[], diffIds: string[], configDigest: string) {
    const lease = await ports.leases.create({
      "containerd.io/gc.expire": new Date(Date.now() + 3600_000).toISOString(),
    });
    try {
      const p = ports.withLease(lease);
      const chain = await unpackLayers(p, this.#snapshotter, layers, diffIds);
      const top = chain.at(-1);
      if (top) await p.content.label(configDigest, { [`containerd.io/gc.ref.snapshot.${this.#snapshotter}`]: top });
    } finally {
      await ports.leases.release(lease);
    }
  }

  /** The store names to export for `refs` (404 for the first unknown one). */
  async exportNames(refs: string[]): Promise<string[]> {
    const images = await this.list();
    const out: string[] = [];
    for (const s of refs) {
      const { image, ref } = findIn(images, s);
      const names = ref.kind === "name" ? [ref.name] : image.names.length > 0 ? image.names : [image.records[0]!.name];
      for (const n of names) if (!out.includes(n)) out.push(n);
    }
    return out;
  }

  /** GET /images/get: a tar that is a docker save archive and an OCI layout at once. */
  async save(names: string[], out: Writable): Promise<void> {
    const images = await this.list();
    await exportImages(this.#ports(), names, out);
    const ids = new Set(names.map((n) => images.find((i) => i.records.some((r) => r.name === n))?.id));
    for (const id of ids) if (id !== undefined) this.#idEvent(id, "save");
  }

  /**
   * POST /images/create?fromImage=: pulls through berth-containerd's transfer service (layers
   * unpack as they land, in the daemon), or, when the daemon has none (Debian's containerd), with
   * the client-side pull over the same API. Returns the root digest and whether it was there.
   */
  async pull(
    ref: ImageRef,
    opts: { platform?: string; auth?: RegistryAuth; progress: ProgressListener; signal: AbortSignal },
  ): Promise<{ digest: string; upToDate: boolean }> {
    const ports = this.#ports();
    const before = await this.list();
    const had = (await ports.images.get(ref.name))?.target.digest;
    const platforms = opts.platform ? [opts.platform] : [];
    let digest: string;
    try {
      // The transfer service takes a user and password; an identity token needs the client's pull.
      if (opts.auth?.identityToken) throw new BerthError("not-implemented", "identity token");
      digest = (
        await transferPull(this.#conn.address, ref.name, {
          namespace: this.#conn.namespace,
          snapshotter: this.#snapshotter,
          platforms,
          ...(opts.auth ? { username: opts.auth.username, password: opts.auth.password } : {}),
          progress: opts.progress,
          signal: opts.signal,
        })
      ).digest;
    } catch (err) {
      if (!(err instanceof BerthError && err.kind === "not-implemented")) throw err;
      const registry = registryFor(opts.auth);
      try {
        const pulled = await pull(ports, registry, ref.name, {
          snapshotter: this.#snapshotter,
          platforms,
          progress: opts.progress,
          signal: opts.signal,
        });
        digest = pulled.target.digest;
      } finally {
        await registry.close();
      }
    }
    if (had !== undefined && had !== digest) {
      const after = (await this.list()).find((i) => i.names.includes(ref.name));
      if (after) await this.#keepLosers(before, ref.name, after.id);
    }
    // dockerd names a pull by the reference it pulled, familiar; its name attribute is the repository.
    this.#events.image(familiarName(ref.name), "pull", { name: familiarName(ref.repo) });
    return { digest, upToDate: had === digest };
  }

  /**
   * POST /images/create?fromSrc=-: a filesystem tar as a one-layer image, with --change and -m,
   * unpacked and named `ref` (none: it stays dangling). Returns the image id.
   */
  async importTar(
    input: Readable,
    opts: { ref?: ImageRef; changes: string[]; message: string; platform?: string },
  ): Promise<string> {
    const config = applyChanges({}, opts.changes);
    const platform = opts.platform ? parsePlatform(opts.platform) : hostPlatform();
    const before = await this.list();
    const ports = this.#ports();
    let imported: Awaited<ReturnType<typeof importRootfs>>;
    try {
      imported = await importRootfs(ports, input, {
        config,
        message: opts.message,
        platform,
        ...(this.#spoolDir ? { spoolDir: this.#spoolDir } : {}),
      });
    } catch (err) {
      throw archiveError(err);
    }
    try {
      try {
        await this.#unpack(ports, [imported.layer], [imported.diffId], imported.configDigest);
      } catch (err) {
        throw archiveError(err);
      }
      const name = opts.ref?.name ?? `${DANGLING_PREFIX}${imported.manifest.digest}`;
      await this.#setName(before, name, imported.manifest, imported.configDigest);
    } finally {
      await ports.leases.release(imported.lease);
    }
    if (opts.ref) this.#events.image(imported.configDigest, "tag", { name: familiarName(opts.ref.name) });
    this.#idEvent(imported.configDigest, "import");
    return imported.configDigest;
  }

  /**
   * The store name a container create may use for `s`, found as dockerd finds an image (a full
   * id, a name, an id prefix): `docker run <id>` and docker-py's containers.run(image.id) name
   * images by id. Undefined when no image answers to it.
   */
  async storeName(s: string): Promise<string | undefined> {
    let found: Found;
    try {
      found = findIn(await this.list(), s);
    } catch (err) {
      if (err instanceof NotFoundError || err instanceof InvalidArgumentError) return undefined;
      throw err;
    }
    const { image, ref } = found;
    return ref.kind === "name" ? ref.name : image.records[0]?.name;
  }

  /**
   * POST /commit: the container's writable layer (its snapshot, key `containerId`) over its image
   * `imageId`, with `config` as the new image's config; unpacked and named `ref` (none: it stays
   * dangling). Returns the new image's id.
   */
  async commit(opts: {
    container: ContainerSubject;
    imageId: string;
    ref?: ImageRef;
    config: Record<string, unknown>;
    author: string;
    comment: string;
    createdBy: string;
  }): Promise<string> {
    const before = await this.list();
    const parent = findIn(before, opts.imageId).image;
    const ports = this.#ports();
    const lease = await ports.leases.create({
      "containerd.io/gc.expire": new Date(Date.now() + 3600_000).toISOString(),
    });
    try {
      const p = ports.withLease(lease);
      const containerId = opts.container.ID;
      const { layer, diffId } = await diffContainerLayer(this.#conn.remote, this.#snapshotter, containerId, lease);
      const parentBytes = await readStoredDocument(
        p.content,
        { mediaType: MediaType.ociConfig, digest: parent.configDigest, size: 0 },
        "image config",
      );
      const doc = commitConfig(JSON.parse(Buffer.from(parentBytes).toString("utf8")) as Record<string, unknown>, {
        diffId,
        created: new Date().toISOString(),
        author: opts.author,
        comment: opts.comment,
        containerId,
        config: opts.config,
        createdBy: opts.createdBy,
      });
      const layers = [...parent.layers, layer];
      const config = blobOf(MediaType.ociConfig, Buffer.from(JSON.stringify(doc)));
      const manifest = blobOf(
        MediaType.ociManifest,
        Buffer.from(
          JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: config.desc, layers }),
        ),
      );
      await p.content.write(`commit-${config.desc.digest}`, config.desc, async () => Readable.from([config.bytes]));
      const refs = Object.fromEntries(layers.map((l, i) => [`containerd.io/gc.ref.content.l.${i}`, l.digest]));
      await p.content.write(
        `commit-${manifest.desc.digest}`,
        manifest.desc,
        async () => Readable.from([manifest.bytes]),
        {
          "containerd.io/gc.ref.content.config": config.desc.digest,
          ...refs,
        },
      );
      const diffIds = (doc.rootfs as { diff_ids: string[] }).diff_ids;
      await this.#unpack(ports, layers, diffIds, config.desc.digest);
      const name = opts.ref?.name ?? `${DANGLING_PREFIX}${manifest.desc.digest}`;
      await this.#setName(before, name, manifest.desc, config.desc.digest);
      // dockerd's container event for it: the comment, the new id and the name given.
      this.#events.container(opts.container, "commit", {
        comment: opts.comment,
        imageID: config.desc.digest,
        imageRef: opts.ref ? familiarName(opts.ref.name) : "",
      });
      return config.desc.digest;
    } finally {
      await ports.leases.release(lease);
    }
  }

  /**
   * POST /images/{name}/push: the image named `ref` to its registry with the client-side push
   * over containerd's API (berth-containerd's transfer service pulls only). Returns the root
   * descriptor the registry now holds under the tag.
   */
  async push(ref: ImageRef, opts: { auth?: RegistryAuth; progress: ProgressListener }): Promise<BlobDescriptor> {
    const ports = this.#ports();
    if (!(await ports.images.get(ref.name)))
      throw new NotFoundError(`An image does not exist locally with the tag: ${familiarName(ref.name)}`);
    const registry = registryFor(opts.auth);
    try {
      const pushed = await push(ports, registry, ref.name, ref.name, { progress: opts.progress });
      this.#events.image(familiarName(ref.name), "push", { name: familiarName(ref.repo) });
      return pushed;
    } finally {
      await registry.close();
    }
  }
}

/** A registry client with the request's credentials (X-Registry-Auth) for every host, or none. */
function registryFor(auth: RegistryAuth | undefined): RegistryClient {
  const creds = auth && {
    username: auth.username,
    password: auth.password,
    ...(auth.identityToken ? { identityToken: auth.identityToken } : {}),
  };
  return new RegistryClient({ credentials: () => creds });
}

/** dockerd's GetImage over a listing: a full id, a name, then an id prefix. */
export function findIn(images: readonly Image[], s: string): Found {
  const full = FULL_ID.exec(s);
  if (full) {
    const image = images.find((i) => i.id === `sha256:${full[2]}`);
    if (image) return { image, ref: { kind: "id" } };
    throw new NotFoundError(`No such image: ${s}`);
  }
  const ref = parseImageRef(s);
  const named = images.find((i) => i.names.includes(ref.name));
  if (named) return { image: named, ref: { kind: "name", name: ref.name, given: s } };
  if (ref.digest) {
    // repo@digest: the image a name of that repository points at with that digest. Removing it
    // this way goes by id (berthd keeps no separate digest names to untag).
    const digest = ref.digest;
    const byDigest = images.find((i) =>
      i.records.some((r) => r.target.digest === digest && !isDanglingName(r.name) && r.name.startsWith(`${ref.repo}:`)),
    );
    if (byDigest) return { image: byDigest, ref: { kind: "id" } };
  }
  const prefix = ID_PREFIX.exec(s);
  if (prefix) {
    const hits = images.filter((i) => i.id.startsWith(`sha256:${prefix[2]}`));
    if (hits.length === 1) return { image: hits[0]!, ref: { kind: "id" } };
    if (hits.length > 1) throw new InvalidArgumentError(`short image id ${JSON.stringify(s)} is ambiguous`);
  }
  throw new NotFoundError(`No such image: ${familiarName(ref.name)}`);
}

/** An archive the importer refused is the request's fault (400), whatever the importer called it. */
function archiveError(err: unknown): Error {
  if (err instanceof BerthError && (err.kind === "unavailable" || err.kind === "internal")) return err;
  const message = errorMessage(err).replace(/^import: /, "");
  return new InvalidArgumentError(`invalid archive: ${message}`);
}

/** A document's bytes and its descriptor. */
function blobOf(mediaType: string, bytes: Buffer): { bytes: Buffer; desc: BlobDescriptor } {
  return {
    bytes,
    desc: { mediaType, digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}`, size: bytes.length },
  };
}
