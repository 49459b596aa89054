// The container process: args, env, cwd, user and groups, umask, rlimits, capabilities,
// no_new_privs, oom_score_adj, sysctls and stdin.

import { type ConformanceCase, conformance, contains, formatResult, probeCase } from "./harness.ts";

const CAPS = `grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb)' /proc/self/status\n`;

const FULL_CAPS = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

const cases: ConformanceCase[] = [
  probeCase({
    name: "args are passed verbatim",
    probe: "",
    spec: (s) => {
      s.process!.args = ["sh", "-c", `printf '[%s]\\n' "$0" "$@"`, "zero", "a b", "", `c"d`, "$HOME", "é"];
    },
    check: contains('[zero]\n[a b]\n[]\n[c"d]\n[$HOME]\n[é]'),
  }),
  probeCase({
    name: "environment",
    probe: "env | sort\n",
    spec: (s) => {
      s.process!.env = ["PATH=/bin:/usr/bin", "FOO=bar baz", "EMPTY=", "MULTI=a=b=c"];
    },
    check: contains("FOO=bar baz", "MULTI=a=b=c"),
  }),
  probeCase({ name: "default environment", probe: "env | sort\n", check: contains("TERM=xterm") }),
  probeCase({
    name: "cwd",
    probe: "pwd\n",
    spec: (s) => {
      s.process!.cwd = "/home/user";
    },
    check: contains("/home/user"),
  }),
  probeCase({
    name: "missing cwd is created (writable rootfs)",
    probe: "pwd; stat -c '%a %u:%g' .\n",
    spec: (s) => {
      s.root!.readonly = false;
      s.process!.cwd = "/new/work/dir";
    },
  }),
  probeCase({
    name: "user, group and additional groups",
    probe: "id; grep -E '^(Uid|Gid|Groups)' /proc/self/status\n",
    spec: (s) => {
      s.process!.user = { uid: 1000, gid: 1000, additionalGids: [10, 100, 4242] };
    },
    check: contains("uid=1000(user) gid=1000(user)", "Groups:"),
  }),
  probeCase({
    name: "uid without a passwd entry",
    probe: "id; echo HOME=$HOME\n",
    spec: (s) => {
      s.process!.user = { uid: 4321, gid: 4321 };
    },
    check: contains("uid=4321 gid=4321"),
  }),
  probeCase({
    name: "umask",
    probe: "umask; touch /dev/shm/f; stat -c '%a' /dev/shm/f\n",
    spec: (s) => {
      s.process!.user.umask = 0o077;
    },
    check: contains("0077", "600"),
  }),
  probeCase({ name: "default umask", probe: "umask\n", check: contains("0022") }),
  probeCase({
    name: "rlimits",
    probe: "cat /proc/self/limits\n",
    spec: (s) => {
      s.process!.rlimits = [
        { type: "RLIMIT_NOFILE", soft: 512, hard: 2048 },
        { type: "RLIMIT_CORE", soft: 0, hard: 0 },
        { type: "RLIMIT_NPROC", soft: 300, hard: 400 },
        { type: "RLIMIT_STACK", soft: 4194304, hard: 8388608 },
      ];
    },
    check: contains("Max open files            512                  2048"),
  }),
  probeCase({
    name: "default capabilities",
    probe: CAPS, // runc spec lists ambient caps without inheritable ones, so the kernel keeps ambient empty.
    check: contains("CapBnd:\t0000000020000420", "CapAmb:\t0000000000000000"),
  }),
  probeCase({
    name: "capabilities: docker's default set, no ambient",
    probe: CAPS,
    spec: (s) => {
      s.process!.capabilities = {
        bounding: FULL_CAPS,
        effective: FULL_CAPS,
        permitted: FULL_CAPS,
        inheritable: FULL_CAPS,
      };
    },
    check: contains("CapAmb:\t0000000000000000"),
  }),
  probeCase({
    name: "capabilities: split sets",
    probe: CAPS,
    spec: (s) => {
      s.process!.capabilities = {
        bounding: ["CAP_KILL", "CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_NET_ADMIN"],
        permitted: ["CAP_KILL", "CAP_CHOWN", "CAP_SYS_ADMIN"],
        effective: ["CAP_KILL"],
        inheritable: ["CAP_CHOWN"],
        ambient: [],
      };
    },
  }),
  probeCase({
    name: "capabilities of a non-root user (ambient without inheritable is dropped)",
    probe: CAPS,
    spec: (s) => {
      s.process!.user = { uid: 1000, gid: 1000 };
    },
  }),
  probeCase({
    name: "ambient capabilities of a non-root user",
    probe: CAPS,
    spec: (s) => {
      s.process!.user = { uid: 1000, gid: 1000 };
      const caps = ["CAP_KILL", "CAP_NET_BIND_SERVICE"];
      s.process!.capabilities = { bounding: caps, permitted: caps, effective: caps, inheritable: caps, ambient: caps };
    },
    check: contains("CapAmb:\t0000000000000420", "CapEff:\t0000000000000420"),
  }),
  probeCase({
    name: "no capabilities at all",
    probe: `${CAPS}chown 1000 /dev/shm 2>&1 || echo "chown denied"\n`,
    spec: (s) => {
      s.process!.capabilities = {};
    },
    check: contains("CapBnd:\t0000000000000000"),
  }),
  probeCase({
    name: "noNewPrivileges true",
    probe: "grep NoNewPrivs /proc/self/status\n",
    check: contains("NoNewPrivs:\t1"),
  }),
  probeCase({
    name: "noNewPrivileges false",
    probe: "grep NoNewPrivs /proc/self/status\n",
    spec: (s) => {
      s.process!.noNewPrivileges = false;
    },
    check: contains("NoNewPrivs:\t0"),
  }),
  probeCase({
    name: "oomScoreAdj",
    probe: "cat /proc/self/oom_score_adj\n",
    spec: (s) => {
      s.process!.oomScoreAdj = 500;
    },
    check: contains("500"),
  }),
  probeCase({
    name: "sysctl in new network and ipc namespaces",
    probe: "cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/ping_group_range /proc/sys/kernel/msgmax\n",
    spec: (s) => {
      s.linux!.sysctl = { "net.ipv4.ip_forward": "1", "net.ipv4.ping_group_range": "0 1000", "kernel.msgmax": "4096" };
    },
    check: contains("1\n0\t1000\n4096"),
  }),
  {
    name: "stdin is inherited from the runtime",
    async run(h) {
      const b = await h.bundle({ args: ["sh", "-c", "tr a-z A-Z; echo done"] });
      return formatResult(await h.rt.run(h.id, b.dir, { input: "hello stdin\n" }));
    },
    check: contains("HELLO STDIN\ndone"),
  },
];

conformance("process", cases);
