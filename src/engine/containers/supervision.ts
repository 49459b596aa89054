// What follows a container's exit and start besides its record: the restart policy's answer at
// each exit (restart-policy.ts: exited, or restarting with a start after the back-off), a pending
// restart called off by a user's stop, kill or rm -f, a user's stop remembered for
// unless-stopped, and the health check's monitor started at each start (health.ts).
import { errorMessage } from "../../common/errors.ts";
import { HEALTH, healthTimings, probeArgs, startingHealth, stoppedHealth } from "./health.ts";
import { HealthMonitor } from "./health-monitor.ts";
import type { Live } from "./live.ts";
import { exited, restarting } from "./record.ts";
import { afterExit } from "./restart-policy.ts";
import { runInContainer } from "./run-in-container.ts";
import type { ContainerTable } from "./table.ts";
import { exactSpec } from "./update.ts";

/** The restart policy's start of a restarting container (the manager's start, byPolicy). */
export type RestartStart = (live: Live) => Promise<void>;

/**
 * The exit recorded, and the restart policy asked (restart-policy.ts): either exited, or
 * restarting with a start scheduled after the back-off. The health check stops either way.
 */
export function exitedOrRestarting(
  t: ContainerTable,
  live: Live,
  code: number,
  when: Date,
  oom: boolean,
  start: RestartStart,
): void {
  const sup = live.supervision;
  sup.health?.stop();
  sup.health = undefined;
  const r = live.record;
  const decision = afterExit(r.HostConfig.RestartPolicy, {
    exitCode: code,
    manuallyStopped: r.HasBeenManuallyStopped === true,
    restartCount: r.RestartCount,
    cancelled: sup.stopRequested || t.closing,
    ranMs: when.getTime() - Date.parse(r.State.StartedAt),
    previousDelayMs: sup.backoffMs,
  });
  sup.backoffMs = decision.delayMs;
  const health = r.State.Health ? { Health: stoppedHealth(r.State.Health) } : {};
  if (!decision.restart) {
    live.record = { ...r, State: { ...exited(r.State, code, when, oom), ...health } };
    return;
  }
  live.record = {
    ...r,
    RestartCount: r.RestartCount + 1,
    State: { ...restarting(r.State, code, when, oom), ...health },
  };
  scheduleRestart(t, live, decision.delayMs, start);
}

export function scheduleRestart(t: ContainerTable, live: Live, delayMs: number, start: RestartStart): void {
  clearTimeout(live.supervision.restartTimer);
  live.supervision.restartTimer = setTimeout(() => {
    live.supervision.restartTimer = undefined;
    void t
      .serial(live, async () => {
        if (!live.record.State.Restarting || live.removing || t.closing) return;
        await start(live);
      })
      .catch((err: unknown) =>
        t.log.warn("the restart policy's start failed", { id: live.record.ID, error: errorMessage(err) }),
      );
  }, delayMs);
}

/**
 * A pending restart called off (a user's stop, kill or rm -f of a restarting container): it
 * stays exited with its last exit code; false when none was pending.
 */
export function cancelRestart(t: ContainerTable, live: Live): boolean {
  const sup = live.supervision;
  clearTimeout(sup.restartTimer);
  sup.restartTimer = undefined;
  const s = live.record.State;
  if (!s.Restarting) return false;
  live.record = {
    ...live.record,
    HasBeenManuallyStopped: true,
    State: { ...exited(s, s.ExitCode, new Date(Date.parse(s.FinishedAt)), s.OOMKilled) },
  };
  t.save(live);
  return true;
}

/**
 * At a start: State.Health starting and its monitor running, when the container has a check.
 * `resumed`: a container found running at berthd's start keeps the health it had.
 */
export function startHealth(t: ContainerTable, live: Live, resumed = false): void {
  const sup = live.supervision;
  sup.health?.stop();
  sup.health = undefined;
  const config = live.record.Config.Healthcheck;
  const args = probeArgs(config);
  if (!config || !args) return;
  const s = live.record.State;
  if (!resumed || !s.Health) live.record = { ...live.record, State: { ...s, Health: startingHealth(s.Health) } };
  const id = live.record.ID;
  sup.health = new HealthMonitor(args, healthTimings(config), {
    probe: async (argv, timeoutMs) => {
      // The container's own process (user, env, cwd, capabilities) with the probe's argv.
      const base = exactSpec((await t.conn.containers.get(id)).spec).process;
      const process: Record<string, unknown> = { ...exactSpec(base), args: argv, terminal: false };
      delete process.consoleSize;
      return runInContainer(t.conn, id, process, {
        fifoParent: t.probeFifos,
        timeoutMs,
        maxOutput: HEALTH.maxOutputBytes,
        purpose: "health",
      });
    },
    current: () => {
      const s = t.live.get(id)?.record.State;
      if (!s?.Health || !s.Running || s.Restarting) return undefined;
      return { health: s.Health, startedAtMs: Date.parse(s.StartedAt), probing: !s.Paused };
    },
    update: (next, previous) => {
      const l = t.live.get(id);
      if (!l) return;
      l.record = { ...l.record, State: { ...l.record.State, Health: next } };
      t.save(l);
      if (next.Status !== previous.Status) t.events.container(l.record, `health_status: ${next.Status}`);
    },
  });
  sup.health.start();
}

/** A user's stop or kill: kept for unless-stopped; `endsRun`: this run's exit is not restarted. */
export function manuallyStopped(t: ContainerTable, live: Live, endsRun: boolean): void {
  if (endsRun) live.supervision.stopRequested = true;
  if (live.record.HasBeenManuallyStopped) return;
  live.record = { ...live.record, HasBeenManuallyStopped: true };
  t.save(live);
}
