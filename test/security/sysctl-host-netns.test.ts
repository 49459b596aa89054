// Hole: linux.sysctl was written into whatever namespace the container ended up in. With the
// network namespace joined by a path that is the host's own, a net.* sysctl changed the host's
// value. runc refuses that ("sysctl %q not allowed in host network namespace", exit 1). berth-runc
// also refuses the same trick for IPC sysctls (kernel.msg*, kernel.sem, kernel.shm*,
// fs.mqueue.*) and kernel.domainname with the host's IPC or UTS namespace joined by path, which
// runc lets through. Host-side check: the host's values are unchanged.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { after, before, test } from "node:test";
import type { NamespaceType, Spec } from "../../src/runc/config/types.ts";
import { makeBundle } from "../fixtures/busybox.ts";
import { Runtime, uniqueId } from "../helpers/runtime.ts";
import { SUBJECT_BIN } from "../integration/conformance/harness.ts";

let rt: Runtime;
before(async () => {
  rt = await Runtime.create(SUBJECT_BIN, "sysctl");
});
after(async () => {
  await rt.destroy();
});

const procSys = (key: string) => `/proc/sys/${key.replaceAll(".", "/")}`;

/** The host's value of `key`, put back after the test whatever the runtime did to it. */
function guardHostValue(t: { after(fn: () => void): void }, key: string): string {
  const value = readFileSync(procSys(key), "utf8");
  t.after(() => {
    if (readFileSync(procSys(key), "utf8") !== value) writeFileSync(procSys(key), value);
  });
  return value;
}

/** Joins `type` by `path` in the default spec and sets one sysctl to `value`. */
function joinAndSet(type: NamespaceType, path: string, key: string, value: string) {
  return (s: Spec) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== type);
    s.linux!.namespaces.push({ type, path });
    s.linux!.sysctl = { [key]: value };
    if (type === "uts") delete s.hostname;
  };
}

async function assertRefused(edit: (s: Spec) => void, message: RegExp): Promise<void> {
  const b = await makeBundle({ args: ["echo", "ran"], spec: edit });
  try {
    await rt.runRefused(uniqueId("sysctl"), b.dir, message);
  } finally {
    await b.cleanup();
  }
}

const KEEPALIVE = "net.ipv4.tcp_keepalive_probes";

test("a net.* sysctl with the host's network namespace joined by path is refused", async (t) => {
  const host = guardHostValue(t, KEEPALIVE);
  const other = String(Number(host) === 3 ? 4 : 3);
  for (const path of ["/proc/self/ns/net", `/proc/${process.pid}/ns/net`]) {
    await assertRefused(
      joinAndSet("network", path, KEEPALIVE, other),
      /linux\.sysctl\["net\.ipv4\.tcp_keepalive_probes"\]: sysctl "net\.ipv4\.tcp_keepalive_probes" not allowed in host network namespace/,
    );
    // Before the fix the run succeeded and this read `other`.
    assert.equal(readFileSync(procSys(KEEPALIVE), "utf8"), host, `host value changed through ${path}`);
  }
  // The slash form names the same sysctl.
  await assertRefused(
    joinAndSet("network", "/proc/self/ns/net", "net/ipv4/tcp_keepalive_probes", other),
    /not allowed in host network namespace/,
  );
  assert.equal(readFileSync(procSys(KEEPALIVE), "utf8"), host);
});

test("without a network namespace a net.* sysctl is refused", async (t) => {
  const host = guardHostValue(t, KEEPALIVE);
  await assertRefused((s) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== "network");
    s.linux!.sysctl = { [KEEPALIVE]: String(Number(host) === 3 ? 4 : 3) };
  }, /not allowed in host network namespace/);
  assert.equal(readFileSync(procSys(KEEPALIVE), "utf8"), host);
});

test("an IPC sysctl with the host's IPC namespace joined by path is refused", async (t) => {
  const host = guardHostValue(t, "kernel.msgmnb");
  await assertRefused(
    joinAndSet("ipc", "/proc/self/ns/ipc", "kernel.msgmnb", String(Number(host) + 1)),
    /linux\.sysctl\["kernel\.msgmnb"\]: sysctl "kernel\.msgmnb" is not allowed in the hosts ipc namespace/,
  );
  assert.equal(readFileSync(procSys("kernel.msgmnb"), "utf8"), host);
});

test("kernel.domainname with the host's UTS namespace joined by path is refused", async (t) => {
  const host = guardHostValue(t, "kernel.domainname");
  await assertRefused(
    joinAndSet("uts", "/proc/self/ns/uts", "kernel.domainname", "hijacked.example"),
    /linux\.sysctl\["kernel\.domainname"\]: sysctl "kernel\.domainname" is not allowed in the hosts uts namespace/,
  );
  assert.equal(readFileSync(procSys("kernel.domainname"), "utf8"), host);
});

test("a net.* sysctl in another network namespace joined by path is applied there only", async (t) => {
  const host = guardHostValue(t, KEEPALIVE);
  const other = String(Number(host) === 3 ? 4 : 3);
  const name = `berth-sysctl-${process.pid}`;
  execFileSync("ip", ["netns", "add", name]);
  t.after(() => execFileSync("ip", ["netns", "delete", name]));
  const b = await makeBundle({
    args: ["cat", procSys(KEEPALIVE)],
    spec: joinAndSet("network", `/run/netns/${name}`, KEEPALIVE, other),
  });
  t.after(() => b.cleanup());
  const r = await rt.run(uniqueId("sysctl-ok"), b.dir);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), other);
  assert.equal(readFileSync(procSys(KEEPALIVE), "utf8"), host);
});
