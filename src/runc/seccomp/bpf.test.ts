import assert from "node:assert/strict";
import { test } from "node:test";
import { SECCOMP_ACTIONS, SECCOMP_ARCHS, SECCOMP_FLAGS, SECCOMP_OPERATORS } from "../config/seccomp-vocabulary.ts";
import { BpfAssemblyError, BpfBuilder } from "./bpf.ts";
import { checkProgram, runBpf } from "./bpf-interpreter.ts";
import { knownActions, knownArchitectures, knownFlags, knownOperators } from "./features.ts";

test("far conditional branches are routed through BPF_JA hops", () => {
  const b = new BpfBuilder();
  const far = b.label();
  const near = b.label();
  b.load(0);
  b.branch("jeq", 7, far, near);
  b.bind(near);
  for (let i = 0; i < 600; i++) b.ret(1000 + i);
  b.bind(far);
  b.ret(42);
  const prog = b.assemble();
  checkProgram(prog);
  assert.equal(prog.length / 8, 604);
  assert.equal(runBpf(prog, { nr: 7, arch: 0 }), 42);
  assert.equal(runBpf(prog, { nr: 8, arch: 0 }), 1000);
});

test("unbound or backward labels are assembly errors", () => {
  const b = new BpfBuilder();
  b.jump(b.label());
  assert.throws(() => b.assemble(), BpfAssemblyError);
  const c = new BpfBuilder();
  const l = c.label();
  c.bind(l);
  c.jump(l);
  assert.throws(() => c.assemble(), BpfAssemblyError);
});

test("features lists cover the spec validator's vocabulary", () => {
  assert.deepEqual(knownActions(), [...SECCOMP_ACTIONS].sort());
  assert.deepEqual(knownOperators(), [...SECCOMP_OPERATORS].sort());
  assert.deepEqual(knownArchitectures(), [...SECCOMP_ARCHS].sort());
  assert.deepEqual(knownFlags().sort(), [...SECCOMP_FLAGS].sort());
  assert.ok(knownActions().includes("SCMP_ACT_NOTIFY"));
  assert.ok(knownOperators().includes("SCMP_CMP_MASKED_EQ"));
  assert.ok(knownArchitectures().includes("SCMP_ARCH_X32"));
  assert.deepEqual(knownFlags().sort(), [
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
  ]);
});
