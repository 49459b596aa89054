// create (and the first half of run): validate the bundle, reserve the id, make the cgroups,
// compute the plan, let nsexec carry it out, run the runtime-namespace hooks, record the state.
// Any failure undoes everything: no state dir, cgroup, mount or process is left behind.
import { readFileSync, rmSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { InvalidSpecError } from "../../common/errors.ts";
import { writeFileNamed } from "../../common/storage-errors.ts";
import type { TraceContext } from "../../rpc/trace.ts";
import { devicePolicy } from "../cgroups/devices.ts";
import type { CgroupManager } from "../cgroups/manager.ts";
import { parseMountinfo } from "../cgroups/mountinfo.ts";
import { deviceFilterProgram } from "../cgroups/v2/device-filter.ts";
import { loadBundleSpec } from "../config/bundle.ts";
import { kernelLastCap } from "../config/capabilities.ts";
import type { Spec, State } from "../config/types.ts";
import { createPlan } from "../plan/build.ts";
import { deviceCgroupRules } from "../plan/devices.ts";
import type { CgroupView } from "../plan/mounts.ts";
import type { CompiledFilter } from "../plan/process.ts";
import type { RootfsParentMount } from "../plan/root.ts";
import { compileSeccomp } from "../seccomp/index.ts";
import { openCgroups } from "./cgroups.ts";
import { runHooks } from "./hooks.ts";
import { hostLsm } from "./host-lsm.ts";
import { isHostNamespace } from "./host-namespace.ts";
import type { Launcher } from "./launcher.ts";
import { NsexecRun } from "./nsexec.ts";
import { readProcStat } from "./proc.ts";
import { containerProcessState } from "./seccomp-agent.ts";
import type { RuncContainerState, StateStore } from "./state-store.ts";

export interface CreateOptions {
  id: string;
  bundle: string;
  consoleSocket?: string;
  pidFile?: string;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  preserveFds?: number;
  /** run: nsexec stays the init's parent and its exit status is the container's. */
  mode?: "create" | "run";
  systemdCgroup?: boolean;
  /** The container's stdio; default: this process's own (the CLI's). An in-process caller (the shim) passes fds. */
  stdio?: [number | "inherit", number | "inherit", number | "inherit"];
  onWarning?: (msg: string) => void;
  /** The trace of the call that creates the container: its hooks get it as TRACEPARENT. */
  trace?: TraceContext | undefined;
  /**
   * Starts nsexec (default: child_process). The pid file is then written as soon as the init's pid
   * is known, before nsexec can exit: the launcher may read it then (the shim's keeper does).
   */
  launcher?: Launcher | undefined;
}

export interface Created {
  record: RuncContainerState;
  /** Present in run mode: settles with the container's exit status. */
  exit: Promise<number>;
}

export function ociState(rec: RuncContainerState, status: State["status"]): State {
  const s: State = { ociVersion: rec.spec.ociVersion, id: rec.id, status, bundle: rec.bundle };
  if (status !== "stopped") s.pid = rec.pid;
  if (rec.spec.annotations) s.annotations = rec.spec.annotations;
  return s;
}

function cgroupViews(cg: CgroupManager): CgroupView[] {
  const paths = cg.paths;
  if (Object.keys(paths).length === 1 && paths[""] !== undefined)
    return [{ name: "", subsystem: "", hostDir: paths[""] }];
  return Object.entries(paths)
    .filter(([c]) => c !== "")
    .map(([c, dir]) => ({ name: c.startsWith("name=") ? c.slice(5) : c, subsystem: c, hostDir: dir }));
}

function compileFilter(spec: Spec): CompiledFilter | undefined {
  const profile = spec.linux?.seccomp;
  if (!profile) return undefined;
  const c = compileSeccomp(profile);
  // As runc: the agent hears from the runtime only when a rule makes a notify fd.
  return { program: c.program, flags: c.flags, listenerPath: c.needsListener ? profile.listenerPath : undefined };
}

/** The mount point (from this process's mountinfo) under which `path` lives. */
/** The mount `path` is on (the last mounted of the longest mount point that holds it). */
function mountPointOf(path: string): RootfsParentMount {
  let best: RootfsParentMount = { path: "/", shared: false };
  for (const m of parseMountinfo(readFileSync("/proc/self/mountinfo", "utf8"))) {
    const mp = m.mountpoint;
    if ((path === mp || path.startsWith(mp.endsWith("/") ? mp : `${mp}/`)) && mp.length >= best.path.length) {
      best = { path: mp, shared: m.optional.some((f) => f.startsWith("shared:")) };
    }
  }
  return best;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export async function createContainer(store: StateStore, opts: CreateOptions): Promise<Created> {
  const bundle = resolve(opts.bundle);
  const spec = loadBundleSpec(bundle, { onWarning: (f, m) => opts.onWarning?.(`${f}: ${m}`) });
  const rootPath = spec.root?.path ?? "rootfs";
  const rootfs = isAbsolute(rootPath) ? rootPath : join(bundle, rootPath);
  if (!isDirectory(rootfs)) throw new InvalidSpecError("root.path", `${rootfs} is not a directory`);
  // Everything that can be checked without side effects is checked before the id is reserved.
  const seccomp = compileFilter(spec);
  store.reserve(opts.id);
  let cg: CgroupManager | undefined;
  let run: NsexecRun | undefined;
  try {
    cg = openCgroups(spec, opts.id, opts.systemdCgroup);
    const deviceRules = deviceCgroupRules(spec);
    const record: RuncContainerState = {
      id: opts.id,
      bundle,
      rootfs,
      pid: 0,
      initStartTime: "",
      created: new Date().toISOString(),
      owner: "",
      cgroupPaths: cg.paths,
      spec,
      creating: true,
    };
    // Recorded before anything else can be left behind (the cgroups too: their paths are known
    // before they are made), so that if this process dies mid-way (kill -9 of a shim running the
    // runtime in-process, OOM), `delete --force` finds the cgroups and the init to remove. Not
    // fsync'ed: it guards against a process crash; the final save below is the durable one.
    store.save(record, { durable: false });
    // create() removes whatever it made if a limit is refused.
    cg.create({ ...spec.linux?.resources, devices: deviceRules });
    const plan = createPlan({
      spec,
      rootfs,
      mode: opts.mode ?? "create",
      execFifo: store.execFifo(opts.id),
      consoleSocket: opts.consoleSocket,
      cgroupProcs: cg.procsFiles(),
      cgroups: cgroupViews(cg),
      preserveFds: opts.preserveFds ?? 0,
      noPivot: opts.noPivot ?? false,
      lastCap: kernelLastCap(),
      seccomp,
      isDirectory,
      id: opts.id,
      rootfsParentMount: mountPointOf(rootfs),
      // v1 enforces device rules through its devices files; v2 needs the eBPF program.
      deviceFilter:
        cg.version === 2 ? { dir: cg.paths[""]!, program: deviceFilterProgram(devicePolicy(deviceRules)) } : undefined,
      newKeyring: !opts.noNewKeyring,
      lsm: hostLsm(),
      isHostNamespace,
    });
    const pidFile = opts.pidFile;
    run = new NsexecRun({
      plan,
      preserveFds: opts.preserveFds ?? 0,
      stdio: opts.stdio,
      launcher: opts.launcher,
      onPid: opts.launcher && pidFile ? (pid) => writeFileNamed(pidFile, String(pid)) : undefined,
      onHook: async (_name, pid) => {
        const state = ociState({ ...record, pid }, "creating");
        await runHooks(spec.hooks?.prestart, state, opts.trace);
        await runHooks(spec.hooks?.createRuntime, state, opts.trace);
        // In order of HookState: what createContainer and startContainer hooks read on stdin.
        return [state, { ...state, status: "created" }].map((st) => JSON.stringify(st)).join("\t");
      },
      onSeccomp: async (pid) =>
        JSON.stringify(
          containerProcessState(ociState({ ...record, pid }, "creating"), pid, spec.linux?.seccomp?.listenerMetadata),
        ),
    });
    const pid = await run.pid;
    record.pid = pid;
    record.initStartTime = readProcStat(pid)?.startTime ?? "";
    store.save(record, { durable: false });
    await run.ready;
    record.creating = false;
    store.save(record);
    if (opts.pidFile && !opts.launcher) writeFileNamed(opts.pidFile, String(pid));
    if ((opts.mode ?? "create") === "create") {
      // The init keeps its end of the sync socket until it execs; stop listening now.
      await run.exit;
      run.detach();
    }
    return { record, exit: run.exit };
  } catch (err) {
    if (run) {
      const pid = await run.pid.catch(() => 0);
      if (pid > 0) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
      await run.exit;
      run.detach();
    }
    if (cg) await cg.destroyAsync();
    store.remove(opts.id);
    if (opts.pidFile && opts.launcher) rmSync(opts.pidFile, { force: true });
    throw err;
  }
}
