// Create requests and what dockerd answers to them: the unit tests of this folder check berthd's
// answer, and test/interop/engine-spec-oracle.test.ts sends the same bodies to Debian's dockerd.
import type { HostFacts } from "./resources.ts";

export const TEST_HOST: HostFacts = {
  cpuCount: 2,
  cpusetCpus: "0-1",
  cpusetMems: "0",
  cgroupVersion: 1,
  lastCap: 40,
  kernel: [6, 1],
  goArch: "amd64",
};

/** Bodies dockerd refuses at create (POST /v1.41/containers/create), and its words. */
export const REFUSED: readonly [string, Record<string, unknown>, string][] = [
  ["mem1", { HostConfig: { Memory: 1 } }, "Minimum memory limit allowed is 6MB"],
  ["memneg", { HostConfig: { Memory: -5 } }, "Minimum memory limit allowed is 6MB"],
  [
    "swapless",
    { HostConfig: { Memory: 10_000_000, MemorySwap: 8_000_000 } },
    "Minimum memoryswap limit should be larger than memory limit, see usage",
  ],
  [
    "swapnomem",
    { HostConfig: { MemorySwap: 8_000_000 } },
    "You should always set the Memory limit when using Memoryswap limit, see usage",
  ],
  [
    "resv",
    { HostConfig: { Memory: 10_000_000, MemoryReservation: 20_000_000 } },
    "Minimum memory limit can not be less than memory reservation limit, see usage",
  ],
  ["resvmin", { HostConfig: { MemoryReservation: 1000 } }, "Minimum memory reservation allowed is 6MB"],
  [
    "nanoquota",
    { HostConfig: { NanoCpus: 1_000_000_000, CpuQuota: 50_000 } },
    "Conflicting options: Nano CPUs and CPU Quota cannot both be set",
  ],
  [
    "nanoperiod",
    { HostConfig: { NanoCpus: 1_000_000_000, CpuPeriod: 50_000 } },
    "Conflicting options: Nano CPUs and CPU Period cannot both be set",
  ],
  [
    "nanobig",
    { HostConfig: { NanoCpus: 1_000_000_000_000 } },
    "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available",
  ],
  [
    "nanoneg",
    { HostConfig: { NanoCpus: -1 } },
    "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available",
  ],
  [
    "period",
    { HostConfig: { CpuPeriod: 10 } },
    "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)",
  ],
  ["quota", { HostConfig: { CpuQuota: 10 } }, "CPU cfs quota can not be less than 1ms (i.e. 1000)"],
  ["cpuset", { HostConfig: { CpusetCpus: "abc" } }, "Invalid value abc for cpuset cpus: invalid format: abc"],
  ["cpuset99", { HostConfig: { CpusetCpus: "99" } }, "Requested CPUs are not available - requested 99, available: 0-1"],
  ["cpusetmems", { HostConfig: { CpusetMems: "x" } }, "Invalid value x for cpuset mems: invalid format: x"],
  [
    "swappiness",
    { HostConfig: { MemorySwappiness: 200 } },
    "Invalid value: 200, valid memory swappiness range is 0-100",
  ],
  ["oom", { HostConfig: { OomScoreAdj: 5000 } }, "Invalid value 5000, range for oom score adj is [-1000, 1000]"],
  ["capadd", { HostConfig: { CapAdd: ["FOO"] } }, 'invalid CapAdd: unknown capability: "CAP_FOO"'],
  ["capdrop", { HostConfig: { CapDrop: ["CAP_BAR"] } }, 'invalid CapDrop: unknown capability: "CAP_BAR"'],
  ["bind1", { HostConfig: { Binds: ["/a:/b:/c:/d"] } }, "invalid volume specification: '/a:/b:/c:/d'"],
  ["bind2", { HostConfig: { Binds: [":/b"] } }, "invalid volume specification: ':/b'"],
  [
    "bind3",
    { HostConfig: { Binds: ["/a:b"] } },
    "invalid volume specification: '/a:b': invalid mount config for type \"bind\": invalid mount path: 'b' mount path must be absolute",
  ],
  ["bind4", { HostConfig: { Binds: ["/a:/b:xx"] } }, "invalid mode: xx"],
  [
    "mountnosrc",
    { HostConfig: { Mounts: [{ Type: "bind", Target: "/b" }] } },
    'invalid mount config for type "bind": field Source must not be empty',
  ],
  [
    "mountnotgt",
    { HostConfig: { Mounts: [{ Type: "bind", Source: "/tmp" }] } },
    'invalid mount config for type "bind": field Target must not be empty',
  ],
  [
    "mountreltgt",
    { HostConfig: { Mounts: [{ Type: "bind", Source: "/tmp", Target: "b" }] } },
    "invalid mount config for type \"bind\": invalid mount path: 'b' mount path must be absolute",
  ],
  [
    "mounttype",
    { HostConfig: { Mounts: [{ Type: "weird", Source: "/tmp", Target: "/b" }] } },
    'invalid mount config for type "weird": mount type unknown',
  ],
  [
    "mounttmpfssrc",
    { HostConfig: { Mounts: [{ Type: "tmpfs", Source: "/tmp", Target: "/b" }] } },
    'invalid mount config for type "tmpfs": field Source must not be specified',
  ],
  [
    "mountdup",
    {
      HostConfig: {
        Mounts: [
          { Type: "tmpfs", Target: "/b" },
          { Type: "tmpfs", Target: "/b" },
        ],
      },
    },
    "Duplicate mount point: /b",
  ],
  ["binddup", { HostConfig: { Binds: ["/tmp:/b", "/tmp:/b"] } }, "Duplicate mount point: /b"],
  ["shmneg", { HostConfig: { ShmSize: -1 } }, "SHM size can not be less than 0"],
  ["secopt1", { HostConfig: { SecurityOpt: ["foo"] } }, 'invalid --security-opt 1: "foo"'],
  ["secopt2", { HostConfig: { SecurityOpt: ["foo=bar"] } }, 'invalid --security-opt 2: "foo=bar"'],
  [
    "secoptnnp",
    { HostConfig: { SecurityOpt: ["no-new-privileges:maybe"] } },
    'invalid --security-opt 2: "no-new-privileges:maybe"',
  ],
  ["restart", { HostConfig: { RestartPolicy: { Name: "sometimes" } } }, "invalid restart policy 'sometimes'"],
  [
    "restartneg",
    { HostConfig: { RestartPolicy: { Name: "on-failure", MaximumRetryCount: -1 } } },
    "maximum retry count cannot be negative",
  ],
  [
    "restartmax",
    { HostConfig: { RestartPolicy: { Name: "always", MaximumRetryCount: 3 } } },
    "maximum retry count cannot be used with restart policy 'always'",
  ],
  [
    "autorm",
    { HostConfig: { AutoRemove: true, RestartPolicy: { Name: "always" } } },
    "can't create 'AutoRemove' container with restart policy",
  ],
  [
    "netmode",
    { HostConfig: { NetworkMode: "container:" } },
    "Invalid network mode: invalid container format container:<name|id>",
  ],
  [
    "tmpfsbad",
    { HostConfig: { Tmpfs: { relative: "" } } },
    "invalid mount path: 'relative' mount path must be absolute",
  ],
  ["workdir", { WorkingDir: "rel" }, "the working directory 'rel' is invalid, it needs to be an absolute path"],
];

