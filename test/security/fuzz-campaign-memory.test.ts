// Harness defect: a fuzz campaign kept memory for every input it ran, so long campaigns of fast
// targets died "out of memory" on inputs that need little (the hour-long run: image-documents
// three times in 6 minutes, ttrpc-grpc once; replaying the saved inputs, under the same 256 MiB
// bound, used about 22 MiB). A heap snapshot near the limit held 1.4 million promises, closures and
// promise reactions hanging from one pending promise: fast-check's interruptAfterTimeLimit plugin
// races every run against a single timer promise that stays pending for the whole time limit, so
// each run left a reaction (and the run's promise and context) on it until the campaign ended.
// Now the campaign stops at its deadline by checking the clock before each run (nothing is raced:
// each input has its own deadline in runOne, and the supervisor's watchdog catches a hang).
// Check: a 5 s campaign of a target that keeps nothing; the heap retained after a full collection
// (taken every 1,000 inputs) may not grow with the number of inputs.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import fc from "fast-check";
import { type FuzzTarget, runCampaign } from "../fuzz/harness.ts";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

// Every 1,000 inputs: three samples need 3,000 inputs in 5 s, which a machine at load ~80 still runs.
const EVERY = 1_000;

test("a fuzz campaign's heap does not grow with the number of inputs it runs", { timeout: 60_000 }, async () => {
  const findingsDir = await mkdtemp(join(tmpdir(), "berth-fuzz-memory-"));
  const samples: { inputs: number; heap: number }[] = [];
  let n = 0;
  const target: FuzzTarget<number> = {
    name: "keeps-nothing",
    about: "an async target that keeps nothing",
    arbitrary: fc.nat(),
    run: async () => {
      if (++n % EVERY !== 0) return;
      gc();
      samples.push({ inputs: n, heap: process.memoryUsage().heapUsed });
    },
    isExpected: () => false,
    slowMs: 1000,
  };
  try {
    // One campaign (one fast-check run): ~70,000 inputs a second here, 10,000 on a busy machine.
    const r = await runCampaign(target, { seconds: 5, findingsDir });
    assert.equal(r.findings.length, 0);
    assert.ok(samples.length >= 3, `only ${r.inputs} inputs ran in 5 s: too few to measure`);
    const first = samples[0]!;
    const last = samples.at(-1)!;
    const perInput = (last.heap - first.heap) / (last.inputs - first.inputs);
    const heaps = samples.map((s) => `${s.inputs}: ${(s.heap / 2 ** 20).toFixed(1)} MiB`).join(", ");
    // A promise reaction with its closure and context kept per input is ~300 bytes.
    assert.ok(perInput < 40, `the retained heap grew by ${perInput.toFixed(0)} bytes an input (${heaps})`);
  } finally {
    await rm(findingsDir, { recursive: true, force: true });
  }
});
