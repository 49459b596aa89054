// Seeds for the native fuzz harnesses (native/fuzz/, run by scripts/fuzz-native.sh): real plans as
// the runtime encodes them for nsexec, real request streams as berth-containerd sends fsops, and
// berth-keeper's requests as the shim frames them.
// Usage: node scripts/fuzz-native-seeds.ts PLAN_DIR FSOPS_DIR KEEPER_DIR
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseSpecJson } from "../src/runc/config/bundle.ts";
import { defaultSpec } from "../src/runc/config/default.ts";
import type { Spec } from "../src/runc/config/types.ts";
import { type CreatePlanInput, createPlan, execPlan } from "../src/runc/plan/build.ts";
import { encodePlan, type PlanOp } from "../src/runc/plan/ops.ts";
import { compileSeccomp } from "../src/runc/seccomp/index.ts";
import { runcConfigFixture } from "../test/fixtures/runc-config.ts";

const [planDir, fsopsDir, keeperDir] = process.argv.slice(2);
if (!planDir || !fsopsDir || !keeperDir) {
  console.error("usage: node scripts/fuzz-native-seeds.ts PLAN_DIR FSOPS_DIR KEEPER_DIR");
  process.exit(2);
}
mkdirSync(planDir, { recursive: true });
mkdirSync(fsopsDir, { recursive: true });
mkdirSync(keeperDir, { recursive: true });

const fixture = (name: string): Spec => parseSpecJson(runcConfigFixture(name));

function planFor(spec: Spec, mode: "create" | "run", consoleSocket?: string): PlanOp[] {
  const profile = spec.linux?.seccomp;
  const compiled = profile ? compileSeccomp(profile) : undefined;
  // Facts about the host are made up: only the shape of the plan matters here.
  const input = {
    spec,
    rootfs: "/run/bundle/rootfs",
    mode,
    execFifo: "/run/berth-runc/seed/exec.fifo",
    consoleSocket,
    cgroupProcs: ["/sys/fs/cgroup/memory/seed/cgroup.procs", "/sys/fs/cgroup/pids/seed/cgroup.procs"],
    cgroups: [
      { name: "memory", subsystem: "memory", hostDir: "/sys/fs/cgroup/memory/seed" },
      { name: "pids", subsystem: "pids", hostDir: "/sys/fs/cgroup/pids/seed" },
    ],
    preserveFds: 0,
    noPivot: false,
    lastCap: 40,
    seccomp: compiled && { program: compiled.program, flags: compiled.flags },
    isDirectory: (p: string) => !p.endsWith(".conf"),
    rootfsParentMount: { path: "/", shared: false },
    isHostNamespace: () => false,
    id: "seed",
    newKeyring: true,
  } as CreatePlanInput;
  return createPlan(input);
}

const plans: Record<string, PlanOp[]> = {};
const runcSpec = fixture("runc-spec.json.txt");
runcSpec.process!.terminal = false;
plans["runc-spec-create"] = planFor(runcSpec, "create");
plans["runc-spec-run"] = planFor(runcSpec, "run");
const terminal = defaultSpec();
plans["default-terminal"] = planFor(terminal, "create", "/run/seed/console.sock");
const withHooks = structuredClone(runcSpec);
withHooks.hooks = { createContainer: [{ path: "/bin/true", args: ["true", "a"], env: ["A=1"], timeout: 3 }] };
withHooks.linux!.devices = [{ path: "/dev//fuse", type: "c", major: 10, minor: 229 }];
withHooks.mounts!.push({
  destination: "/etc/resolv.conf",
  type: "bind",
  source: "/etc/resolv.conf",
  options: ["rbind"],
});
plans["hooks-devices-files"] = planFor(withHooks, "create");
for (const name of ["containerd-config.json.txt", "podman-config.json.txt"]) {
  const spec = fixture(name);
  spec.process!.terminal = false;
  plans[name.replace(".json.txt", "")] = planFor(spec, "create");
}
plans["exec"] = execPlan({
  spec: runcSpec,
  process: { ...runcSpec.process!, args: ["sh", "-c", "echo hi"] },
  initPid: 4242,
  detach: false,
  cgroupProcs: ["/sys/fs/cgroup/memory/seed/cgroup.procs"],
  preserveFds: 0,
  lastCap: 40,
  rootfs: "/run/bundle/rootfs",
});
for (const [name, ops] of Object.entries(plans)) writeFileSync(join(planDir, `${name}.plan`), encodePlan(ops));

// fsops requests: u32 length of the rest, u8 op, then each argument as u32 length + bytes (the
// protocol at the top of native/fsops.c; src/common/archive/fsops.ts speaks it).
function request(op: number, args: (string | number | Buffer)[]): Buffer {
  const parts = args.map((a) => {
    if (typeof a !== "number") return Buffer.isBuffer(a) ? a : Buffer.from(a);
    const b = Buffer.alloc(4);
    b.writeUInt32LE(a >>> 0);
    return b;
  });
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  };
  const body = Buffer.concat([Buffer.from([op]), ...parts.flatMap((p) => [u32(p.length), p])]);
  return Buffer.concat([u32(body.length), body]);
}
const fsopsSeeds: Record<string, Buffer[]> = {
  mknod: [request(1, ["/var/lib/snap/1/fs/dev/null", 0o20666, 1, 3])],
  xattrs: [
    request(2, ["/var/lib/snap/1/fs/bin/ping", "security.capability", Buffer.from([1, 0, 0, 2, 0, 0x20, 0, 0])]),
    request(3, ["/var/lib/snap/1/fs/bin/ping", "security.capability"]),
    request(4, ["/var/lib/snap/1/fs/etc"]),
  ],
  opaque: [request(2, ["/var/lib/snap/2/fs/etc", "trusted.overlay.opaque", "y"])],
};
for (const [name, reqs] of Object.entries(fsopsSeeds))
  writeFileSync(join(fsopsDir, `${name}.req`), Buffer.concat(reqs));

// berth-keeper frames (native/berth-keeper/README.md) as keeper_frame_fuzz reads them: one byte,
// the number of fds that came with the frame, then the frame's body (NUL-separated fields).
const keeperSeeds: Record<string, [number, string[]]> = {
  hello: [0, ["HELLO"]],
  spawn: [
    3,
    ["SPAWN", "init", "init.pid", "init.exit", "3", "/usr/bin/berth-runc", "create", "seed", "1", "PATH=/usr/bin"],
  ],
  "spawn-exec": [1, ["SPAWN", "exec-1", "", "", "2", "/bin/sh", "-c", "0"]],
  hold: [2, ["HOLD", "init"]],
  "copy-out": [2, ["COPY", "init", "out"]],
  "copy-pty-in": [2, ["COPY", "init", "pty-in"]],
  resize: [0, ["RESIZE", "init", "40", "120"]],
  closein: [0, ["CLOSEIN", "init"]],
  list: [0, ["LIST"]],
  forget: [0, ["FORGET", "exec-1"]],
  quit: [0, ["QUIT"]],
  pidfile: [0, ["4242\n"]],
};
for (const [name, [fds, fields]] of Object.entries(keeperSeeds))
  writeFileSync(join(keeperDir, `${name}.frame`), Buffer.concat([Buffer.from([fds]), Buffer.from(fields.join("\0"))]));
console.log(
  `seeds: ${Object.keys(plans).length} plans, ${Object.keys(fsopsSeeds).length} fsops streams, ${Object.keys(keeperSeeds).length} keeper frames`,
);
