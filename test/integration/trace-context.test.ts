// One W3C trace id names a task's creation in every process that works on it: berth-containerd's
// Tasks.Create, berth-shim's Create and the runtime's create (linked into the shim, or berth-runc
// run as a binary) each log a line naming the container and the trace; the runtime's hooks get
// TRACEPARENT. The trace is a new one when the caller sent none or an invalid one, and the
// caller's own when it sent a traceparent (our client library, per client or per call).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Tasks } from "../../src/proto/gen/containerd/services/tasks/v1/tasks_pb.js";
import { createClient } from "../../src/rpc/grpc.ts";
import { makeBundle, makeTempDir } from "../fixtures/busybox.ts";
import {
  type BerthContainerd,
  BUSYBOX_IMAGE,
  CTR,
  type CtrResult,
  outputOf,
  startWithBusybox,
} from "../helpers/berth-containerd.ts";

const repo = join(import.meta.dirname, "..", "..");
const BERTH_RUNC = join(repo, "dist", "berth-runc.mjs");
const skip = process.getuid?.() !== 0 ? "runs containers: root only" : existsSync(CTR) ? undefined : "needs ctr";
const NS = "default";
const HEX32 = /^[0-9a-f]{32}$/;

type Daemon = BerthContainerd & { cleanup(): Promise<void> };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The trace ids of the logfmt lines `msg="<msg>"` that name container `id` ("none" for a line without). */
function textTraces(text: string, msg: string, id: string): string[] {
  const out: string[] = [];
  for (const line of text.split("\n")) {
    if (!line.includes(`msg="${msg}"`) || !new RegExp(` id=${id}(?: |$)`).test(line)) continue;
    out.push(/ trace=([0-9a-f]{32})(?: |$)/.exec(line)?.[1] ?? "none");
  }
  return out;
}

/** The same for json lines ({"msg","id","trace_id"}), as berth-runc writes its --log-format json. */
function jsonTraces(text: string, msg: string, id: string): string[] {
  const out: string[] = [];
  for (const line of text.split("\n")) {
    let rec: { msg?: string; id?: string; trace_id?: string };
    try {
      rec = JSON.parse(line);
    } catch {
      continue;
    }
    if (rec.msg === msg && rec.id === id) out.push(rec.trace_id ?? "none");
  }
  return out;
}

const read = (path: string) => (existsSync(path) ? readFileSync(path, "utf8") : "");

/** The trace each process logged for the creation of `id` (one line each, or the test fails). */
interface Traces {
  daemon: string[];
  shim: string[];
  runtime: string[];
}

async function tracesOf(d: Daemon, id: string, runtimeLog: "linked" | "json"): Promise<Traces> {
  const bundle = join(d.state, "io.containerd.runtime.v2.task", NS, id);
  let t: Traces = { daemon: [], shim: [], runtime: [] };
  // The daemon's line is written as its call is answered; the runtime's as the container is made.
  for (let i = 0; i < 200; i++) {
    const shimLog = read(join(bundle, "log"));
    t = {
      daemon: textTraces(await d.log(), "create task", id),
      shim: textTraces(shimLog, "create task", id),
      runtime:
        runtimeLog === "linked"
          ? textTraces(shimLog, "create container", id)
          : jsonTraces(read(join(bundle, "log.json")), "create container", id),
    };
    if (t.daemon.length > 0 && t.shim.length > 0 && t.runtime.length > 0) break;
    await sleep(100);
  }
  return t;
}

/** One trace id, the same in all three logs, one line each. */
function oneTrace(t: Traces): string {
  assert.equal(t.daemon.length, 1, `daemon: ${JSON.stringify(t)}`);
  assert.equal(t.shim.length, 1, `shim: ${JSON.stringify(t)}`);
  assert.equal(t.runtime.length, 1, `runtime: ${JSON.stringify(t)}`);
  const [trace] = t.daemon;
  assert.match(trace ?? "", HEX32, JSON.stringify(t));
  assert.deepEqual(t, { daemon: [trace], shim: [trace], runtime: [trace] });
  return trace as string;
}

