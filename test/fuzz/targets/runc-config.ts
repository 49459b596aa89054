// Target: config.json (and exec's process.json) from text to the plan nsexec reads: the loader and
// validation (src/runc/config/), the seccomp compiler, the device policy and its eBPF program, the
// plan builder (src/runc/plan/build.ts) and the plan encoder (plan/ops.ts). Inputs are the spec
// fixtures with structure-aware edits (wrong types, huge and negative numbers, long strings, NULs,
// deep nesting, arrays of 70,000 elements). Correct: a typed refusal (a BerthError that is not
// "internal"), or a plan that encodes into what nsexec's decoder reads back exactly: a "BRTH"
// header whose length and op count are right, at most 65,535 arguments an op, strings without a
// NUL inside (C would cut them there), integers within 64 bits; and a seccomp program the kernel's
// checks accept.
import fc from "fast-check";
import { BerthError } from "../../../src/common/errors.ts";
import { devicePolicy, v1DeviceWrites } from "../../../src/runc/cgroups/devices.ts";
import { deviceFilterProgram } from "../../../src/runc/cgroups/v2/device-filter.ts";
import { parseJsonExact } from "../../../src/runc/config/json.ts";
import type { Spec } from "../../../src/runc/config/types.ts";
import { parseProcess, parseSpecJson } from "../../../src/runc/config/validate.ts";
import { createPlan, execPlan } from "../../../src/runc/plan/build.ts";
import { deviceCgroupRules } from "../../../src/runc/plan/devices.ts";
import { encodePlan, Op, type PlanOp } from "../../../src/runc/plan/ops.ts";
import type { CompiledFilter } from "../../../src/runc/plan/process.ts";
import { checkProgram } from "../../../src/runc/seccomp/bpf-interpreter.ts";
import { compileSeccomp } from "../../../src/runc/seccomp/index.ts";
import { RUNC_CONFIG_FIXTURES, runcConfigFixture } from "../../fixtures/runc-config.ts";
import { check, type FuzzTarget } from "../harness.ts";
import { type Json, mutatedJsonText } from "../json-mutate.ts";

export interface ConfigInput {
  /** "config": a whole config.json for create/run; "process": exec --process's process.json. */
  kind: "config" | "process";
  text: string;
  mode: "create" | "run";
  consoleSocket: boolean;
  cgroupV2: boolean;
}

function loadSeeds(): Json[] {
  // Exactly: the fixtures hold 2^64-1 (RLIM_INFINITY), which a double would round up past it.
  return RUNC_CONFIG_FIXTURES.map((f) => parseJsonExact(runcConfigFixture(f)) as Json);
}

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/** Decodes the plan as native/nsexec/plan.c's decode_plan does and compares it with the ops. */
export function checkEncodedPlan(buf: Buffer, ops: readonly PlanOp[]): void {
  check(buf.length >= 12 && buf.toString("latin1", 0, 4) === "BRTH", "plan: bad header");
  check(buf.length <= 0xffffffff, () => `plan: ${buf.length} bytes do not fit the u32 length`);
  check(buf.readUInt32LE(4) === buf.length, "plan: the header's length is not the plan's");
  check(buf.readUInt32LE(8) === ops.length, "plan: the header's op count is not the plan's");
  let off = 12;
  for (const [i, o] of ops.entries()) {
    check(off + 4 <= buf.length, "plan: truncated op");
    check(buf.readUInt16LE(off) === Op[o.op], () => `plan: op ${i} has the wrong code`);
    const argc = buf.readUInt16LE(off + 2);
    check(argc === o.args.length, () => `plan: ${o.op} has ${o.args.length} arguments, the plan says ${argc}`);
    off += 4;
    for (const [j, a] of o.args.entries()) {
      check(off + 4 <= buf.length, "plan: truncated argument");
      const len = buf.readUInt32LE(off);
      off += 4;
      check(off + len <= buf.length, "plan: argument data past the end");
      const data = buf.subarray(off, off + len);
      off += len;
      if (typeof a === "string") {
        check(data.at(-1) === 0, () => `plan: ${o.op} argument ${j} is not NUL-terminated`);
        check(
          data.indexOf(0) === data.length - 1,
          () => `plan: ${o.op} argument ${j} holds a NUL: C reads a shorter string | ${JSON.stringify(a.slice(0, 60))}`,
        );
      } else if (typeof a === "number" || typeof a === "bigint") {
        check(len === 8, `plan: ${o.op} integer argument is not 8 bytes`);
        const v = BigInt(a);
        check(v >= INT64_MIN && v <= UINT64_MAX, () => `plan: ${o.op} integer ${v} does not fit 64 bits`);
        check(BigInt.asIntN(64, v) === data.readBigInt64LE(), () => `plan: ${o.op} integer ${v} encoded wrongly`);
      }
    }
  }
  check(off === buf.length, "plan: bytes after the last op");
}

