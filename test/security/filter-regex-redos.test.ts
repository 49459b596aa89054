// Hole: a client's `~=` filter was compiled into a backtracking JavaScript RegExp, so one List call
// or one event subscription could hold the daemon's only thread: `ctr images ls 'name~=^(a+)+$'`
// against an image named with 34 "a"s and a "!" blocked the event loop for 84 s, and `ctr version`
// from every other namespace timed out meanwhile. containerd compiles these with Go's regexp (RE2),
// whose matching is linear in the input.
// Now: `~=` patterns go through re2js (RE2's engine, Go's syntax), a pattern is at most
// MAX_REGEXP_LENGTH bytes, and a pattern RE2 refuses is an InvalidArgument naming the filter.
// Attacker: a client in namespace "victim" listing images, and subscribing to events, with the
// classic catastrophic patterns against names and labels built to make a backtracking engine try
// every way to split them. Host-side checks: each call answers (with the right result), and
// meanwhile a client in another namespace gets `ctr version` and `ctr namespaces ls` within a
// second.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type BerthContainerd,
  BUSYBOX_IMAGE,
  CTR,
  type CtrResult,
  startWithBusybox,
} from "../helpers/berth-containerd.ts";

const skip = process.getuid?.() !== 0 ? "needs root" : !existsSync(CTR) ? "ctr not installed" : undefined;

const NS = "victim";
/** A client that shares nothing with the attacker but the daemon. */
const OTHER_NS = "bystander";
/** What "keeps answering" means: the bound, ctr's own start-up included. */
const ANSWER_MS = 1000;
/** Long enough for a linear-time engine on a loaded machine; far below a backtracking run. */
const CALL_MS = 20_000;

// Each input takes V8's backtracking engine seconds to minutes to reject (measured on Node 24:
// 84 s, ~6 s, ~5 s, ~20 s); each is rejected by RE2 at once. None of them matches.
const NAME = `${"a".repeat(34)}!`;
const CASES = [
  { filter: "name~=^(a+)+$", field: "name" },
  { filter: "labels.alt~=(a|aa)+$", label: ["alt", `${"a".repeat(36)}!`] },
  { filter: "labels.star~=(a*)*b", label: ["star", "a".repeat(25)] },
  { filter: "labels.dots~=(.*a){20}", label: ["dots", `a${"x".repeat(40)}`.repeat(19)] },
] as const;

type Daemon = BerthContainerd & { cleanup(): Promise<void> };

async function timed(run: () => Promise<CtrResult>): Promise<CtrResult & { ms: number }> {
  const t0 = performance.now();
  const r = await run();
  return { ...r, ms: Math.round(performance.now() - t0) };
}

/** Asks the daemon from another namespace what any client asks; both must answer within ANSWER_MS. */
async function probeOthers(d: Daemon): Promise<void> {
  for (const args of [["version"], ["namespaces", "ls", "-q"]]) {
    const r = await timed(() => d.ctrAsync(args, { namespace: OTHER_NS, timeoutMs: 10_000 }));
    assert.equal(r.status, 0, `ctr ${args.join(" ")} from ${OTHER_NS} failed meanwhile (${r.ms} ms): ${r.stderr}`);
    assert.ok(r.ms < ANSWER_MS, `ctr ${args.join(" ")} from ${OTHER_NS} took ${r.ms} ms meanwhile`);
  }
}

describe("a ~= filter cannot hold the daemon (linear-time regular expressions)", { skip }, () => {
  let d: Daemon;

  before(async () => {
    d = await startWithBusybox([], NS);
    const tag = await d.ctrAsync(["images", "tag", BUSYBOX_IMAGE, NAME], { namespace: NS });
    assert.equal(tag.status, 0, tag.stderr);
    const labels = CASES.flatMap((c) => ("label" in c ? [`${c.label[0]}=${c.label[1]}`] : []));
    const label = await d.ctrAsync(["images", "label", NAME, ...labels], { namespace: NS });
    assert.equal(label.status, 0, label.stderr);
  });

  after(async () => {
    await d?.cleanup();
  });

  for (const c of CASES) {
    test(`images ls '${c.filter}'`, { timeout: 60_000 }, async () => {
      const ls = timed(() => d.ctrAsync(["images", "ls", "-q", c.filter], { namespace: NS, timeoutMs: CALL_MS }));
      // Let the daemon take the request before the bystander asks.
      await sleep(100);
      await probeOthers(d);
      const r = await ls;
      assert.equal(r.status, 0, `images ls took ${r.ms} ms: ${r.stderr}`);
      assert.equal(r.stdout, "", "nothing matches");
    });
  }

  test("a pattern that does match still selects (Go's syntax, as containerd)", async () => {
    const r = await d.ctrAsync(["images", "ls", "-q", 'name~=^(a+)+!$,labels.dots~="(?i)^(?:A\\\\x{78}+)+$"'], {
      namespace: NS,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), NAME);
  });

  test("Events.Subscribe filters: deliveries do not hold the daemon", { timeout: 90_000 }, async () => {
    const filters = [
      "event.name~=^(a+)+$",
      "event.labels.alt~=(a|aa)+$",
      "event.labels.star~=(a*)*b",
      "event.labels.dots~=(.*a){20}",
      // The one that matches: an update that sets label "mark".
      "event.labels.mark~=^ye(s)+$",
    ];
    const events: ChildProcess = spawn(CTR, ["--address", d.address, "events", ...filters], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    events.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
    });
    try {
      // ctr subscribes before it prints anything; give it time to be connected.
      await sleep(1000);
      assert.equal(events.exitCode, null, "ctr events is running");
      // Each update publishes /images/update with the image's name and every label: every
      // subscription filter is tried against them.
      const update = timed(() =>
        d.ctrAsync(["images", "label", NAME, "touched=1"], { namespace: NS, timeoutMs: CALL_MS }),
      );
      await sleep(100);
      await probeOthers(d);
      const u = await update;
      assert.equal(u.status, 0, `images label took ${u.ms} ms: ${u.stderr}`);
      const mark = await d.ctrAsync(["images", "label", NAME, "mark=yesss"], { namespace: NS, timeoutMs: CALL_MS });
      assert.equal(mark.status, 0, mark.stderr);
      for (let i = 0; i < 50 && !out.includes("/images/update"); i++) await sleep(100);
      const lines = out.split("\n").filter((l) => l.includes("/images/update"));
      assert.equal(lines.length, 1, `only the update with mark=yesss matches:\n${out}`);
      assert.match(lines[0]!, /mark/);
    } finally {
      events.kill("SIGKILL");
    }
  });

  test("a pattern RE2 refuses, or an overlong one, is InvalidArgument", async () => {
    for (const filter of ["name~=(?=a)", "name~=a{1001}", "name~=\\1", `name~=${"a".repeat(5000)}`]) {
      const r = await d.ctrAsync(["images", "ls", "-q", filter], { namespace: NS });
      assert.notEqual(r.status, 0, `${filter.slice(0, 40)} refused`);
      assert.match(r.stderr, /InvalidArgument|invalid argument/, r.stderr);
      assert.match(r.stderr, /regexp/, r.stderr);
    }
  });
});