describe("trace context: daemon, shim and runtime log one trace id per task create", { skip }, () => {
  let d: Daemon;
  let gate: string;

  before(async () => {
    d = await startWithBusybox();
    gate = await makeTempDir("berth-trace-gate-");
  });

  after(async () => {
    await d?.cleanup();
  });

  /**
   * `ctr run --rm` of a container that waits for `gate/<id>` (so its bundle and logs are there to
   * read), the traces its creation logged, then the run's end.
   */
  async function ctrRun(id: string, runtimeLog: "linked" | "json", extra: string[] = []): Promise<string> {
    const child = spawn(
      CTR,
      [
        "--address",
        d.address,
        "--namespace",
        NS,
        "run",
        "--rm",
        ...extra,
        "--mount",
        `type=bind,src=${gate},dst=/gate,options=rbind:ro`,
        BUSYBOX_IMAGE,
        id,
        "sh",
        "-c",
        `until [ -e /gate/${id} ]; do sleep 0.05; done`,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const done = outputOf(child);
    let trace: string;
    try {
      trace = oneTrace(await tracesOf(d, id, runtimeLog));
    } finally {
      writeFileSync(join(gate, id), "");
    }
    const r: CtrResult = await done;
    assert.equal(r.status, 0, r.stderr);
    return trace;
  }

  test("ctr run --rm: a new trace, the same id in the daemon's, the shim's and the linked runtime's log", {
    timeout: 60_000,
  }, async (t) => {
    const first = await ctrRun("trace-linked", "linked");
    const second = await ctrRun("trace-linked-2", "linked");
    assert.notEqual(first, second, "each call starts its own trace");
    t.diagnostic(`trace-linked: ${first} in all three logs; trace-linked-2: ${second}`);
  });

  test("ctr run --rm --runc-binary berth-runc: the runtime's --log (json) carries the trace_id", {
    timeout: 60_000,
  }, async (t) => {
    t.diagnostic(
      `trace-binary: ${await ctrRun("trace-binary", "json", ["--runc-binary", BERTH_RUNC])} in all three logs`,
    );
  });

  /** A task made through our client library (the container through ctr), then deleted unstarted. */
  async function clientCreate(
    id: string,
    clientTrace: string | undefined,
    callTrace: string | undefined,
  ): Promise<string> {
    const c = await d.ctrAsync(["containers", "create", BUSYBOX_IMAGE, id, "sleep", "60"]);
    assert.equal(c.status, 0, c.stderr);
    const tasks = createClient(Tasks, d.address, { namespace: NS, trace: clientTrace });
    try {
      const r = await tasks.create({ containerId: id }, callTrace === undefined ? {} : { trace: callTrace });
      assert.ok(r.pid > 0);
      const trace = oneTrace(await tracesOf(d, id, "linked"));
      await tasks.delete({ containerId: id });
      return trace;
    } finally {
      tasks.close();
      await d.ctrAsync(["containers", "rm", id]);
    }
  }

  test("our client's traceparent (per client, per call) is the trace all three log", { timeout: 60_000 }, async () => {
    const chosen = "4bf92f3577b34da6a3ce929d0e0e4736";
    assert.equal(await clientCreate("trace-client", `00-${chosen}-00f067aa0ba902b7-01`, undefined), chosen);
    const perCall = "0af7651916cd43dd8448eb211c80319c";
    const other = "11111111111111111111111111111111";
    assert.equal(
      await clientCreate("trace-call", `00-${other}-00f067aa0ba902b7-01`, `00-${perCall}-b7ad6b7169203331-01`),
      perCall,
      "a call's own traceparent wins over its client's",
    );
  });

  test("an invalid traceparent is ignored: the call succeeds in a new trace", { timeout: 90_000 }, async () => {
    const id = "4bf92f3577b34da6a3ce929d0e0e4736";
    const invalid = {
      "wrong-length": `00-${id}-00f067aa0ba902b7-1`,
      uppercase: `00-${id.toUpperCase()}-00F067AA0BA902B7-01`,
      zeros: `00-${"0".repeat(32)}-${"0".repeat(16)}-01`,
      "10k": `00-${id}-00f067aa0ba902b7-01${"-0".repeat(5 * 1024)}`,
    };
    const seen = new Set<string>();
    for (const [name, header] of Object.entries(invalid)) {
      const trace = await clientCreate(`trace-invalid-${name}`, undefined, header);
      assert.notEqual(trace, id, name);
      assert.ok(!/^0+$/.test(trace), name);
      seen.add(trace);
    }
    assert.equal(seen.size, Object.keys(invalid).length, "a new trace each time");
  });

  /**
   * `ctr run --config`: a spec of our own (a busybox rootfs, no image) whose createRuntime and
   * prestart hooks write their environment to files; the last hook's env sets a TRACEPARENT of
   * its own, which wins.
   */
  async function hookRun(id: string, extra: string[]): Promise<void> {
    const files = [0, 1, 2].map((i) => join(gate, `${id}-hook${i}.env`));
    const own = "00-22222222222222222222222222222222-3333333333333333-01";
    const hook = (file: string, env?: string[]) => ({
      path: "/bin/sh",
      args: ["sh", "-c", `/usr/bin/env > ${file}`],
      ...(env ? { env } : {}),
    });
    const bundle = await makeBundle({ args: ["true"] });
    try {
      bundle.spec.root = { path: bundle.rootfs, readonly: false };
      bundle.spec.hooks = {
        createRuntime: [hook(files[0] as string)],
        prestart: [hook(files[1] as string), hook(files[2] as string, [`TRACEPARENT=${own}`, "X=1"])],
      };
      await bundle.writeSpec();
      const r = await d.ctrAsync(["run", "--rm", ...extra, "--config", bundle.configPath, id]);
      assert.equal(r.status, 0, r.stderr);
      const [trace] = textTraces(await d.log(), "create task", id);
      assert.match(trace ?? "", HEX32);
      const envs = files.map((f) => readFileSync(f, "utf8").split("\n").filter(Boolean));
      const fromRuntime = new RegExp(`^TRACEPARENT=00-${trace}-[0-9a-f]{16}-01$`);
      assert.equal(envs[0]?.filter((l) => fromRuntime.test(l)).length, 1, `createRuntime: ${envs[0]}`);
      assert.equal(envs[1]?.filter((l) => fromRuntime.test(l)).length, 1, `prestart: ${envs[1]}`);
      // (sh exports PWD itself.)
      const own2 = envs[2]?.filter((l) => !l.startsWith("PWD=")).sort();
      assert.deepEqual(own2, [`TRACEPARENT=${own}`, "X=1"], "the hook's own env wins");
    } finally {
      await bundle.cleanup();
    }
  }

  test("hooks see TRACEPARENT: the linked runtime's and berth-runc's", { timeout: 60_000 }, async () => {
    await hookRun("trace-hooks", []);
    await hookRun("trace-hooks-binary", ["--runc-binary", BERTH_RUNC]);
  });
});
