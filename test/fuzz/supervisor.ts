// Runs a target's campaign in a worker thread and watches it: a worker that starts no new input
// for too long is hung (terminated, its current input written as a finding), one that dies (out
// of its heap bound, an uncaught exception or rejection) crashed. Either way the campaign goes on
// in a new worker for the time left, with a private scratch directory removed at the end.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import { type CampaignResult, deserializeInput, type FindingRecord, signatureOf, writeFinding } from "./harness.ts";
import { TARGETS } from "./targets/index.ts";
import type { WorkerData, WorkerMessage } from "./worker.ts";

export interface SuperviseOptions {
  seconds: number;
  findingsDir: string;
  seed?: number;
  path?: string;
  log?(line: string): void;
}

const SHARED_BYTES = 8 << 20;
const MAX_DEATHS = 3;

interface Attempt {
  result?: CampaignResult;
  /** Set when the worker hung or died: what happened, and the input it was on. */
  death?: { kind: "hang" | "crash"; message: string; stack?: string; input: unknown; inputs: number };
}

function currentInput(shared: SharedArrayBuffer): unknown {
  const counters = new Int32Array(shared, 0, 2);
  const len = Atomics.load(counters, 1);
  const text = Buffer.from(new Uint8Array(shared, 8, len)).toString("utf8");
  try {
    return deserializeInput(text);
  } catch {
    return { truncated: text.slice(0, 1 << 20) };
  }
}

function attempt(name: string, seconds: number, opts: SuperviseOptions): Promise<Attempt> {
  const entry = TARGETS[name]!;
  const scratch = mkdtempSync(join(tmpdir(), `berth-fuzz-${name}-`));
  const shared = new SharedArrayBuffer(SHARED_BYTES);
  const data: WorkerData = {
    target: name,
    scratch,
    campaign: { seconds, findingsDir: opts.findingsDir, seed: opts.seed, path: opts.path },
    shared,
  };
  const worker = new Worker(new URL("./worker.ts", import.meta.url), {
    workerData: data,
    // The stack of a process's main thread (V8's default, ~1 MiB), where the parsers run in the
    // daemon and the runtime: a worker's default (4 MiB) hid recursion that overflows there.
    resourceLimits: { maxOldGenerationSizeMb: entry.memoryMb, stackSizeMb: 1 },
    stdout: false,
    stderr: false,
  });
  const counters = new Int32Array(shared, 0, 2);
  return new Promise<Attempt>((resolve) => {
    let settled = false;
    let slowMs = 1000;
    let lastCount = -1;
    let lastProgress = performance.now();
    const finish = (a: Attempt) => {
      if (settled) return;
      settled = true;
      clearInterval(watch);
      void worker.terminate().finally(() => {
        rmSync(scratch, { recursive: true, force: true });
        resolve(a);
      });
    };
    // A finished input bumps the counter within its deadline (10 x slowMs, timed twice at most):
    // past this the worker is stuck in code that never yields.
    const watch = setInterval(() => {
      const count = Atomics.load(counters, 0);
      const now = performance.now();
      if (count !== lastCount) {
        lastCount = count;
        lastProgress = now;
        return;
      }
      const stuckMs = Math.max(30_000, slowMs * 25);
      if (now - lastProgress > stuckMs) {
        finish({
          death: {
            kind: "hang",
            message: `hang: one input ran for over ${Math.round(stuckMs / 1000)} s without returning`,
            input: currentInput(shared),
            inputs: count,
          },
        });
      }
    }, 500);
    worker.on("message", (m: WorkerMessage) => {
      if (m.type === "ready") slowMs = m.slowMs;
      else if (m.type === "log") opts.log?.(m.line);
      else if (m.type === "done") finish({ result: m.result });
    });
    worker.on("error", (err: Error & { code?: string }) => {
      const oom = err.code === "ERR_WORKER_OUT_OF_MEMORY";
      finish({
        death: {
          kind: "crash",
          message: oom
            ? `out of memory: the input took the worker past its ${entry.memoryMb} MiB heap bound`
            : `crash: ${err.name}${err.code ? ` [${err.code}]` : ""}: ${err.message}`,
          stack: err.stack,
          input: currentInput(shared),
          inputs: Atomics.load(counters, 0),
        },
      });
    });
    worker.on("exit", (code) => {
      if (!settled)
        finish({
          death: {
            kind: "crash",
            message: `crash: the worker exited with code ${code}`,
            input: currentInput(shared),
            inputs: Atomics.load(counters, 0),
          },
        });
    });
  });
}

/** Runs target `name` for `opts.seconds` in workers; findings are written to opts.findingsDir. */
export async function supervise(name: string, opts: SuperviseOptions): Promise<CampaignResult> {
  if (!TARGETS[name]) throw new Error(`unknown fuzz target ${JSON.stringify(name)}`);
  const started = performance.now();
  const total: CampaignResult = { target: name, inputs: 0, seconds: 0, findings: [] };
  const seen = new Set<string>();
  let deaths = 0;
  for (;;) {
    const left = opts.seconds - (performance.now() - started) / 1000;
    const a = await attempt(name, Math.max(0.5, left), opts);
    if (a.result) {
      total.inputs += a.result.inputs;
      for (const f of a.result.findings) {
        if (seen.has(f.signature)) continue;
        seen.add(f.signature);
        total.findings.push(f);
      }
      break;
    }
    const d = a.death!;
    total.inputs += d.inputs;
    const signature = signatureOf(d.message);
    if (!seen.has(signature)) {
      seen.add(signature);
      const rec: FindingRecord = writeFinding(opts.findingsDir, name, d.message, d.input, {
        stack: d.stack,
        kind: d.kind,
      });
      total.findings.push(rec);
      opts.log?.(`${name}: FINDING ${d.message} -> ${rec.dir}`);
    }
    if (++deaths >= MAX_DEATHS || opts.path !== undefined) break;
    if ((performance.now() - started) / 1000 >= opts.seconds) break;
  }
  total.seconds = (performance.now() - started) / 1000;
  return total;
}
