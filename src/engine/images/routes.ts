// The image routes of the Engine API over the ImageService, with dockerd's shapes and statuses.
// Streams (pull, load) are dockerd's JSON messages; their headers go out with the first message,
// so a request that fails before anything happened still gets a plain error status (as dockerd
// answers when nothing was flushed yet), and one that fails later gets an error message line.
import type { ServerResponse } from "node:http";
import { BerthError, errorMessage, NotImplementedError, UnavailableError } from "../../common/errors.ts";
import { formatPlatform, parsePlatform } from "../../oci/image/platforms.ts";
import { capBytes } from "../../oci/size-limits.ts";
import { ApiError } from "../api/api-errors.ts";
import { parseFilters, queryBool } from "../api/query.ts";
import type { ApiServer, RequestContext } from "../api/server.ts";
import { MAX_CHANGE_CHARS } from "./changes.ts";
import { LIST_FILTERS, PRUNE_FILTERS, referenceNameFilter } from "./filters.ts";
import { errorMessageLine, type JsonMessage, PullMessages, PushMessages } from "./pull-progress.ts";
import { familiarName, parseImageRef } from "./reference.ts";
import { decodeRegistryAuth } from "./registry-auth.ts";
import type { ImageService } from "./service.ts";
import { historyBody, inspectBody, listEntry } from "./views.ts";

/** An archive larger than this is refused mid-upload (docker load has no limit; berthd spools to disk). */
export const MAX_LOAD_BYTES = 64 * 2 ** 30;
/** Query values naming images: bounded like a reference. */
const MAX_NAME = 512;
const MAX_SAVE_NAMES = 256;

/** dockerd's JSON message stream: each message a line ending in CRLF; headers with the first. */
class JsonStream {
  readonly #res: ServerResponse;
  started = false;

  constructor(res: ServerResponse) {
    this.#res = res;
  }

