// `ctr events` that is known to be subscribed. ctr's subscription opens some time after the process
// starts, and an event published before that is never replayed, so a fixed wait loses events on a
// loaded machine. Here a probe namespace is made every 500 ms until ctr prints one.
import { type ChildProcess, spawn } from "node:child_process";
import { type BerthContainerd, CTR } from "./berth-containerd.ts";

export interface CtrEvents {
  child: ChildProcess;
  /** Everything ctr printed so far (stdout and stderr). */
  output(): string;
  /** The probe namespaces made; the caller removes them once the daemon serves (see removeProbes). */
  probes: string[];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
let probeSeq = 0;

/** Starts `ctr events` against `d` and resolves once an event published after the start reached it. */
export async function subscribedCtrEvents(d: BerthContainerd, waitMs = 10_000): Promise<CtrEvents> {
  const child = spawn(CTR, ["--address", d.address, "events"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const take = (c: Buffer) => {
    out += c.toString();
  };
  child.stdout?.on("data", take);
  child.stderr?.on("data", take);
  const events: CtrEvents = { child, output: () => out, probes: [] };
  const started = Date.now();
  for (let i = 0; !out.includes("/namespaces/create"); i++) {
    if (Date.now() - started > waitMs || child.exitCode !== null) {
      child.kill("SIGKILL");
      throw new Error(`ctr events did not subscribe within ${waitMs} ms: ${out}`);
    }
    if (i % 10 === 0) {
      const ns = `events-probe-${process.pid}-${++probeSeq}`;
      const r = await d.ctrAsync(["namespaces", "create", ns]);
      if (r.status !== 0) throw new Error(`ctr namespaces create ${ns}: ${r.stderr}`);
      events.probes.push(ns);
    }
    await sleep(50);
  }
  return events;
}

/** Removes the probe namespaces (they hold nothing). */
export async function removeProbes(d: BerthContainerd, events: CtrEvents): Promise<void> {
  for (const ns of events.probes) {
    const r = await d.ctrAsync(["namespaces", "rm", ns]);
    if (r.status !== 0) throw new Error(`ctr namespaces rm ${ns}: ${r.stderr}`);
  }
}
