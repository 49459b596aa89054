// The routes of docker cp, docker export and docker diff (logic in ./archive/): HEAD, GET and
// PUT /containers/{id}/archive, GET /containers/{id}/export, GET /containers/{id}/changes.
import type { ServerResponse } from "node:http";
import { encodePathStat, PATH_STAT_HEADER } from "../../common/archive/path-stat.ts";
import { errorMessage } from "../../common/errors.ts";
import { queryBool } from "../api/query.ts";
import type { ApiServer, RequestContext } from "../api/server.ts";
import { type ArchiveService, requirePath } from "./archive/service.ts";

/**
 * How long a client may take to make room for the next chunk. The container's operations wait
 * for the archive (its snapshot may be mounted for it), so a client that stops reading is cut off
 * rather than holding `docker stop` or `docker rm` forever.
 */
export const STALLED_CLIENT_MS = 60_000;

/** Writes a chunk at the client's pace; rejects when the client has gone or stalled. */
export function writer(res: ServerResponse, stalledMs: number): (chunk: Buffer) => Promise<void> {
  return (chunk) =>
    new Promise((resolve, reject) => {
      if (res.destroyed) {
        reject(new Error("the client went away"));
        return;
      }
      if (res.write(chunk)) {
        resolve();
        return;
      }
      const done = () => {
        clearTimeout(timer);
        res.off("drain", done);
        res.off("close", done);
        if (res.destroyed) reject(new Error("the client went away"));
        else resolve();
      };
      const timer = setTimeout(() => {
        res.destroy();
        done();
      }, stalledMs);
      res.on("drain", done);
      res.on("close", done);
    });
}

/** A tar answer: headers once the path is found, the stream after; a failure mid-stream ends the connection. */
async function streamTar(
  ctx: RequestContext,
  run: (start: (headers: Record<string, string>) => void, write: (c: Buffer) => Promise<void>) => Promise<void>,
): Promise<undefined> {
  let started = false;
  try {
    await run(
      (headers) => {
        started = true;
        ctx.res.writeHead(200, { "Content-Type": "application/x-tar", ...headers });
      },
      writer(ctx.res, STALLED_CLIENT_MS),
    );
    ctx.res.end();
  } catch (err) {
    if (!started) throw err;
    ctx.log.warn("tar stream ended early", { error: errorMessage(err) });
    ctx.res.destroy();
  }
  return undefined;
}

export function addArchiveRoutes(api: ApiServer, archive: ArchiveService): void {
  const name = (ctx: RequestContext) => ctx.params.name!;

  api.route("HEAD", "/containers/{name}/archive", async (ctx) => {
    const stat = await archive.stat(name(ctx), requirePath(ctx.query.get("path")));
    return { headers: { [PATH_STAT_HEADER]: encodePathStat(stat), "Content-Type": "application/json" } };
  });

  api.route("GET", "/containers/{name}/archive", (ctx) => {
    const path = requirePath(ctx.query.get("path"));
    return streamTar(ctx, (start, write) =>
      archive.archive(name(ctx), path, (stat) => start({ [PATH_STAT_HEADER]: encodePathStat(stat) }), write),
    );
  });

  api.route(
    "PUT",
    "/containers/{name}/archive",
    async (ctx) => {
      const path = requirePath(ctx.query.get("path"));
      await archive.extract(name(ctx), path, ctx.req, {
        noOverwriteDirNonDir: queryBool(ctx.query, "noOverwriteDirNonDir"),
        copyUIDGID: queryBool(ctx.query, "copyUIDGID"),
      });
      return { status: 200 };
    },
    // The body is streamed to the spool by the service, which bounds it itself.
    { bodyLimit: 0 },
  );

  api.route("GET", "/containers/{name}/export", (ctx) =>
    streamTar(ctx, (start, write) => archive.export(name(ctx), () => start({}), write)),
  );

  api.route("GET", "/containers/{name}/changes", async (ctx) => ({ json: await archive.changes(name(ctx)) }));
}
