// Namespaces: which are new and which shared with the host, hostname/domainname, pid 1, joining a
// namespace by path, and user namespaces with uid/gid mappings.

import { chown, mkdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { NamespaceType, Spec } from "../../../src/runc/config/types.ts";
import {
  type ConformanceCase,
  conformance,
  contains,
  execFileP,
  formatFailure,
  type Half,
  probeCase,
} from "./harness.ts";

// Each link is printed raw; the harness turns inodes into same/different relative to the host.
const NS_PROBE = `for n in cgroup ipc mnt net pid pid_for_children time time_for_children user uts; do
  echo "$n $(readlink /proc/self/ns/$n)"
done
`;

function setNamespaces(s: Spec, types: NamespaceType[]): void {
  s.linux!.namespaces = types.map((type) => ({ type }));
}

function netnsName(h: Half): string {
  return `conf-${h.id}`.slice(0, 40);
}

async function addNetns(h: Half): Promise<string> {
  const name = netnsName(h);
  await execFileP("ip", ["netns", "add", name]);
  h.defer(() => execFileP("ip", ["netns", "del", name]));
  const ino = (await stat(`/var/run/netns/${name}`)).ino;
  h.replace(`net:[${ino}]`, "net:joined");
  return `/var/run/netns/${name}`;
}

const USERNS_MAP = { containerID: 0, hostID: 100000, size: 65536 };

function withUserns(s: Spec): void {
  s.linux!.namespaces!.push({ type: "user" });
  s.linux!.uidMappings = [USERNS_MAP];
  s.linux!.gidMappings = [USERNS_MAP];
}

const USERNS_PROBE = `echo "uid_map: $(cat /proc/self/uid_map)"
echo "gid_map: $(cat /proc/self/gid_map)"
id
for p in / /bin/busybox /etc/passwd /home/user /home/user/owned /proc /dev/null; do
  echo "$p $(stat -c '%u:%g' $p)"
done
touch /dev/shm/x && stat -c "shm file %u:%g" /dev/shm/x
echo "user ns: $(readlink /proc/self/ns/user)"
`;

async function userOwnedFile(rootfs: string): Promise<void> {
  // Host ids 101000:101000 are container ids 1000:1000 under USERNS_MAP.
  await writeFile(join(rootfs, "home/user/owned"), "x");
  await chown(join(rootfs, "home/user/owned"), 101000, 101000);
  await chown(join(rootfs, "home/user"), 101000, 101000);
  // The rootfs itself stays host-root-owned (overflow id inside), but /tmp must be writable.
  await mkdir(join(rootfs, "tmp"), { recursive: true });
}

const cases: ConformanceCase[] = [
  probeCase({
    name: "default spec namespaces (pid, network, ipc, uts, mount) are new, others shared",
    probe: NS_PROBE,
    check: contains("net net:different", "mnt mnt:different", "user user:same", "cgroup cgroup:same"),
  }),
  probeCase({
    name: "all namespaces but user are new",
    probe: NS_PROBE,
    spec: (s) => setNamespaces(s, ["pid", "network", "ipc", "uts", "mount", "cgroup"]),
    check: contains("cgroup cgroup:different", "ipc ipc:different"),
  }),
  probeCase({
    name: "only a mount namespace: the rest is the host's",
    probe: `${NS_PROBE}[ "$$" = 1 ] && echo pid1 || echo "not pid 1"\n`,
    spec: (s) => {
      setNamespaces(s, ["mount"]);
      delete s.hostname;
    },
    check: contains("net net:same", "pid pid:same", "not pid 1"),
  }),
  probeCase({
    name: "time namespace",
    probe: NS_PROBE,
    spec: (s) => {
      s.linux!.namespaces!.push({ type: "time" });
    },
    skip: "runc 1.1 does not support the time namespace (added in runc 1.2)",
  }),
  probeCase({
    name: "hostname in a new uts namespace",
    probe: `hostname; cat /proc/sys/kernel/hostname; cat /proc/sys/kernel/domainname\n`,
    spec: (s) => {
      s.hostname = "conf-host";
    },
    check: contains("conf-host\nconf-host\n(none)"),
  }),
  probeCase({
    name: "domainname in a new uts namespace",
    probe: `cat /proc/sys/kernel/domainname\n`,
    spec: (s) => {
      s.domainname = "conf.example";
    },
    check: contains("conf.example"),
    skip: "runc 1.1 ignores domainname (added in runc 1.2)",
  }),
  {
    name: "hostname without a uts namespace is an error",
    async run(h) {
      const b = await h.bundle({
        args: ["true"],
        spec: (s) => setNamespaces(s, ["pid", "mount"]),
      });
      const r = await h.rt.run(h.id, b.dir);
      return `${formatFailure(r)}\nleft in root: ${(await h.rt.ids()).length}\n`;
    },
    check: contains("exit=1 stderr=non-empty"),
  },
  probeCase({
    name: "the process is pid 1 of a new pid namespace",
    probe: `echo "pid=$$ ppid=$PPID"
echo "pid1: $(tr '\\0' ' ' < /proc/1/cmdline)"
set -- /proc/[0-9]*; echo "procs: $#"
`,
    check: contains("pid=1 ppid=0", "pid1: sh /probe.sh"),
  }),
  probeCase({
    name: "joining a network namespace by path",
    before: async (h) => {
      await addNetns(h);
    },
    probe: `echo "net $(readlink /proc/self/ns/net)"; ip -o link | cut -d' ' -f2\n`,
    spec: async (s, h) => {
      const path = `/var/run/netns/${netnsName(h)}`;
      s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === "network" ? { type: "network", path } : n));
    },
    check: contains("net net:joined", "lo:"),
  }),
  probeCase({
    name: "joining the test process's uts namespace by path (no hostname)",
    probe: `echo "uts $(readlink /proc/self/ns/uts)"\n`,
    spec: (s) => {
      delete s.hostname;
      s.linux!.namespaces = s.linux!.namespaces!.map((n) =>
        n.type === "uts" ? { type: "uts", path: `/proc/${process.pid}/ns/uts` } : n,
      );
    },
    check: contains("uts uts:same"),
  }),
  probeCase({
    name: "user namespace with uid/gid mappings",
    probe: USERNS_PROBE,
    spec: withUserns,
    rootfs: userOwnedFile,
    check: contains(
      "uid_map:          0     100000      65536",
      "uid=0(root)",
      "/home/user/owned 1000:1000",
      "user:different",
    ),
  }),
  probeCase({
    name: "user namespace, process as uid 1000",
    probe: USERNS_PROBE,
    spec: (s) => {
      withUserns(s);
      s.process!.user = { uid: 1000, gid: 1000 };
    },
    rootfs: userOwnedFile,
    check: contains("uid=1000(user)"),
  }),
];

conformance("namespaces", cases);
