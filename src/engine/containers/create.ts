// docker create: the request decoded and checked, the image resolved, the name reserved, the
// container's directory and host files written, its containerd record and snapshot made with
// its spec (written once: spec/'s buildSpec with the image's users, image-users.ts), then its
// record saved. A failure leaves no record, name, directory or snapshot behind.
import { join } from "node:path";
import type { ContainerRuntime } from "../../client/containers.ts";
import { ResolvedImages } from "../../client/resolved-images.ts";
import type { ResolvedImage } from "../../client/rootfs.ts";
import { runcOptionsAny } from "../../client/type-urls.ts";
import { errorMessage, InvalidArgumentError, NotFoundError } from "../../common/errors.ts";
import { withTempMount } from "../../common/mount/mounter.ts";
import { formatReference, parseReference } from "../../oci/registry/reference.ts";
import { hostFileMounts, writeHostFiles } from "./host-files.ts";
import { imageConfigOf } from "./image-config.ts";
import { ImageUsers } from "./image-users.ts";
import { newLive } from "./live.ts";
import { logDriverOf } from "./log-config.ts";
import { normalizeName } from "./names.ts";
import { type ContainerRecord, createdState, newContainerId } from "./record.ts";
import { buildSpec, checkCreate, specJson } from "./spec/build.ts";
import { decodeCreateRequest } from "./spec/decode.ts";
import { mergeConfig } from "./spec/merge.ts";
import { DEFAULT_SHM_SIZE } from "./spec/mounts.ts";
import { mergeCommand, processArgs } from "./spec/process.ts";
import type { UserDb } from "./spec/user.ts";
import { rootfsUserDb } from "./spec/user-db.ts";
import type { ContainerTable } from "./table.ts";
import { familiarImage } from "./views.ts";

/** What may be an image id or a prefix of one, with or without "sha256:". */
const IMAGE_ID = /^(sha256:)?[0-9a-f]{4,64}$/;

/** The runtime berthd runs linked into berth-shim (no binary named). */
const LINKED_RUNTIME = "berth-runc";
const SHIM = "io.containerd.berth.v1";

/**
 * The spec as containerd stores it: JSON with RLIM_INFINITY written exactly (a plain value
 * would turn the uint64 into an inexact double).
 */
function containerdSpec(spec: Parameters<typeof specJson>[0]): unknown {
  const raw = (JSON as unknown as { rawJSON(t: string): unknown }).rawJSON;
  return JSON.parse(specJson(spec), (_k, v: unknown, ctx?: { source?: string }) =>
    typeof v === "number" && !Number.isSafeInteger(v) && Number.isInteger(v) && ctx?.source ? raw(ctx.source) : v,
  );
}

export class ContainerCreator {
  readonly #t: ContainerTable;
  readonly #imageUsers = new ImageUsers();
  readonly #resolvedImages = new ResolvedImages();
  /** How an image named by id or id prefix is found (the images side, once it is up). */
  imageStoreName: ((s: string) => Promise<string | undefined>) | undefined;

  constructor(t: ContainerTable) {
    this.#t = t;
  }

