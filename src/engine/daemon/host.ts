// What /version and /info say about the machine: read once at start-up from the kernel and
// /etc/os-release, each file read bounded. Nothing here decides anything.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { arch, availableParallelism, hostname, machine, release, totalmem } from "node:os";
import type { HostFacts } from "../api/system-routes.ts";

/** A small system file's text, at most `max` bytes; "" when it cannot be read. */
function readSmall(path: string, max = 64 << 10): string {
  try {
    return readFileSync(path).subarray(0, max).toString("utf8");
  } catch {
    return "";
  }
}

/** os-release's fields (KEY=value, values optionally quoted). */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!.replace(/^(["'])(.*)\1$/, "$2");
  }
  return out;
}

/** Node's arch as Go's GOARCH names it (what docker clients expect in /version's Arch). */
const GOARCH: Record<string, string> = {
  x64: "amd64",
  arm64: "arm64",
  arm: "arm",
  ia32: "386",
  ppc64: "ppc64le",
  s390x: "s390x",
};

export function readHostFacts(): HostFacts {
  const os = parseOsRelease(readSmall("/etc/os-release"));
  const v2 = existsSync("/sys/fs/cgroup/cgroup.controllers");
  let controllers: string[];
  if (v2) {
    controllers = readSmall("/sys/fs/cgroup/cgroup.controllers").trim().split(/\s+/).filter(Boolean);
  } else {
    // v1: one hierarchy per controller (cpu,cpuacct may share one; the names list each).
    try {
      controllers = readdirSync("/sys/fs/cgroup").flatMap((d) => d.split(","));
    } catch {
      controllers = [];
    }
  }
  return {
    hostname: hostname(),
    kernelVersion: release(),
    operatingSystem: `${os.PRETTY_NAME ?? "Linux"}${isContainerized(readSmall("/proc/1/cgroup")) ? " (containerized)" : ""}`,
    osVersion: os.VERSION_ID ?? "",
    architecture: machine(),
    arch: GOARCH[arch()] ?? arch(),
    ncpu: availableParallelism(),
    memTotal: totalmem(),
    cgroupVersion: v2 ? "2" : "1",
    cgroupControllers: new Set(controllers),
    seccomp: /^Seccomp:\s/m.test(readSmall("/proc/self/status")),
    netSysctls: () => ({
      ipv4Forwarding: sysctlOn("/proc/sys/net/ipv4/ip_forward"),
      bridgeNfIptables: sysctlOn("/proc/sys/net/bridge/bridge-nf-call-iptables"),
      bridgeNfIp6tables: sysctlOn("/proc/sys/net/bridge/bridge-nf-call-ip6tables"),
    }),
  };
}

/**
 * Whether this machine's init runs in a container, by dockerd's rule: a line of /proc/1/cgroup
 * whose path is neither "/" nor "/init.scope" (dockerd then says so after the OS's name).
 */
export function isContainerized(proc1Cgroup: string): boolean {
  return proc1Cgroup.split("\n").some((l) => l !== "" && !l.endsWith(":/") && !l.endsWith(":/init.scope"));
}

/** A boolean sysctl: "1" is on; absent (the module not loaded) is off. */
function sysctlOn(path: string): boolean {
  return readSmall(path, 16).trim() === "1";
}
