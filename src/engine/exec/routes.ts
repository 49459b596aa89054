// The exec routes: POST /containers/{id}/exec (201 {Id}), POST /exec/{id}/start (hijacked like
// attach: stdcopy frames without a TTY, raw with one; 200 at once when detached), POST
// /exec/{id}/resize, GET /exec/{id}/json. docker CLI's `docker exec`: create → start (hijacked)
// → resize with -t → inspect for the exit code once the stream ends.
import { streamContentType } from "../api/hijack.ts";
import { queryInt } from "../api/query.ts";
import type { ApiServer } from "../api/server.ts";
import { decodeExecStart } from "./decode.ts";
import type { ExecService } from "./service.ts";

export function addExecRoutes(api: ApiServer, execs: ExecService): void {
  api.route("POST", "/containers/{name}/exec", async (ctx) => ({
    status: 201,
    json: execs.create(ctx.params.name!, await ctx.readJson()),
  }));

  api.route("POST", "/exec/{id}/start", async (ctx) => {
    const id = ctx.params.id!;
    const opts = decodeExecStart(await ctx.readJson());
    execs.checkStart(id);
    if (opts.Detach) {
      await execs.start(id, opts, undefined);
      return { status: 200, text: "" };
    }
    const socket = ctx.hijack(streamContentType(opts.Tty, ctx.version));
    await execs.startAttached(id, opts, socket);
    return undefined;
  });

  api.route("POST", "/exec/{id}/resize", async (ctx) => {
    const h = queryInt(ctx.query, "h", { min: 0, max: 65_535 }, 0);
    const w = queryInt(ctx.query, "w", { min: 0, max: 65_535 }, 0);
    await execs.resize(ctx.params.id!, h, w);
    return { status: 200, text: "" };
  });

  api.route("GET", "/exec/{id}/json", (ctx) => ({ json: execs.inspect(ctx.params.id!) }));
}
