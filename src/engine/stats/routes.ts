// GET /containers/{id}/stats (stream=true by default: a JSON document a second; stream=false: one,
// with a CPU base; one-shot=true with stream=false: one at once).
import { queryBool } from "../api/query.ts";
import type { ApiServer } from "../api/server.ts";
import { type StatsService, statsOptions } from "./service.ts";

export function addStatsRoutes(api: ApiServer, stats: StatsService): void {
  api.route("GET", "/containers/{name}/stats", async (ctx) => {
    const opts = statsOptions((name, fallback) => queryBool(ctx.query, name, fallback));
    const res = ctx.res;
    const abort = new AbortController();
    res.once("close", () => abort.abort());
    await stats.run(
      ctx.params.name!,
      opts,
      () => {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.flushHeaders();
      },
      (doc) => {
        if (res.destroyed || res.writableEnded) return false;
        res.write(`${JSON.stringify(doc)}\n`);
        return true;
      },
      abort.signal,
    );
    if (!res.destroyed && !res.writableEnded) res.end();
    return undefined;
  });
}
