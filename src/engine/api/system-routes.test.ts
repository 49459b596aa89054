import assert from "node:assert/strict";
import { test } from "node:test";
import { type HostFacts, infoBody, type SystemFacts, versionBody } from "./system-routes.ts";

const host: HostFacts = {
  hostname: "vm",
  kernelVersion: "6.1.0",
  operatingSystem: "Debian GNU/Linux 12 (bookworm)",
  osVersion: "12",
  architecture: "x86_64",
  arch: "amd64",
  ncpu: 2,
  memTotal: 1 << 30,
  cgroupVersion: "1",
  cgroupControllers: new Set(["memory", "cpu", "pids"]),
  seccomp: true,
  netSysctls: () => ({ ipv4Forwarding: true, bridgeNfIptables: true, bridgeNfIp6tables: false }),
};

const facts = (containerd: boolean): SystemFacts => ({
  engine: {
    version: "0.1.0",
    gitCommit: "n/a",
    buildTime: "2026-12-05T12:00:00.000Z",
    runtimeVersion: "n/a (node v24)",
  },
  host,
  id: "7c9e6679-7425-40de-944b-e07fc1f90ae7",
  dataRoot: "/var/lib/berth",
  debug: false,
  liveRestore: true,
  runtimes: { "berth-runc": { path: "/usr/local/bin/berth-runc" }, crun: { path: "crun", runtimeArgs: ["--debug"] } },
  defaultRuntime: "berth-runc",
  containerdAddress: "/run/berth/engine/containerd/containerd.sock",
  containerdNamespace: "berth",
  containerd: async () => (containerd ? { version: "1.6.0-berth", revision: "berth-0.1.0" } : undefined),
  counts: async () => ({ containers: 0, running: 0, paused: 0, stopped: 0, images: 0 }),
  openFds: () => 12,
});

test("/version has dockerd's top-level fields and an Engine component", async () => {
  const v = await versionBody(facts(true));
  for (const key of [
    "Platform",
    "Components",
    "Version",
    "ApiVersion",
    "MinAPIVersion",
    "GitCommit",
    "GoVersion",
    "Os",
    "Arch",
    "KernelVersion",
    "BuildTime",
  ]) {
    assert.ok(key in v, key);
  }
  assert.equal(v.ApiVersion, "1.50");
  assert.equal(v.MinAPIVersion, "1.24");
  assert.equal(v.GoVersion, "n/a (node v24)");
  const components = v.Components as { Name: string; Details: Record<string, string> }[];
  assert.deepEqual(
    components.map((c) => c.Name),
    ["Engine", "containerd"],
  );
  assert.equal(components[0]!.Details.MinAPIVersion, "1.24");
  const without = await versionBody(facts(false));
  assert.equal((without.Components as unknown[]).length, 1);
});

test("/info says what is known: host, cgroups, runtimes, live restore, counts", async () => {
  const i = await infoBody(facts(true));
  assert.equal(i.Driver, "overlayfs");
  // The host's sysctls as they are (docker 20.10 prints a WARNING for each one off).
  assert.deepEqual([i.IPv4Forwarding, i.BridgeNfIptables, i.BridgeNfIp6tables], [true, true, false]);
  assert.equal(i.CgroupDriver, "cgroupfs");
  assert.equal(i.CgroupVersion, "1");
  assert.equal(i.OSType, "linux");
  assert.equal(i.Architecture, "x86_64");
  assert.equal(i.NCPU, 2);
  assert.equal(i.Containers, 0);
  assert.equal(i.DefaultRuntime, "berth-runc");
  assert.deepEqual(i.Runtimes, {
    "berth-runc": { path: "/usr/local/bin/berth-runc" },
    crun: { path: "crun", runtimeArgs: ["--debug"] },
  });
  assert.equal(i.LiveRestoreEnabled, true);
  assert.deepEqual(i.SecurityOptions, ["name=seccomp,profile=builtin"]);
  // What the host's cgroups give is what /info claims (docker info warns about what is missing).
  assert.equal(i.MemoryLimit, true);
  assert.equal(i.CPUSet, false);
  assert.deepEqual(i.ContainerdCommit, { ID: "berth-0.1.0" });
  assert.deepEqual(i.Containerd, {
    Address: "/run/berth/engine/containerd/containerd.sock",
    Namespaces: { Containers: "berth", Plugins: "plugins.berth" },
  });
});
