// The malicious registry (issue 10, "Done means" 2): every hostile case the fixture serves
// (test/helpers/fake-registry.ts, publishHostile) is pulled through the daemon's transfer service
// and with the real `ctr pull` against berth-containerd. For each, the daemon's peak memory growth
// (VmHWM, reset before the case) is printed and held under a bound, the pull ends with a clear
// error within a bounded time, and the daemon answers afterwards.
// Slow bodies are not errors: containerd sets no read timeout on a body that keeps coming (nor does
// berth: undici's body timeout fires only after 5 minutes without a byte), so a pull a byte a
// second is left to run, and it is the client that gives up. Then the daemon must let go of the
// registry at once (the transfer's cancellation; ctr's own connection for ctr pull).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { after, before, describe, test } from "node:test";
import { transferPull } from "../../src/client/transfer.ts";
import { type BerthContainerd, CTR, startBerthContainerd } from "../helpers/berth-containerd.ts";
import {
  type FakeRegistry,
  HOSTILE_CASES,
  type HostileCase,
  publishHostile,
  startFakeRegistry,
} from "../helpers/fake-registry.ts";

const skip = process.getuid?.() !== 0 ? "needs root" : !existsSync(CTR) ? "ctr not installed" : undefined;

const MiB = 1 << 20;
/** Growth of the daemon's peak RSS one hostile pull may cost. */
const RSS_BOUND = 64 * MiB;
/** A failing pull ends within this (a loaded 2-core machine; retries with back-off included). */
const END_BOUND_MS = 90_000;
/** How long a slow pull runs before its client gives up: it must still be running then. */
const PATIENCE_MS = 4_000;
/** After the client gives up, the registry sees its connections closed within this. */
const LET_GO_MS = 5_000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** What each case's transfer pull must fail with: the daemon's own, clear, error. */
const TRANSFER_ERROR: Record<HostileCase, RegExp | "gives up"> = {
  "endless-manifest": /manifest .*larger than 4194304 bytes/,
  "manifest-length-short": /manifest sha256:[a-f0-9]+: got sha256:[a-f0-9]+ \(\d+ bytes, want \d+\)/,
  "manifest-length-long": /manifest sha256:[a-f0-9]+: the registry sent more than its descriptor's \d+ bytes/,
  "layer-size-short": /blob sha256:[a-f0-9]+: the registry sent more than its descriptor's 1000 bytes/,
  "layer-size-long": /unexpected size \d+, expected \d+/,
  "wrong-media-type": /unsupported manifest media type text\/html/,
  "slow-manifest": "gives up",
  "stalled-layer": "gives up",
};
/** What ctr says (containerd's client's own words), loosely. */
const CTR_ERROR: Record<HostileCase, RegExp | "gives up"> = {
  "endless-manifest": /not found|failed|error/i,
  "manifest-length-short": /digest|failed|error/i,
  "manifest-length-long": /EOF|failed|error/i,
  "layer-size-short": /write past total|size|failed/i,
  "layer-size-long": /size|EOF|failed/i,
  "wrong-media-type": /unknown|unsupported|failed|mismatch|error/i,
  "slow-manifest": "gives up",
  "stalled-layer": "gives up",
};

function vmHwm(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1]) * 1024;
}

