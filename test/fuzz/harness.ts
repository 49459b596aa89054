// The fuzzing harness: a target feeds generated inputs to one parser of untrusted input and says
// which errors are the parser's correct refusal. fast-check is the engine (seeded, replayable,
// shrinking). Anything else a target's run() throws, an input slower than the target's bound, or
// an invariant the target checks is a finding, written to a findings directory with what replays it.
import { mkdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { performance } from "node:perf_hooks";
import fc from "fast-check";
import { BerthError } from "../../src/common/errors.ts";

export interface FuzzTarget<T> {
  name: string;
  /** What is fuzzed and what counts as correct, in one line. */
  about: string;
  arbitrary: fc.Arbitrary<T>;
  /** Feeds one input to the code under test; throws Finding when an invariant does not hold. */
  run(input: T): Promise<void> | void;
  /** True when `err` (thrown by run) is the code's correct refusal of a bad input. */
  isExpected(err: unknown): boolean;
  /** One input taking longer than this (twice in a row) is a finding. */
  slowMs: number;
  /** The bound for one input when it depends on the input's size (default: slowMs). */
  budgetMs?(input: T): number;
  /** Heap bound (MiB) of the worker the target runs in: more is a finding (memory amplification). */
  memoryMb?: number;
  /** Releases what the target set up (sandbox dirs, helper processes). */
  close?(): Promise<void>;
}

/** An invariant the target checks did not hold. */
export class Finding extends Error {
  /** Groups findings of one cause (see signatureOf). */
  readonly signature: string;
  constructor(message: string, options?: { cause?: unknown; signature?: string }) {
    super(message, options);
    this.name = "Finding";
    this.signature = options?.signature ?? signatureOf(message);
  }
}

/** Where an error was thrown: the first stack frame outside the fuzzing harness. */
function siteOf(err: Error): string {
  for (const line of (err.stack ?? "").split("\n").slice(1)) {
    if (line.includes("/test/fuzz/")) continue;
    const m = /\(?((?:file:\/\/|node:)[^)]*?)(?::\d+)?\)?$/.exec(line.trim());
    if (m) return m[1]!.replace(/^file:\/\/.*?\/(src|node_modules)\//, "$1/");
  }
  return "?";
}

/** The Finding for an error the target does not expect, grouped by its type and where it came from. */
export function unexpected(err: unknown): Finding {
  const signature = err instanceof Error ? `unexpected ${err.name} at ${siteOf(err)}` : `unexpected ${typeof err}`;
  return new Finding(`unexpected ${describeError(err)}`, { cause: err, signature });
}

/** Throws a Finding unless `ok`. */
export function check(ok: boolean, message: string | (() => string)): asserts ok {
  if (!ok) throw new Finding(typeof message === "string" ? message : message());
}

/** The usual refusal: one of berth's typed errors of the bad-input kind. */
export function isInvalidArgument(err: unknown): boolean {
  return err instanceof BerthError && err.kind === "invalid-argument";
}

export function describeError(err: unknown): string {
  if (err instanceof Error)
    return `${err.name}${(err as { code?: unknown }).code ? ` [${String((err as { code?: unknown }).code)}]` : ""}: ${err.message}`;
  return String(err);
}

/**
 * Groups findings of one cause: the first line, without what follows " | " (the detail of one
 * input), with numbers and quoted text blanked.
 */
export function signatureOf(message: string): string {
  return message
    .split("\n")[0]!
    .split(" | ")[0]!
    .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
    .replace(/\d+/g, "N")
    .slice(0, 160);
}

// ---- inputs as files: JSON with bytes and bigints tagged ----

export function serializeInput(value: unknown, space = 1): string {
  return JSON.stringify(
    value,
    (_k, v: unknown) => {
      if (v instanceof Uint8Array) return { $bytes: Buffer.from(v).toString("base64") };
      if (typeof v === "bigint") return { $bigint: v.toString() };
      if (v === undefined) return { $undefined: true };
      return v;
    },
    space,
  );
}

export function deserializeInput(text: string): unknown {
  return JSON.parse(text, (_k, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o);
      if (keys.length === 1 && typeof o.$bytes === "string") return new Uint8Array(Buffer.from(o.$bytes, "base64"));
      if (keys.length === 1 && typeof o.$bigint === "string") return BigInt(o.$bigint);
      if (keys.length === 1 && o.$undefined === true) return undefined;
    }
    return v;
  });
}