function compile(spec: Spec): CompiledFilter | undefined {
  const profile = spec.linux?.seccomp;
  if (!profile) return undefined;
  const c = compileSeccomp(profile);
  try {
    checkProgram(c.program);
  } catch (err) {
    check(false, `seccomp: the compiled program fails the kernel's checks: ${(err as Error).message}`);
  }
  return { program: c.program, flags: c.flags, listenerPath: profile.listenerPath };
}

function run(input: ConfigInput): void {
  if (input.kind === "process") {
    let raw: unknown;
    try {
      raw = JSON.parse(input.text);
    } catch {
      return; // exec reports the file's JSON error before this code runs
    }
    const proc = parseProcess(raw);
    const spec = parseSpecJson(runcConfigFixture(RUNC_CONFIG_FIXTURES[0]));
    const ops = execPlan({
      spec,
      process: proc,
      initPid: 4242,
      detach: input.mode === "create",
      consoleSocket: input.consoleSocket ? "/run/x/console.sock" : undefined,
      cgroupProcs: ["/sys/fs/cgroup/x/cgroup.procs"],
      preserveFds: 0,
      lastCap: 40,
      rootfs: "/b/rootfs",
    });
    checkEncodedPlan(encodePlan(ops), ops);
    return;
  }
  const spec = parseSpecJson(input.text);
  const seccomp = compile(spec);
  const rules = deviceCgroupRules(spec);
  const policy = devicePolicy(rules);
  v1DeviceWrites(policy);
  const ops = createPlan({
    spec,
    rootfs: "/b/rootfs",
    mode: input.mode,
    execFifo: "/run/x/exec.fifo",
    consoleSocket: input.consoleSocket ? "/run/x/console.sock" : undefined,
    cgroupProcs: ["/sys/fs/cgroup/memory/x/cgroup.procs"],
    cgroups: input.cgroupV2
      ? [{ name: "", subsystem: "", hostDir: "/sys/fs/cgroup/x" }]
      : [{ name: "memory", subsystem: "memory", hostDir: "/sys/fs/cgroup/memory/x" }],
    preserveFds: 0,
    noPivot: false,
    lastCap: 40,
    seccomp,
    isDirectory: (p) => !p.includes("file"),
    deviceFilter: input.cgroupV2 ? { dir: "/sys/fs/cgroup/x", program: deviceFilterProgram(policy) } : undefined,
    rootfsParentMount: { path: "/", shared: false },
    isHostNamespace: () => false,
    id: "fuzz",
    newKeyring: true,
  });
  checkEncodedPlan(encodePlan(ops), ops);
}

export function createTarget(): FuzzTarget<ConfigInput> {
  const seeds = loadSeeds();
  const processes = seeds.map((s) => (s as { process?: Json }).process ?? {});
  return {
    name: "runc-config",
    about: "mutated config.json / process.json -> typed refusal, or a plan nsexec decodes to exactly what was meant",
    arbitrary: fc
      .record({
        kind: fc.oneof(
          { arbitrary: fc.constant("config" as const), weight: 4 },
          { arbitrary: fc.constant("process" as const), weight: 1 },
        ),
        text: fc.constant(""),
        mode: fc.constantFrom("create" as const, "run" as const),
        consoleSocket: fc.boolean(),
        cgroupV2: fc.boolean(),
      })
      .chain((r) =>
        (r.kind === "config"
          ? mutatedJsonText(seeds, { maxEdits: 6 })
          : mutatedJsonText(processes, { maxEdits: 6 })
        ).map((text) => ({
          ...r,
          text,
        })),
      ),
    run,
    isExpected: (err) => err instanceof BerthError && err.kind !== "internal",
    slowMs: 2000,
    // Big documents take longer: at least ~1 MB/s, or something grows faster than the input.
    budgetMs: (input) => 2000 + input.text.length / 1000,
  };
}
