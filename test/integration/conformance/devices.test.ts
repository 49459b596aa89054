// Devices: the /dev the runtime builds (nodes, modes, symlinks, /dev/pts, /dev/shm), extra devices
// from linux.devices, the device cgroup (default deny with the runtime's allow list), devices in a
// user namespace (bind-mounted rather than created).

import type { Spec } from "../../../src/runc/config/types.ts";
import { type ConformanceCase, conformance, contains, probeCase } from "./harness.ts";

// stat prints type, major:minor (hex), mode, owner and, for links, the target; no timestamps.
const DEV_LIST = `for f in /dev/* /dev/.[!.]* /dev/pts/* /dev/shm/* /dev/mqueue/*; do
  [ -e "$f" ] || [ -L "$f" ] || continue
  stat -c '%n|%F|%t:%T|%a|%u:%g|%N' "$f"
done
`;

const FUSE = { type: "c" as const, path: "/dev/fuse", major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 };
const LOOP = { type: "b" as const, path: "/dev/conf-loop", major: 7, minor: 0, fileMode: 0o640, uid: 1000, gid: 1000 };

function userns(s: Spec): void {
  const map = { containerID: 0, hostID: 100000, size: 65536 };
  s.linux!.namespaces!.push({ type: "user" });
  s.linux!.uidMappings = [map];
  s.linux!.gidMappings = [map];
}

const ACCESS = `for d in /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty /dev/ptmx /dev/fuse /dev/conf-loop; do
  if [ -e $d ]; then (: < $d) 2>/dev/null && echo "$d open ok" || echo "$d open denied"; fi
done
echo x > /dev/full || echo "/dev/full write failed"
echo "zero: $(head -c 4 /dev/zero | wc -c) urandom: $(head -c 4 /dev/urandom | wc -c)"
`;

const cases: ConformanceCase[] = [
  probeCase({
    name: "default /dev contents",
    probe: DEV_LIST,
    check: contains(
      "/dev/null|character special file|1:3|666|0:0",
      "/dev/ptmx|symbolic link",
      "/dev/fd|symbolic link",
      "/dev/pts/ptmx|character special file",
      "/dev/shm|directory",
    ),
  }),
  probeCase({
    name: "default device access (cgroup allow list)",
    probe: ACCESS,
    stderr: false,
    check: contains("/dev/null open ok", "/dev/full write failed", "zero: 4 urandom: 4"),
  }),
  probeCase({
    name: "extra devices from linux.devices, denied by the device cgroup",
    spec: (s) => {
      s.linux!.devices = [FUSE, LOOP];
    },
    probe: DEV_LIST + ACCESS,
    stderr: false,
    check: contains(
      "/dev/fuse|character special file|a:e5|666|0:0",
      "/dev/conf-loop|block special file|7:0|640|1000:1000",
    ),
  }),
  probeCase({
    name: "extra devices allowed by linux.resources.devices",
    spec: (s) => {
      s.linux!.devices = [FUSE, LOOP];
      s.linux!.resources!.devices!.push(
        { allow: true, type: "c", major: 10, minor: 229, access: "rwm" },
        { allow: true, type: "b", major: 7, access: "r" },
      );
    },
    probe: ACCESS,
    stderr: false,
    check: contains("/dev/fuse open ok"),
  }),
  probeCase({
    name: "/dev in a user namespace",
    spec: userns,
    probe: DEV_LIST + ACCESS,
    stderr: false,
    check: contains("/dev/null|character special file|1:3|666|65534:65534"),
  }),
  probeCase({
    name: "/dev/shm, /dev/pts and /dev/fd work",
    probe: `echo data > /dev/shm/f && cat /dev/shm/f
ls /dev/fd/ | sort | head -3
echo "stdout via /dev/stdout" > /dev/stdout
for l in /dev/ptmx /dev/fd /dev/stdin /dev/stdout /dev/stderr; do echo "$l -> $(readlink $l)"; done
`,
    check: contains("data", "stdout via /dev/stdout", "pts/ptmx", "/proc/self/fd"),
  }),
];

conformance("devices", cases);