/** The raw bytes of an input, when it is bytes or holds them (written beside input.json). */
function bytesOf(value: unknown): Uint8Array | undefined {
  if (value instanceof Uint8Array) return value;
  if (value && typeof value === "object" && (value as { bytes?: unknown }).bytes instanceof Uint8Array)
    return (value as { bytes: Uint8Array }).bytes;
  return undefined;
}

// ---- one input ----

export type Outcome = { kind: "ok" } | { kind: "refused"; message: string } | { kind: "finding"; error: Error };

function withDeadline<T>(p: Promise<T> | T, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Finding(`hang: no answer in ${ms} ms`)), ms);
  });
  return Promise.race([Promise.resolve(p), deadline]).finally(() => clearTimeout(timer));
}

/** Runs one input and classifies what happened (a slow input is timed twice before it counts). */
export async function runOne<T>(target: FuzzTarget<T>, input: T): Promise<Outcome> {
  const bound = target.budgetMs?.(input) ?? target.slowMs;
  const once = async (): Promise<{ outcome: Outcome; ms: number }> => {
    const start = performance.now();
    let outcome: Outcome;
    try {
      await withDeadline(target.run(input), Math.max(10_000, bound * 10));
      outcome = { kind: "ok" };
    } catch (err) {
      if (err instanceof Finding) outcome = { kind: "finding", error: err };
      else if (target.isExpected(err)) outcome = { kind: "refused", message: describeError(err) };
      else outcome = { kind: "finding", error: unexpected(err) };
    }
    return { outcome, ms: performance.now() - start };
  };
  const first = await once();
  if (first.outcome.kind === "finding" || first.ms <= bound) return first.outcome;
  const second = await once(); // a pause of the machine, or the input itself?
  if (second.outcome.kind !== "finding" && second.ms > bound) {
    const ms = Math.round(Math.min(first.ms, second.ms));
    return {
      kind: "finding",
      error: new Finding(`slow: one input took longer than its bound | ${ms} ms, bound ${Math.round(bound)} ms`),
    };
  }
  return second.outcome;
}

// ---- a campaign for one target ----

export interface FindingRecord {
  target: string;
  message: string;
  signature: string;
  dir: string;
  seed?: number;
  path?: string;
}

export interface CampaignResult {
  target: string;
  inputs: number;
  seconds: number;
  findings: FindingRecord[];
}

export interface CampaignOptions {
  seconds: number;
  findingsDir: string;
  /** Fixed seed (and path) to replay a fast-check run; otherwise random seeds. */
  seed?: number;
  path?: string;
  /** Called before each input with it (the worker keeps it where a watchdog can read it). */
  onInput?(input: unknown): void;
  /** Time allowed to shrink a failing input (ms). */
  shrinkMs?: number;
  log?(line: string): void;
}

let findingCounter = 0;

