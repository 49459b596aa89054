import assert from "node:assert/strict";
import { test } from "node:test";
import type { Mount } from "../../common/mount/mount.ts";
import { mountCommand } from "../../common/mount/mounter.ts";
import { applyTarget, diffSource } from "./fast-path.ts";

const active: Mount = {
  type: "overlay",
  source: "overlay",
  options: ["index=off", "workdir=/r/3/work", "upperdir=/r/3/fs", "lowerdir=/r/2/fs:/r/1/fs"],
};
const bind = (source: string, ro = false): Mount => ({ type: "bind", source, options: [ro ? "ro" : "rw", "rbind"] });

test("apply: overlay upper, writable bind, else mount", () => {
  assert.deepEqual(applyTarget([active]), { kind: "overlay-upper", upper: "/r/3/fs", lowers: ["/r/2/fs", "/r/1/fs"] });
  assert.deepEqual(applyTarget([bind("/d")]), { kind: "directory", dir: "/d" });
  assert.deepEqual(applyTarget([bind("/d", true)]), { kind: "mount" });
  assert.deepEqual(applyTarget([bind("/a"), bind("/b")]), { kind: "mount" });
  assert.deepEqual(applyTarget([{ type: "overlay", source: "overlay", options: ["lowerdir=/a:/b"] }]), {
    kind: "mount",
  });
  assert.deepEqual(applyTarget([]), { kind: "mount" });
});

test("diff: an overlay over exactly the lower stack reads its upper; binds compare; else null", () => {
  const lowerView: Mount = { type: "overlay", source: "overlay", options: ["lowerdir=/r/2/fs:/r/1/fs"] };
  assert.deepEqual(diffSource([lowerView], [active]), { kind: "overlay", upper: "/r/3/fs" });
  const single: Mount = { ...active, options: ["workdir=/w", "upperdir=/u", "lowerdir=/r/2/fs"] };
  assert.deepEqual(diffSource([bind("/r/2/fs", true)], [single]), { kind: "overlay", upper: "/u" });
  assert.equal(diffSource([bind("/r/9/fs", true)], [single]), null);
  assert.equal(diffSource([bind("/r/2/fs", true)], [active]), null);
  assert.deepEqual(diffSource([], [bind("/u")]), { kind: "plain", lower: null, upper: "/u" });
  assert.deepEqual(diffSource([bind("/l", true)], [bind("/u")]), { kind: "plain", lower: "/l", upper: "/u" });
  assert.equal(diffSource([lowerView], [bind("/u")]), null);
  assert.equal(diffSource([bind("/l")], [bind("/a"), bind("/b")]), null);
});

test("mount(8) command: a lowerdir list beyond a page is made relative to its common parent", () => {
  assert.deepEqual(mountCommand(active), { options: active.options });
  const lowers = Array.from({ length: 200 }, (_, i) => `/var/lib/berth/snapshots/${1000 + i}/fs`);
  const deep: Mount = {
    type: "overlay",
    source: "overlay",
    options: [
      "workdir=/var/lib/berth/snapshots/9/work",
      "upperdir=/var/lib/berth/snapshots/9/fs",
      `lowerdir=${lowers.join(":")}`,
    ],
  };
  const cmd = mountCommand(deep);
  assert.equal(cmd.cwd, "/var/lib/berth/snapshots");
  assert.equal(cmd.options[0], "workdir=9/work");
  assert.ok(cmd.options[2]?.startsWith("lowerdir=1000/fs:1001/fs:"));
  assert.ok(cmd.options.join(",").length < deep.options.join(",").length);
});
