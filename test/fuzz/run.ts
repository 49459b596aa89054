// The fuzzers' command line.
//
//   node test/fuzz/run.ts [--seconds N] [--findings DIR] [target...]   each target for N s (default 60)
//   node test/fuzz/run.ts --seed S --path P target                     replay a fast-check run
//   node test/fuzz/run.ts --replay FINDING_DIR                         run a saved input once
//   node test/fuzz/run.ts --list
//
// Prints "target: N inputs in S s (R/s), F findings" per target; exits 1 when there is a finding.
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deserializeInput, runOne } from "./harness.ts";
import { supervise } from "./supervisor.ts";
import { TARGET_NAMES, TARGETS } from "./targets/index.ts";

export const DEFAULT_FINDINGS = process.env.BERTH_FUZZ_FINDINGS ?? "/var/tmp/berth-fuzz-findings";

function usage(): never {
  console.error("usage: run.ts [--seconds N] [--findings DIR] [--seed S --path P] [target...] | --replay DIR | --list");
  process.exit(2);
}

async function replay(dir: string): Promise<number> {
  const meta = JSON.parse(readFileSync(join(dir, "finding.json"), "utf8")) as { target: string; message: string };
  const input = deserializeInput(readFileSync(join(dir, "input.json"), "utf8"));
  const scratch = await mkdtemp(join(tmpdir(), "berth-fuzz-replay-"));
  const target = await TARGETS[meta.target]!.load(scratch);
  try {
    console.log(`${meta.target}: recorded: ${meta.message}`);
    const outcome = await runOne(target, input);
    if (outcome.kind === "finding") {
      console.log(`${meta.target}: still a finding: ${outcome.error.stack ?? outcome.error.message}`);
      const cause = (outcome.error as { cause?: unknown }).cause;
      if (cause instanceof Error) console.log(`caused by: ${cause.stack}`);
      return 1;
    }
    console.log(`${meta.target}: fixed: ${outcome.kind === "refused" ? `refused (${outcome.message})` : "accepted"}`);
    return 0;
  } finally {
    await target.close?.();
    await rm(scratch, { recursive: true, force: true });
  }
}

async function main(argv: string[]): Promise<number> {
  let seconds = 60;
  let findingsDir = DEFAULT_FINDINGS;
  let seed: number | undefined;
  let path: string | undefined;
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => argv[++i] ?? usage();
    if (a === "--seconds") seconds = Number(value());
    else if (a === "--findings") findingsDir = value();
    else if (a === "--seed") seed = Number(value());
    else if (a === "--path") path = value();
    else if (a === "--replay") return replay(value());
    else if (a === "--list") {
      for (const n of TARGET_NAMES) console.log(n);
      return 0;
    } else if (a.startsWith("-")) usage();
    else names.push(a);
  }
  if (!Number.isFinite(seconds) || seconds <= 0) usage();
  for (const n of names) if (!TARGETS[n]) usage();
  if ((seed === undefined) !== (path === undefined) || (path !== undefined && names.length !== 1)) usage();
  let findings = 0;
  for (const name of names.length > 0 ? names : TARGET_NAMES) {
    const r = await supervise(name, { seconds, findingsDir, seed, path, log: (l) => console.log(l) });
    findings += r.findings.length;
    const rate = r.seconds > 0 ? Math.round(r.inputs / r.seconds) : 0;
    console.log(
      `${name}: ${r.inputs} inputs in ${r.seconds.toFixed(1)} s (${rate}/s), ${r.findings.length} finding${r.findings.length === 1 ? "" : "s"}`,
    );
    for (const f of r.findings) console.log(`  ${f.message.split("\n")[0]}\n    ${f.dir}`);
  }
  return findings > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