/** Writes a finding's files: finding.json (what, seed/path, how to replay) and input.json/.bin. */
export function writeFinding(
  findingsDir: string,
  target: string,
  message: string,
  input: unknown,
  extra: { seed?: number; path?: string; stack?: string; kind?: string; signature?: string } = {},
): FindingRecord {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "");
  const dir = join(findingsDir, `${target}-${stamp}-${process.pid}-${++findingCounter}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "input.json"), serializeInput(input));
  const bytes = bytesOf(input);
  if (bytes) writeFileSync(join(dir, "input.bin"), bytes);
  const here = relative(process.cwd(), join(import.meta.dirname, "run.ts")) || "test/fuzz/run.ts";
  const replay = [`node ${here} --replay ${dir}`];
  if (extra.seed !== undefined && extra.path !== undefined)
    replay.push(`node ${here} --seed ${extra.seed} --path ${extra.path} ${target}`);
  const record: FindingRecord = {
    target,
    message,
    signature: extra.signature ?? signatureOf(message),
    dir,
    seed: extra.seed,
    path: extra.path,
  };
  writeFileSync(
    join(dir, "finding.json"),
    `${JSON.stringify({ ...record, kind: extra.kind, stack: extra.stack, replay }, null, 2)}\n`,
  );
  return record;
}

function stackOf(err: Error): string {
  const parts = [err.stack ?? err.message];
  let cause = (err as { cause?: unknown }).cause;
  while (cause instanceof Error) {
    parts.push(`caused by: ${cause.stack ?? cause.message}`);
    cause = (cause as { cause?: unknown }).cause;
  }
  return parts.join("\n");
}

/**
 * Runs `target` for `seconds`: fast-check runs with random seeds until the time is spent, each
 * stopping at its first finding, which is then shrunk (bounded) and written down. A cause already
 * written down no longer stops a run (its inputs count as passing), so one frequent cause does not
 * hide the others.
 */
export async function runCampaign<T>(target: FuzzTarget<T>, opts: CampaignOptions): Promise<CampaignResult> {
  const log = opts.log ?? (() => {});
  const started = performance.now();
  const deadline = started + opts.seconds * 1000;
  const findings: FindingRecord[] = [];
  const known = new Set<string>();
  let inputs = 0;
  const property = fc.asyncProperty(target.arbitrary, async (input) => {
    opts.onInput?.(input);
    inputs++;
    const outcome = await runOne(target, input);
    if (outcome.kind === "finding" && !known.has(signatureOfError(outcome.error))) throw outcome.error;
  });
  while (performance.now() < deadline && findings.length < 10) {
    const seed = opts.seed ?? (Math.random() * 2 ** 31) | 0;
    const search = await fc.check<[T]>(property, {
      seed,
      path: opts.path,
      numRuns: opts.path ? 1 : 2 ** 31 - 1,
      endOnFailure: true,
      plugins: [stopAt(deadline)],
    });
    if (!search.failed || search.counterexamplePath === null) break;
    // Shrink from the failing input (replayed by seed + path), within a bound.
    const shrink = await fc.check<[T]>(property, {
      seed,
      path: search.counterexamplePath,
      plugins: [stopAt(performance.now() + (opts.shrinkMs ?? 20_000))],
    });
    const best = shrink.failed && shrink.counterexample ? shrink : search;
    const input = best.counterexample![0];
    // The shrunk input, run again, names the error (the last one thrown may be a shrink attempt's).
    const final = await runOne(target, input);
    const error = final.kind === "finding" ? final.error : ((search.errorInstance as Error) ?? new Error("?"));
    const signature = signatureOfError(error);
    known.add(signature);
    const rec = writeFinding(opts.findingsDir, target.name, error.message, input, {
      seed,
      path: best.counterexamplePath ?? undefined,
      stack: stackOf(error),
      kind: "fast-check",
      signature,
    });
    findings.push(rec);
    log(`${target.name}: FINDING ${error.message.split("\n")[0]} -> ${rec.dir}`);
    if (opts.path) break;
  }
  return { target: target.name, inputs, seconds: (performance.now() - started) / 1000, findings };
}

/**
 * A fast-check plugin that ends the run (as interrupted, not failed) once `deadline` (a
 * performance.now() time) has passed, checked before each input. fast-check's own
 * interruptAfterTimeLimit races every run against one timer promise that stays pending for the
 * whole limit, and each race leaves a reaction (with the run's promise and context) on it: ~300
 * bytes an input kept until the limit, which took long campaigns of fast targets past their heap
 * bound. Nothing is raced here: an input that does not return is runOne's deadline's and the
 * supervisor's watchdog's business.
 */
function stopAt(deadline: number): fc.UniversalPlugin {
  return () => ({
    decorateRun: (nestedRun) => (value) =>
      performance.now() >= deadline ? Promise.resolve(new fc.PreconditionFailure(true)) : nestedRun(value),
  });
}

function signatureOfError(err: Error): string {
  return err instanceof Finding ? err.signature : signatureOf(err.message);
}
