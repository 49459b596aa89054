// Hole: files and directories berth-containerd and berth-shim make for a task were created with
// the default modes minus the umask. Under `umask 000` the bundle's config.json (the container's
// environment, its command, its mounts), runtime.json, the shim's `address` (where a restarted
// daemon connects), the daemon's pid file and the directories of a file:// log were writable by
// every local user: one could rewrite the config the runtime reads, or point the daemon at a
// socket of their own. The attacker is any local user; the daemon, its shims and a task run
// under umask 000. Host-side check: nothing the daemon or shim made is writable by anyone but
// root, and the files holding the container's configuration are root's alone.
import assert from "node:assert/strict";
import { chmodSync, existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type BerthContainerd, BUSYBOX_IMAGE, CTR, retryUntil, startWithBusybox } from "../helpers/berth-containerd.ts";

const skip = process.getuid?.() !== 0 ? "root only" : existsSync(CTR) ? undefined : "needs ctr";

const modeOf = (p: string) => lstatSync(p).mode & 0o7777;
const octal = (m: number) => `0${m.toString(8)}`;

/**
 * Every path under `dir` that group or others may write (symlinks aside), not descending into
 * `skip` (a container's own files: a rootfs, a snapshot's contents).
 */
function writableByOthers(dir: string, skipPath: (p: string) => boolean): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    if (skipPath(p)) return;
    const st = lstatSync(p);
    if (st.isSymbolicLink() || st.isSocket()) return; // sockets: socket-modes.test.ts
    if (st.mode & 0o022) out.push(`${p} ${octal(st.mode & 0o7777)}`);
    if (st.isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
  };
  walk(dir);
  return out;
}

describe("files the daemon and the shim make do not depend on the umask", { skip }, () => {
  let d: BerthContainerd & { cleanup(): Promise<void> };
  let umask = 0;
  const id = `private-${process.pid}`;

  before(async () => {
    umask = process.umask(0);
    d = await startWithBusybox();
    chmodSync(d.dir, 0o711);
  });

  after(async () => {
    process.umask(umask);
    await d?.cleanup();
  });

  test("a running task's bundle, the daemon's state and root, a file:// log", { timeout: 90_000 }, async () => {
    const log = join(d.dir, "logs", "deep", `${id}.log`);
    const r = await d.ctrAsync(["run", "-d", "--log-uri", `file://${log}`, BUSYBOX_IMAGE, id, "sleep", "600"]);
    assert.equal(r.status, 0, r.stderr);
    const exec = await d.ctrAsync(["task", "exec", "--exec-id", "e1", id, "true"]);
    assert.equal(exec.status, 0, exec.stderr);

    const bundle = join(d.state, "io.containerd.runtime.v2.task", "default", id);
    const modes = Object.fromEntries(
      ["config.json", "runtime.json", "address", "shim-binary"].map((f) => [f, octal(modeOf(join(bundle, f)))]),
    );
    assert.deepEqual(modes, {
      "config.json": "0600",
      "runtime.json": "0600",
      address: "0644",
      "shim-binary": "0644",
    });
    assert.equal(octal(modeOf(join(d.root, "berth-containerd.pid"))), "0644");
    assert.equal(octal(modeOf(join(d.dir, "logs"))), "0755", "a file:// log's directories");
    assert.equal(octal(modeOf(log)), "0640");

    // A container's own files are its image's business, not the daemon's.
    const containerFiles = (p: string) =>
      p === join(bundle, "rootfs") || /\/io\.containerd\.snapshotter\.v1\.\w+\/snapshots\/./.test(p);
    assert.deepEqual(writableByOthers(d.state, containerFiles), [], "state");
    assert.deepEqual(writableByOthers(d.root, containerFiles), [], "root");

    await d.ctrAsync(["task", "kill", "-s", "KILL", id]);
    await retryUntil(
      () => d.ctrAsync(["task", "delete", id]),
      (x) => x.status === 0,
    );
    await d.ctrAsync(["containers", "rm", id]);
    assert.ok(readFileSync(log, "utf8") !== undefined);
  });
});