  /** POST /containers/create. */
  async create(body: unknown, nameParam: string | null): Promise<{ Id: string; Warnings: string[] }> {
    const { config, hostConfig } = decodeCreateRequest(body);
    checkCreate(config, hostConfig, this.#t.host, this.#t.opts.dataRoot);
    // dockerd's defaults, kept in the record as it keeps them (inspect shows them).
    hostConfig.IpcMode ||= "private";
    hostConfig.CgroupnsMode ||= this.#t.host.cgroupVersion === 2 ? "private" : "host";
    if (hostConfig.ShmSize <= 0) hostConfig.ShmSize = DEFAULT_SHM_SIZE;
    hostConfig.LogConfig.Type ||= "json-file";
    logDriverOf(hostConfig.LogConfig); // a driver or option berthd cannot apply: 400, nothing made
    if (config.Image === "") throw new InvalidArgumentError("No image specified");
    // An image id or id prefix (docker run <id>) names the image it is; anything else is a name.
    const byId = IMAGE_ID.test(config.Image) ? await this.imageStoreName?.(config.Image) : undefined;
    const imageName = byId ?? formatReference(parseReference(config.Image));
    const runtimeName = hostConfig.Runtime || this.#t.opts.defaultRuntime;
    const runtime = this.#runtime(runtimeName);
    const name = nameParam ? normalizeName(nameParam) : this.#t.names.randomName();
    const id = newContainerId();
    this.#t.names.reserve(name, id);
    let dir: string | undefined;
    /** The containerd container (and its snapshot) exists. */
    let made = false;
    /** The record is on disk: from here on the container exists, whatever fails after. */
    let saved = false;
    try {
      let image: ResolvedImage;
      try {
        const ports = this.#t.conn.remote.ports();
        image = await this.#resolvedImages.resolve(ports.images, ports.content, imageName);
      } catch (err) {
        if (err instanceof NotFoundError) throw new NotFoundError(`No such image: ${familiarImage(imageName)}`);
        throw err;
      }
      const imageConfig = imageConfigOf(image.config.config);
      const merged = mergeConfig(config, imageConfig);
      const args = processArgs(mergeCommand(merged, {}));
      const hostname = config.Hostname || id.slice(0, 12);
      merged.Hostname = hostname;
      dir = this.#t.store.makeDir(id);
      const files = writeHostFiles(dir, hostname, hostConfig);
      let warnings: string[] = [];
      const build = (users: UserDb) =>
        buildSpec({
          config: merged,
          hostConfig,
          image: imageConfig,
          hostname,
          rootfs: "rootfs",
          users,
          host: this.#t.host,
          cgroupsPath: `/${this.#t.conn.namespace}/${id}`,
          ...(this.#t.opts.initBinary === undefined ? {} : { initBinary: this.#t.opts.initBinary }),
          extraMounts: hostFileMounts(files),
          daemonRoot: this.#t.opts.dataRoot,
        });
      // The record is written once, with its spec: the image's users come from the snapshot just
      // prepared on its chain (mounted read-only), or from the first container of the image
      // (image-users.ts). A failure leaves neither record nor snapshot.
      await this.#t.conn.newContainer({
        id,
        image: imageName,
        resolved: image,
        labels: { ...merged.Labels },
        runtime,
        spec: undefined,
        specFrom: async (rootfs) => {
          const known = this.#imageUsers.get(image.chainId);
          const built = known
            ? build(known)
            : await withTempMount(rootfs, true, async (root) =>
                build(this.#imageUsers.remember(image.chainId, rootfsUserDb(root))),
              );
          warnings = built.warnings;
          return containerdSpec(built.spec);
        },
      });
      made = true;
      const record: ContainerRecord = {
        ID: id,
        Name: name,
        Created: new Date().toISOString(),
        Path: args[0]!,
        Args: args.slice(1),
        Config: merged,
        HostConfig: hostConfig,
        Image: image.configDigest,
        ImageName: imageName,
        State: createdState(),
        Runtime: runtimeName,
        RestartCount: 0,
        LogPath: join(dir, `${id}-json.log`),
        ResolvConfPath: files.resolvConf,
        HostnamePath: files.hostname,
        HostsPath: files.hosts,
      };
      this.#t.store.save(record);
      saved = true;
      this.#t.live.set(id, newLive(record));
      this.#t.events.container(record, "create");
      return { Id: id, Warnings: warnings };
    } catch (err) {
      if (!saved) {
        // A save that failed left a record nobody will load: undo all of it, the name last.
        if (made) {
          await this.#t.conn.removeContainer(id).catch((e: unknown) => {
            this.#t.log.warn("create: removing the containerd container of a failed create", {
              id,
              error: errorMessage(e),
            });
          });
        }
        if (dir) this.#t.store.remove(id);
        this.#t.names.release(name, id);
      }
      throw err;
    }
  }

  #runtime(name: string): ContainerRuntime {
    const rt = this.#t.opts.runtimes[name];
    if (!rt) throw new InvalidArgumentError(`unknown or invalid runtime name: ${name}`);
    if (name === LINKED_RUNTIME) return { name: SHIM };
    return { name: SHIM, options: runcOptionsAny({ binaryName: rt.path }) };
  }
}
