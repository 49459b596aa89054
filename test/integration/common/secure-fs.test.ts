// ownDir refuses a directory another user owns (chown needs root; the rest of secure-fs is unit
// tested beside src/common/secure-fs.ts).
import assert from "node:assert/strict";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { FailedPreconditionError } from "../../../src/common/errors.ts";
import { ownDir } from "../../../src/common/secure-fs.ts";

test("ownDir refuses another owner's directory and leaves it as it is", (t) => {
  const base = mkdtempSync(join(tmpdir(), "berth-secure-fs-"));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const theirs = join(base, "theirs");
  mkdirSync(theirs);
  chmodSync(theirs, 0o777);
  chownSync(theirs, 65534, 65534);
  assert.throws(
    () => ownDir(theirs, 0o711),
    (e) => e instanceof FailedPreconditionError && /theirs: owned by uid 65534/.test(e.message),
  );
  assert.equal(statSync(theirs).mode & 0o7777, 0o777);
});