  write(m: JsonMessage): void {
    if (this.#res.destroyed) return;
    if (!this.started) {
      this.#res.writeHead(200, { "Content-Type": "application/json" });
      this.started = true;
    }
    this.#res.write(`${JSON.stringify(m)}\r\n`);
  }

  end(): void {
    if (!this.#res.destroyed) this.#res.end();
  }
}

function name(ctx: RequestContext): string {
  const n = ctx.params.name ?? "";
  if (n.length > MAX_NAME) throw new ApiError(400, "invalid reference format");
  return n;
}

/** An abort signal for a request whose client may go away mid-stream. */
function clientGone(ctx: RequestContext): AbortSignal {
  const ac = new AbortController();
  ctx.res.once("close", () => {
    if (!ctx.res.writableFinished) ac.abort(new UnavailableError("the client went away"));
  });
  return ac.signal;
}

export function addImageRoutes(api: ApiServer, images: ImageService): void {
  api.route("GET", "/images/json", async (ctx) => {
    const filters = parseFilters(ctx.query.get("filters"), LIST_FILTERS);
    // dockerd always fills RepoDigests; `digests` (the CLI's --digests) changes nothing here.
    queryBool(ctx.query, "digests");
    const list = await images.filtered(filters);
    list.sort((a, b) => (b.facts.created < a.facts.created ? -1 : b.facts.created > a.facts.created ? 1 : 0));
    const keep = referenceNameFilter(filters);
    return { json: list.map((i) => listEntry(i, ctx.version, -1, keep)) };
  });

  api.route("GET", "/images/{name:*}/json", async (ctx) => ({
    json: inspectBody((await images.find(name(ctx))).image, ctx.version),
  }));

  api.route("GET", "/images/{name:*}/history", async (ctx) => ({
    json: historyBody((await images.find(name(ctx))).image),
  }));

  api.route("POST", "/images/{name:*}/tag", async (ctx) => {
    const repo = ctx.query.get("repo") ?? "";
    const tag = ctx.query.get("tag") ?? "";
    if (repo.length > MAX_NAME || tag.length > MAX_NAME) throw new ApiError(400, "invalid reference format");
    await images.tag(name(ctx), repo, tag);
    return { status: 201 };
  });

  api.route("DELETE", "/images/{name:*}", async (ctx) => ({
    json: await images.remove(name(ctx), { force: queryBool(ctx.query, "force") }),
  }));

  api.route("POST", "/images/prune", async (ctx) => {
    const filters = parseFilters(ctx.query.get("filters"), PRUNE_FILTERS);
    const r = await images.prune(filters);
    return { json: { ImagesDeleted: r.deleted.length > 0 ? r.deleted : null, SpaceReclaimed: r.reclaimed } };
  });

  api.route("GET", "/images/search", (ctx) => {
    const term = ctx.query.get("term") ?? "";
    throw new UnavailableError(
      `Error searching registries for ${JSON.stringify(term.slice(0, 128))}: berthd does not reach registry search APIs (offline)`,
    );
  });

  api.route("POST", "/images/{name:*}/push", async (ctx) => {
    const tag = ctx.query.get("tag") ?? "";
    if (tag.length > MAX_NAME) throw new ApiError(400, "invalid reference format");
    const given = name(ctx);
    const ref = parseImageRef(tag === "" ? given : `${given}:${tag}`);
    const auth = decodeRegistryAuth(ctx.req.headers["x-registry-auth"]);
    const stream = new JsonStream(ctx.res);
    const messages = new PushMessages(ref);
    try {
      const pushed = await images.push(ref, {
        ...(auth ? { auth } : {}),
        progress: (e) => {
          if (!stream.started) stream.write(messages.start());
          for (const m of messages.on(e)) stream.write(m);
        },
      });
      if (!stream.started) stream.write(messages.start());
      for (const m of messages.finish(ref.tag ?? "latest", pushed.digest, pushed.size)) stream.write(m);
    } catch (err) {
      if (!stream.started) throw err;
      stream.write(errorMessageLine(errorMessage(err)));
    }
    stream.end();
    return undefined;
  });

  api.route("POST", "/images/create", async (ctx) => {
    if (ctx.query.get("fromSrc") !== null) return importTar(ctx, images);
    const from = ctx.query.get("fromImage") ?? "";
    const tag = ctx.query.get("tag") ?? "";
    if (from.length > MAX_NAME || tag.length > MAX_NAME) throw new ApiError(400, "invalid reference format");
    if (from === "") throw new ApiError(400, "invalid reference format");
    // tag may be a tag or a digest (`docker pull x@sha256:...` sends it apart on old clients).
    const ref = parseImageRef(tag === "" ? from : tag.startsWith("sha256:") ? `${from}@${tag}` : `${from}:${tag}`);
    const platformRaw = ctx.query.get("platform") ?? "";
    const platform = platformRaw === "" ? undefined : formatPlatform(parsePlatform(platformRaw.slice(0, 128)));
    const auth = decodeRegistryAuth(ctx.req.headers["x-registry-auth"]);
    const stream = new JsonStream(ctx.res);
    const messages = new PullMessages(ref);
    let layersSeen = false;
    const signal = clientGone(ctx);
    try {
      const r = await images.pull(ref, {
        ...(platform ? { platform } : {}),
        ...(auth ? { auth } : {}),
        signal,
        progress: (e) => {
          if (e.phase === "resolved") stream.write(messages.start());
          for (const m of messages.on(e)) {
            layersSeen = true;
            stream.write(m);
          }
        },
      });
      if (!stream.started) stream.write(messages.start());
      for (const m of messages.finish(r.digest, r.upToDate)) stream.write(m);
      stream.end();
      return undefined;
    } catch (err) {
      const mapped = pullError(err, familiarName(ref.name), layersSeen);
      if (!stream.started) throw mapped;
      stream.write(errorMessageLine(errorMessage(mapped)));
      stream.end();
      return undefined;
    }
  });

  api.route("POST", "/images/load", async (ctx) => {
    const quiet = queryBool(ctx.query, "quiet");
    const body = ctx.req.pipe(
      capBytes(MAX_LOAD_BYTES, () => new ApiError(413, `request body too large: the limit is ${MAX_LOAD_BYTES} bytes`)),
    );
    ctx.req.once("error", (err) => body.destroy(err));
    const loaded = await images.load(body);
    const stream = new JsonStream(ctx.res);
    void quiet; // dockerd's quiet drops the per-layer progress; berthd sends none either way.
    for (const n of loaded.names) stream.write({ stream: `Loaded image: ${familiarName(n)}\n` });
    for (const id of loaded.ids) stream.write({ stream: `Loaded image ID: ${id}\n` });
    stream.end();
    return undefined;
  });

  const save = async (ctx: RequestContext, refs: string[]) => {
    if (refs.length === 0) throw new ApiError(400, "no image names given");
    if (refs.length > MAX_SAVE_NAMES || refs.some((r) => r.length > MAX_NAME))
      throw new ApiError(400, `at most ${MAX_SAVE_NAMES} image names, each a valid reference`);
    const names = await images.exportNames(refs);
    ctx.res.writeHead(200, { "Content-Type": "application/x-tar" });
    try {
      await images.save(names, ctx.res);
    } catch (err) {
      ctx.log.error("image save failed mid-stream", { error: errorMessage(err) });
      ctx.res.destroy();
    }
    return undefined;
  };
  api.route("GET", "/images/get", (ctx) => save(ctx, ctx.query.getAll("names")));
  api.route("GET", "/images/{name:*}/get", (ctx) => save(ctx, [name(ctx)]));
}

/** POST /images/create?fromSrc=-: `docker import`; the answer is the new image's id as a status. */
async function importTar(ctx: RequestContext, images: ImageService) {
  if (ctx.query.get("fromSrc") !== "-") {
    // Fetching a URL would send traffic wherever the caller names.
    throw new NotImplementedError("docker import from a URL is not supported by berthd: import a file or stdin");
  }
  const repo = ctx.query.get("repo") ?? "";
  const tag = ctx.query.get("tag") ?? "";
  const message = ctx.query.get("message") ?? "";
  if (repo.length > MAX_NAME || tag.length > MAX_NAME || message.length > MAX_CHANGE_CHARS)
    throw new ApiError(400, "invalid reference format");
  const ref = repo === "" ? undefined : parseImageRef(tag === "" ? repo : `${repo}:${tag}`);
  const platformRaw = ctx.query.get("platform") ?? "";
  const body = ctx.req.pipe(
    capBytes(MAX_LOAD_BYTES, () => new ApiError(413, `request body too large: the limit is ${MAX_LOAD_BYTES} bytes`)),
  );
  ctx.req.once("error", (err) => body.destroy(err));
  const id = await images.importTar(body, {
    ...(ref ? { ref } : {}),
    changes: ctx.query.getAll("changes"),
    message,
    ...(platformRaw ? { platform: platformRaw.slice(0, 128) } : {}),
  });
  const stream = new JsonStream(ctx.res);
  stream.write({ status: id });
  stream.end();
  return undefined;
}

/** A failed pull in dockerd's words where it has them. */
function pullError(err: unknown, shown: string, layersSeen: boolean): Error {
  if (!(err instanceof BerthError)) return err as Error;
  if (err.kind === "not-found" && !layersSeen)
    return new ApiError(404, `manifest for ${shown} not found: manifest unknown: manifest unknown`, "not-found");
  if (err.kind === "permission-denied" && !layersSeen) {
    return new ApiError(
      404,
      `pull access denied for ${shown.replace(/:[^:/]*$/, "")}, repository does not exist or may require 'docker login': ${err.message}`,
      "not-found",
    );
  }
  return err;
}
