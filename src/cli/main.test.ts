// The berth CLI is not built yet: it must say so, name what berth ships today, and fail. (berthd
// is built: test/integration/engine covers it.)
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";

for (const [name, entry] of [["berth", "main.ts"]] as const) {
  test(`${name} says it is not implemented and names the commands berth ships`, () => {
    const run = spawnSync(process.execPath, [join(import.meta.dirname, entry)], { encoding: "utf8", timeout: 30_000 });
    assert.equal(run.status, 1);
    assert.equal(run.stdout, "");
    assert.equal(
      run.stderr,
      `${name}: not implemented yet (berth ships berth-runc, berth-shim, berth-containerd and a first berthd today; see README)\n`,
    );
  });
}
