import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiError } from "../api/api-errors.ts";
import { decodeHostConfig } from "./spec/decode.ts";
import { TEST_HOST } from "./spec/spec-cases.testing.ts";
import { applyUpdate, decodeUpdate, specWithResources } from "./update.ts";

const HOST = TEST_HOST;
const ID = "a".repeat(64);
const current = (over: Record<string, unknown> = {}) => decodeHostConfig(over);
const conflictOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ApiError && err.status === 409, String(err));
    return err.message;
  }
  assert.fail("no conflict");
};

test("a zero field keeps what the container has; given ones replace it", () => {
  const h = applyUpdate(
    ID,
    current({ Memory: 64 << 20, CpuShares: 512 }),
    decodeUpdate({ CpuShares: 1024, PidsLimit: 50 }, HOST),
  );
  assert.equal(h.Memory, 64 << 20);
  assert.equal(h.CpuShares, 1024);
  assert.equal(h.PidsLimit, 50);
  assert.deepEqual(h.RestartPolicy, { Name: "", MaximumRetryCount: 0 });
  const p = applyUpdate(ID, h, decodeUpdate({ RestartPolicy: { Name: "on-failure", MaximumRetryCount: 4 } }, HOST));
  assert.deepEqual(p.RestartPolicy, { Name: "on-failure", MaximumRetryCount: 4 });
});

test("memory: a container without a swap limit takes a new limit alone; past a set swap limit it needs one", () => {
  assert.equal(applyUpdate(ID, current(), decodeUpdate({ Memory: 64 << 20 }, HOST)).Memory, 64 << 20);
  const withSwap = current({ Memory: 32 << 20, MemorySwap: 64 << 20 });
  assert.match(
    conflictOf(() => applyUpdate(ID, withSwap, decodeUpdate({ Memory: 128 << 20 }, HOST))),
    /^Cannot update container a{64}: Memory limit should be smaller than already set memoryswap limit/,
  );
  const both = applyUpdate(ID, withSwap, decodeUpdate({ Memory: 128 << 20, MemorySwap: 256 << 20 }, HOST));
  assert.deepEqual([both.Memory, both.MemorySwap], [128 << 20, 256 << 20]);
  assert.match(
    conflictOf(() =>
      applyUpdate(ID, current({ Memory: 64 << 20 }), decodeUpdate({ MemoryReservation: 128 << 20 }, HOST)),
    ),
    /memory reservation/,
  );
});

test("NanoCpus and CpuPeriod/CpuQuota exclude each other across updates (dockerd's words)", () => {
  assert.match(
    conflictOf(() => applyUpdate(ID, current({ CpuQuota: 50_000 }), decodeUpdate({ NanoCpus: 5e8 }, HOST))),
    /Nano CPUs cannot be updated as CPU Quota has already been set/,
  );
  assert.match(
    conflictOf(() => applyUpdate(ID, current({ CpuPeriod: 50_000 }), decodeUpdate({ NanoCpus: 5e8 }, HOST))),
    /Nano CPUs cannot be updated as CPU Period has already been set/,
  );
  assert.match(
    conflictOf(() => applyUpdate(ID, current({ NanoCpus: 5e8 }), decodeUpdate({ CpuPeriod: 50_000 }, HOST))),
    /CPU Period cannot be updated as NanoCPUs has already been set/,
  );
  assert.match(
    conflictOf(() => applyUpdate(ID, current({ NanoCpus: 5e8 }), decodeUpdate({ CpuQuota: 50_000 }, HOST))),
    /CPU Quota cannot be updated as NanoCPUs has already been set/,
  );
});

test("an auto-removed container takes no restart policy but no", () => {
  const rm = current({ AutoRemove: true });
  assert.match(
    conflictOf(() => applyUpdate(ID, rm, decodeUpdate({ RestartPolicy: { Name: "always" } }, HOST))),
    /Restart policy cannot be updated because AutoRemove is enabled for the container/,
  );
  assert.equal(applyUpdate(ID, rm, decodeUpdate({ RestartPolicy: { Name: "no" } }, HOST)).RestartPolicy.Name, "no");
});

test("hostile bodies: wrong types, bad policies and counts, values dockerd refuses: 400", () => {
  for (const [body, message] of [
    [{ Memory: "1g" }, /cannot unmarshal string into Go struct field UpdateConfig.Memory of type int64/],
    [{ RestartPolicy: { Name: "sometimes" } }, /invalid restart policy 'sometimes'/],
    [{ RestartPolicy: { Name: "on-failure", MaximumRetryCount: -1 } }, /maximum retry count cannot be negative/],
    [{ RestartPolicy: { Name: "unless-stopped", MaximumRetryCount: 2 } }, /cannot be used with restart policy/],
    [{ Memory: 1 }, /Minimum memory limit allowed is 6MB/],
    [{ CpusetCpus: "0-99" }, /Requested CPUs are not available/],
    [{ BlkioWeight: 70_000 }, /cannot unmarshal number 70000/],
    [{ BlkioWeight: 500 }, /block IO weights/],
    [[], /cannot unmarshal array/],
    ["x", /cannot unmarshal string/],
  ] as const) {
    assert.throws(
      () => decodeUpdate(body, HOST),
      (e: Error) => message.test(e.message),
      JSON.stringify(body),
    );
  }
  assert.deepEqual(decodeUpdate(null, HOST).restartPolicy, false);
});

test("the stored spec: memory/cpu/pids replaced, devices and RLIM_INFINITY kept exactly", () => {
  const spec = JSON.parse(
    '{"process":{"rlimits":[{"type":"RLIMIT_NOFILE","hard":18446744073709551615,"soft":1024}]},' +
      '"linux":{"resources":{"devices":[{"allow":false,"access":"rwm"}],"cpu":{"shares":2},"pids":{"limit":9}}}}',
  );
  const out = specWithResources(spec, { memory: { limit: 64 << 20 } });
  const text = JSON.stringify(out);
  assert.match(text, /"hard":18446744073709551615,/);
  assert.deepEqual(JSON.parse(text).linux.resources, {
    devices: [{ allow: false, access: "rwm" }],
    memory: { limit: 64 << 20 },
  });
  // No spec to start from: refused, never a made-up one.
  for (const bad of [undefined, null, [], "spec"])
    assert.throws(() => specWithResources(bad, {}), /not a runtime spec/);
});
