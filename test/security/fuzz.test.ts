// The fuzzers of what parses untrusted input (test/fuzz/), each for a short bounded time, so the
// suite runs them on every change: the tar reader, layer application (as root, in a sandbox with
// decoys), config.json to the encoded plan, image documents and registry answers, ttrpc frames and
// gRPC requests. A finding fails the test with what it was and where its input was written
// (replay: node test/fuzz/run.ts --replay DIR). Seeds are random each run: a finding is a bug to
// fix, not noise. BERTH_FUZZ_SECONDS sets the time per target (default 3); scripts/fuzz.sh runs
// the long campaign.
import assert from "node:assert/strict";
import { test } from "node:test";
import { supervise } from "../fuzz/supervisor.ts";
import { TARGET_NAMES } from "../fuzz/targets/index.ts";

const SECONDS = Number(process.env.BERTH_FUZZ_SECONDS ?? 3);
const FINDINGS = process.env.BERTH_FUZZ_FINDINGS ?? "/var/tmp/berth-fuzz-findings";
const NEEDS_ROOT = new Set(["layer-apply"]);

for (const name of TARGET_NAMES) {
  const skip =
    NEEDS_ROOT.has(name) && process.getuid?.() !== 0 ? "needs root (owners, devices, trusted xattrs)" : false;
  test(`fuzz ${name} for ${SECONDS} s: no finding`, { skip, timeout: SECONDS * 1000 + 120_000 }, async (t) => {
    const r = await supervise(name, { seconds: SECONDS, findingsDir: FINDINGS });
    t.diagnostic(`${name}: ${r.inputs} inputs in ${r.seconds.toFixed(1)} s, ${r.findings.length} findings`);
    assert.ok(r.inputs > 0, `${name}: no input ran`);
    assert.deepEqual(
      r.findings.map((f) => `${f.message.split("\n")[0]} (replay: node test/fuzz/run.ts --replay ${f.dir})`),
      [],
    );
  });
}
