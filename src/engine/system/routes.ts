// The system routes beside /_ping, /version and /info (api/system-routes.ts): GET /system/df
// and POST /auth. The daemon passes in what they read (SystemSources).
import { queryBool } from "../api/query.ts";
import type { ApiServer } from "../api/server.ts";
import type { ContainerRecord } from "../containers/record.ts";
import { listEntry } from "../containers/views.ts";
import type { Image } from "../images/image.ts";
import { decodeLogin, login, MAX_AUTH_BODY } from "./auth.ts";
import { type DfContainer, dfBody, dfTypes } from "./df.ts";
import type { ContainerSizer, SizeFields } from "./sizes.ts";

export interface SystemSources {
  images(): Promise<Image[]>;
  containers(): readonly ContainerRecord[];
  sizer: ContainerSizer;
}

export function addSystemExtraRoutes(api: ApiServer, sources: SystemSources): void {
  api.route("GET", "/system/df", async (ctx) => {
    const types = dfTypes(ctx.query.getAll("type").slice(0, 8));
    // `verbose` (docker system df -v) changes nothing: the answer always has every item.
    queryBool(ctx.query, "verbose");
    const wanted = types.has("image") || types.has("container");
    const images = wanted ? await sources.images() : [];
    const records = wanted ? sources.containers() : [];
    const sizes = types.has("container") ? await sources.sizer(records) : new Map<string, SizeFields>();
    const now = Date.now();
    const containers: DfContainer[] = records.map((r) => ({
      entry: listEntry(r, now),
      imageId: r.Image,
      sizes: sizes.get(r.ID) ?? {},
    }));
    return { json: dfBody({ images, containers, types }, ctx.version) };
  });

  api.route(
    "POST",
    "/auth",
    async (ctx) => {
      const req = decodeLogin(await ctx.readJson());
      const gone = new AbortController();
      ctx.res.once("close", () => {
        if (!ctx.res.writableFinished) gone.abort();
      });
      return { json: await login(req, gone.signal) };
    },
    { bodyLimit: MAX_AUTH_BODY },
  );
}
