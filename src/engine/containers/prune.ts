// POST /containers/prune (`docker container prune`, docker-py's containers.prune, dockerode's
// pruneContainers): every container that is not running — created and exited ones; a paused or
// restarting one counts as running, as in dockerd — narrowed by the label, label! and until filters, removed as
// a plain `docker rm` removes it. A container that cannot be removed (it started meanwhile) is
// left, as dockerd leaves it. The answer names the removed ones and the bytes their writable
// layers held.
import { InvalidArgumentError } from "../../common/errors.ts";
import { type Filters, labelHolds, parseFilters } from "../api/query.ts";
import type { ApiServer } from "../api/server.ts";
import type { ContainerManager } from "./manager.ts";
import type { ContainerRecord } from "./record.ts";

export const PRUNE_FILTERS = ["label", "label!", "until"] as const;

/** Writable-layer sizes by container id (the daemon's sizer); a container it leaves out counts 0. */
export type PruneSizes = (records: readonly ContainerRecord[]) => Promise<ReadonlyMap<string, { SizeRw?: number }>>;

const GO_DURATION = /^(?:\d{1,12}(?:\.\d{1,9})?(?:h|m|s|ms|us|µs|ns))+$/;
const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 1e-3, µs: 1e-3, ns: 1e-6 };

/**
 * An `until` value in ms: unix seconds (with a fraction), an RFC 3339 time, or a Go duration
 * counted back from `now` ("10m", "1h30m"); dockerd's words for anything else.
 */
export function untilFilter(v: string, now: number): number {
  if (/^\d{1,12}(\.\d{1,9})?$/.test(v)) return Math.round(Number(v) * 1000);
  if (GO_DURATION.test(v)) {
    let ms = 0;
    for (const [, n, unit] of v.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)) ms += Number(n) * UNIT_MS[unit!]!;
    return now - ms;
  }
  const t = v.length <= 64 && /^\d{4}-\d\d-\d\d/.test(v) ? Date.parse(v) : Number.NaN;
  if (!Number.isFinite(t)) {
    throw new InvalidArgumentError(`failed to parse value as time or duration: ${JSON.stringify(v.slice(0, 64))}`);
  }
  return t;
}

/** Which containers a prune with `filters` takes, at `now` (ms). */
export function prunable(filters: Filters, now: number): (r: ContainerRecord) => boolean {
  const labels = filters.get("label") ?? [];
  const notLabels = filters.get("label!") ?? [];
  const until = (filters.get("until") ?? []).map((v) => untilFilter(v, now));
  return (r) => {
    if (r.State.Running || r.State.Paused || r.State.Restarting) return false;
    const own = r.Config.Labels ?? {};
    if (!labels.every((kv) => labelHolds(own, kv))) return false;
    // dockerd leaves out a container that has every one of label!'s values.
    if (notLabels.length > 0 && notLabels.every((kv) => labelHolds(own, kv))) return false;
    const created = Date.parse(r.Created);
    return until.every((t) => created < t);
  };
}

export function addContainerPruneRoute(api: ApiServer, m: ContainerManager, sizes?: PruneSizes): void {
  api.route("POST", "/containers/prune", async (ctx) => {
    const take = prunable(parseFilters(ctx.query.get("filters"), PRUNE_FILTERS), Date.now());
    const candidates = m.all().filter(take);
    const sized = sizes ? await sizes(candidates) : new Map<string, { SizeRw?: number }>();
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const r of candidates) {
      try {
        await m.remove(r.ID, { force: false });
      } catch {
        continue;
      }
      deleted.push(r.ID);
      reclaimed += sized.get(r.ID)?.SizeRw ?? 0;
    }
    m.reportPrune(reclaimed);
    return { json: { ContainersDeleted: deleted.length > 0 ? deleted : null, SpaceReclaimed: reclaimed } };
  });
}
