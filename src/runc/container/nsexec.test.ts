import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { PlanOp } from "../plan/ops.ts";
import { withPidSync } from "./nsexec.ts";

describe("withPidSync: the sync point a launcher's pid file needs", () => {
  test("goes right after the clone and the parent half's id maps", () => {
    const plan: PlanOp[] = [
      { op: "FIFO_OPEN", args: ["/x"] },
      { op: "CLONE", args: [0, 0] },
      { op: "IDMAP", args: ["uid_map", "0 0 1"] },
      { op: "IDMAP", args: ["gid_map", "0 0 1"] },
      { op: "SETSID", args: [] },
    ];
    assert.deepEqual(
      withPidSync(plan).map((o) => o.op),
      ["FIFO_OPEN", "CLONE", "IDMAP", "IDMAP", "SYNC", "SETSID"],
    );
    assert.deepEqual(
      withPidSync([{ op: "CLONE", args: [0, 2] }]).map((o) => o.op),
      ["CLONE", "SYNC"],
    );
    assert.equal(plan.length, 5, "the plan given is left as it is");
  });

  test("a plan without a clone is refused", () => {
    assert.throws(() => withPidSync([{ op: "SETSID", args: [] }]), /without a clone/);
  });
});