describe("a malicious registry", { skip }, () => {
  let d: BerthContainerd & { cleanup(): Promise<void> };
  let reg: FakeRegistry;
  before(async () => {
    d = await startBerthContainerd();
    reg = await startFakeRegistry();
  });
  after(async () => {
    await reg?.stop();
    await d?.cleanup();
  });

  /** Every hostile response of the case has closed (the puller let go), within `ms`. */
  const allClosed = async (responses: ServerResponse[], ms: number) => {
    const open = responses.filter((r) => !r.destroyed && !r.socket?.destroyed && !r.writableFinished);
    const closed = Promise.all(open.map((r) => once(r, "close")));
    return Promise.race([closed.then(() => true), sleep(ms).then(() => false)]);
  };

  /** Runs `pull` against the case: an error (or, for a slow case, still running when given up). */
  const run = async (
    t: { diagnostic(s: string): void },
    how: "transfer" | "ctr",
    kind: HostileCase,
    pull: (reference: string, ns: string, giveUp: AbortSignal) => Promise<string | undefined>,
  ) => {
    const ns = `${how}-${kind}`;
    const { reference, responses } = publishHostile(reg, `hostile/${how}/${kind}`, kind);
    const pid = d.pid!;
    writeFileSync(`/proc/${pid}/clear_refs`, "5"); // VmHWM back to the current RSS
    const base = vmHwm(pid);
    const expected = (how === "transfer" ? TRANSFER_ERROR : CTR_ERROR)[kind];
    const giveUp = new AbortController();
    const started = Date.now();
    const ended = pull(reference, ns, giveUp.signal).then(
      (err) => ({ err, ms: Date.now() - started }),
      (e: Error) => ({ err: `${e.message}`, ms: Date.now() - started }),
    );
    let outcome: string;
    if (expected === "gives up") {
      // Slow but progressing (or stalled within the 5-minute body timeout): nobody kills it...
      const early = await Promise.race([ended, sleep(PATIENCE_MS).then(() => undefined)]);
      assert.equal(early, undefined, `the slow pull was ended by the daemon: ${early?.err}`);
      assert.ok(responses.length > 0, "the slow body was asked for");
      // ...until its client gives up; then the registry's connections close.
      giveUp.abort();
      const letGo = await allClosed(responses, LET_GO_MS);
      assert.ok(letGo, `the registry's connection was still open ${LET_GO_MS} ms after the client gave up`);
      await ended;
      outcome = `still running after ${PATIENCE_MS} ms; let go when the client gave up`;
    } else {
      const r = await Promise.race([ended, sleep(END_BOUND_MS).then(() => undefined)]);
      assert.ok(r, `the pull did not end within ${END_BOUND_MS} ms`);
      assert.ok(r.err, "the pull failed");
      assert.match(r.err, expected);
      outcome = `failed in ${r.ms} ms: ${r.err.split("\n").find((l) => l.trim()) ?? ""}`.slice(0, 300);
    }
    const growth = vmHwm(pid) - base;
    t.diagnostic(`${how} ${kind}: peak RSS +${(growth / MiB).toFixed(1)} MiB; ${outcome}`);
    assert.ok(growth < RSS_BOUND, `the daemon's peak RSS grew by ${(growth / MiB).toFixed(1)} MiB`);
    const v = await d.ctrAsync(["version"]);
    assert.equal(v.status, 0, `ctr version after the pull: ${v.stderr}`);
    const ls = await d.ctrAsync(["images", "ls", "-q"], { namespace: ns });
    assert.equal(ls.status, 0, ls.stderr);
  };

  for (const kind of HOSTILE_CASES) {
    test(`transfer service: ${kind}`, { timeout: 180_000 }, async (t) => {
      await run(t, "transfer", kind, async (reference, namespace, signal) => {
        await transferPull(d.address, reference, { namespace, signal });
        return undefined;
      });
    });

    test(`ctr pull: ${kind}`, { timeout: 180_000 }, async (t) => {
      await run(t, "ctr", kind, async (reference, namespace, signal) => {
        const child = spawn(
          CTR,
          ["--address", d.address, "--namespace", namespace, "images", "pull", "--plain-http", reference],
          {
            stdio: ["ignore", "ignore", "pipe"],
            signal,
            timeout: END_BOUND_MS,
          },
        );
        child.on("error", () => {}); // the abort, reported as the exit below
        let stderr = "";
        child.stderr.on("data", (c: Buffer) => {
          stderr += c.toString();
        });
        const [code, sig] = (await once(child, "close")) as [number | null, string | null];
        if (code === 0) return undefined;
        return `exit ${code ?? sig}: ${stderr.trim().split("\n").at(-1) ?? ""}`;
      });
    });
  }
});
