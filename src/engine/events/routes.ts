// GET /events: the kept events within since/until, then (unless until has passed) the live ones
// until the client goes away or until comes; one JSON object per line, headers at once (the CLI
// waits for them). With neither since nor until only live events come, as dockerd answers. A
// client that stops reading is cut off once its backlog passes MAX_BACKLOG: the bus never waits.
import { parseFilters } from "../api/query.ts";
import type { ApiServer } from "../api/server.ts";
import { type EventBus, nowNano } from "./bus.ts";
import { eventJson } from "./event.ts";
import { EVENT_FILTERS, eventMatcher, eventWindow } from "./filter.ts";

/** Unread bytes a subscriber may have queued before it is dropped. */
export const MAX_BACKLOG = 4 << 20;

export function addEventRoutes(api: ApiServer, bus: EventBus): void {
  api.route("GET", "/events", (ctx) => {
    const match = eventMatcher(parseFilters(ctx.query.get("filters"), EVENT_FILTERS));
    const { since, until } = eventWindow(ctx.query.get("since"), ctx.query.get("until"));
    const res = ctx.res;
    res.writeHead(200, { "Content-Type": "application/json" });
    res.flushHeaders();
    if (since !== undefined || until !== undefined) {
      for (const e of bus.recent(since, until)) if (match(e)) res.write(`${eventJson(e, ctx.version)}\n`);
    }
    const left = until === undefined ? undefined : until - nowNano();
    if (left !== undefined && left <= 0n) {
      res.end();
      return undefined;
    }
    return new Promise<undefined>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        unsubscribe();
        clearTimeout(timer);
        if (!res.destroyed && !res.writableEnded) res.end();
        resolve(undefined);
      };
      const unsubscribe = bus.subscribe((e) => {
        if (!match(e) || res.destroyed) return;
        if (res.writableLength > MAX_BACKLOG) {
          ctx.log.warn("an events client fell too far behind and was cut off", { backlog: res.writableLength });
          res.destroy();
          done();
          return;
        }
        res.write(`${eventJson(e, ctx.version)}\n`);
      });
      // Until may lie far ahead: a timer past setTimeout's range ends never (the client does).
      if (left !== undefined && left < 2_000_000_000n * 1_000_000n) {
        timer = setTimeout(done, Number(left / 1_000_000n) + 1);
      }
      res.once("close", done);
    });
  });
}