/**
 * Bodies dockerd 20.10 accepts at create and refuses at start (runc's words, or its own); berthd
 * refuses them at create, in the same words.
 */
export const REFUSED_AT_START: readonly [string, Record<string, unknown>, string][] = [
  ["ipcmode", { HostConfig: { IpcMode: "weird" } }, "Invalid IPC mode: weird"],
  ["sharesneg", { HostConfig: { CpuShares: -1 } }, "shares: invalid argument"],
  ["seccompbad", { HostConfig: { SecurityOpt: ["seccomp={bad"] } }, "Decoding seccomp profile failed: "],
  [
    "sysctlhost",
    { HostConfig: { NetworkMode: "host", Sysctls: { "net.ipv4.ip_forward": "1" } } },
    'sysctl "net.ipv4.ip_forward" not allowed in host network namespace',
  ],
  [
    "sysctlbad",
    { HostConfig: { Sysctls: { "kernel.hostname": "x" } } },
    'sysctl "kernel.hostname" is not allowed as it conflicts with the OCI "hostname" field',
  ],
  [
    "sysctlvm",
    { HostConfig: { Sysctls: { "vm.swappiness": "1" } } },
    'sysctl "vm.swappiness" is not in a separate kernel namespace',
  ],
  ["ulimitbad", { HostConfig: { Ulimits: [{ Name: "foo", Soft: 1, Hard: 2 }] } }, "wrong rlimit value: RLIMIT_FOO"],
];
