// exec: run another process inside a running container's namespaces and cgroups.
import { writeFileNamed } from "../../common/storage-errors.ts";
import { kernelLastCap } from "../config/capabilities.ts";
import { checkExecStrings } from "../config/process.ts";
import type { Process } from "../config/types.ts";
import { execPlan } from "../plan/build.ts";
import { compileSeccomp } from "../seccomp/index.ts";
import { cgroupsOf } from "./cgroups.ts";
import { ociState } from "./create.ts";
import { hostLsm } from "./host-lsm.ts";
import type { Launcher } from "./launcher.ts";
import { requireRunning } from "./lifecycle.ts";
import { NsexecRun } from "./nsexec.ts";
import { containerProcessState } from "./seccomp-agent.ts";
import type { StateStore } from "./state-store.ts";

export interface ExecOptions {
  process: Process;
  detach: boolean;
  consoleSocket?: string;
  pidFile?: string;
  preserveFds?: number;
  /** The process's stdio; default: this process's own. */
  stdio?: [number | "inherit", number | "inherit", number | "inherit"];
  /**
   * Starts nsexec (default: child_process). The pid file is then written as soon as the pid is
   * known, before nsexec can exit: the launcher may read it then (the shim's keeper does).
   */
  launcher?: Launcher | undefined;
}

export interface Execed {
  pid: number;
  /** Settles with the exec'd process's exit status (in detached mode: 0 once it has exec'd). */
  exit: Promise<number>;
}

export async function execInContainer(store: StateStore, id: string, opts: ExecOptions): Promise<Execed> {
  const rec = store.load(id);
  requireRunning(store, rec);
  // Callers that build the process themselves (the shim, exec's command line) skip parseProcess.
  checkExecStrings(opts.process.args, opts.process.env, "process");
  const profile = rec.spec.linux?.seccomp;
  const compiled = profile ? compileSeccomp(profile) : undefined;
  const plan = execPlan({
    spec: rec.spec,
    process: opts.process,
    initPid: rec.pid,
    detach: opts.detach,
    consoleSocket: opts.consoleSocket,
    cgroupProcs: cgroupsOf(rec).procsFiles(),
    preserveFds: opts.preserveFds ?? 0,
    lastCap: kernelLastCap(),
    seccomp: compiled && {
      program: compiled.program,
      flags: compiled.flags,
      listenerPath: compiled.needsListener ? profile?.listenerPath : undefined,
    },
    rootfs: rec.rootfs,
    lsm: hostLsm(),
  });
  const pidFile = opts.pidFile;
  const run = new NsexecRun({
    plan,
    preserveFds: opts.preserveFds ?? 0,
    stdio: opts.stdio,
    launcher: opts.launcher,
    onPid: opts.launcher && pidFile ? (pid) => writeFileNamed(pidFile, String(pid)) : undefined,
    onSeccomp: async (pid) =>
      JSON.stringify(containerProcessState(ociState(rec, "running"), pid, profile?.listenerMetadata)),
  });
  const pid = await run.pid;
  if (opts.pidFile && !opts.launcher) writeFileNamed(opts.pidFile, String(pid));
  if (opts.detach) {
    await run.ready;
    await run.exit;
    run.detach();
    return { pid, exit: Promise.resolve(0) };
  }
  // Foreground: nsexec's parent half waits and exits with the process's status; an error before
  // execve surfaces as a rejection of `ready`.
  await run.ready;
  const exit = run.exit.then(async (code) => {
    run.detach();
    return code;
  });
  return { pid, exit };
}
