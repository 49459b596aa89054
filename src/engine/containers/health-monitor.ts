// One container's health check while it runs: a probe every interval (the first one interval
// after the start, as dockerd), each under its timeout, its result applied by health.ts's rules
// and handed to the owner. Stopped at the exit (and by a stop, a removal, berthd's shutdown);
// started again at each start and, after a berthd restart, for each container still running.
import {
  applyResult,
  boundedOutput,
  goDuration,
  type HealthResult,
  type HealthState,
  type HealthTimings,
  nextProbeMs,
} from "./health.ts";
import { MAX_TIMER_MS } from "./run-in-container.ts";

export interface ProbeOutcome {
  exitCode: number;
  output: Buffer;
  truncated: boolean;
  timedOut: boolean;
}

export interface HealthMonitorDeps {
  /** Runs argv in the container, killed after `timeoutMs`; throws when it cannot be run. */
  probe(args: string[], timeoutMs: number): Promise<ProbeOutcome>;
  /** The container now: its health, when it started, whether to probe (running, not paused). */
  current(): { health: HealthState; startedAtMs: number; probing: boolean } | undefined;
  /** The state after a probe (the owner saves it and announces a change of status). */
  update(next: HealthState, previous: HealthState): void;
}

export class HealthMonitor {
  readonly #args: string[];
  readonly #t: HealthTimings;
  readonly #deps: HealthMonitorDeps;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(args: string[], timings: HealthTimings, deps: HealthMonitorDeps) {
    this.#args = args;
    this.#t = timings;
    this.#deps = deps;
  }

  start(): void {
    const c = this.#deps.current();
    if (!c) return;
    this.#schedule(nextProbeMs(c.health, this.#t, Date.now() - c.startedAtMs));
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Arms the timer for `ms` (longer than a Node timer holds: in steps). */
  #schedule(ms: number): void {
    if (this.#stopped) return;
    const due = Date.now() + ms;
    const arm = () => {
      const left = due - Date.now();
      if (left > MAX_TIMER_MS) {
        this.#timer = setTimeout(arm, MAX_TIMER_MS);
        return;
      }
      this.#timer = setTimeout(() => void this.#tick(), Math.max(0, left));
    };
    arm();
  }

  async #tick(): Promise<void> {
    this.#timer = undefined;
    if (this.#stopped) return;
    const before = this.#deps.current();
    if (!before) return;
    if (before.probing) {
      const result = await this.#runProbe();
      const now = this.#deps.current();
      // A result that comes after the monitor was stopped (the exit) is dropped, as dockerd does.
      if (this.#stopped || !now) return;
      this.#deps.update(applyResult(now.health, result, this.#t, now.startedAtMs), now.health);
    }
    const after = this.#deps.current();
    if (after) this.#schedule(nextProbeMs(after.health, this.#t, Date.now() - after.startedAtMs));
  }

  async #runProbe(): Promise<HealthResult> {
    const start = new Date();
    let exitCode: number;
    let output: string;
    try {
      const r = await this.#deps.probe(this.#args, this.#t.timeoutMs);
      if (r.timedOut) {
        exitCode = -1;
        output = `Health check exceeded timeout (${goDuration(Math.round(this.#t.timeoutMs * 1e6))})`;
      } else {
        exitCode = r.exitCode;
        output = boundedOutput(r.output, r.truncated);
      }
    } catch (err) {
      exitCode = -1;
      output = boundedOutput(Buffer.from(err instanceof Error ? err.message : String(err)), false);
    }
    return { Start: start.toISOString(), End: new Date().toISOString(), ExitCode: exitCode, Output: output };
  }
}
