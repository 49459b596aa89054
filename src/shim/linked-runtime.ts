// berth-runc linked into the shim: the runtime's library (src/runc/container) called in-process
// instead of a `berth-runc` process per call. create and exec still run the native stage (nsexec),
// which forks the container: the task's keeper starts it (the launcher), so the container's
// processes are the keeper's children; start, kill, delete, pause, resume, ps and update are plain file and
// cgroup work, so each saves a Node start-up (tens of milliseconds). The state it keeps is the same
// on-disk store the berth-runc command reads, so `berth-runc --root R list/state/delete` still work
// on these containers (the shim's `delete` action uses exactly that). The runtime logs to the
// shim's log; a call's trace reaches it (and the hooks it runs) as an argument, not TRACEPARENT.
import { InvalidArgumentError } from "../common/errors.ts";
import type { DaemonLogger } from "../common/log.ts";
import type { TraceContext } from "../rpc/trace.ts";
import { decodeResources } from "../runc/config/resources.ts";
import { parseProcess } from "../runc/config/validate.ts";
import { createContainer } from "../runc/container/create.ts";
import { execInContainer } from "../runc/container/exec.ts";
import {
  containerPids,
  deleteContainer,
  killContainer,
  pauseContainer,
  resumeContainer,
  startContainer,
  statusOf,
  updateContainer,
} from "../runc/container/lifecycle.ts";
import { StateStore } from "../runc/container/state-store.ts";
import type { ShimRuntime, SpawnOptions } from "./runtime.ts";

export class LinkedRuntime implements ShimRuntime {
  readonly #store: StateStore;
  readonly #log: DaemonLogger;
  readonly #opts: { noPivotRoot?: boolean; noNewKeyring?: boolean; systemdCgroup?: boolean };

  constructor(
    root: string,
    opts: { noPivotRoot?: boolean; noNewKeyring?: boolean; systemdCgroup?: boolean },
    log: DaemonLogger,
  ) {
    this.#store = new StateStore(root);
    this.#opts = opts;
    this.#log = log;
  }

  async create(id: string, bundle: string, o: SpawnOptions, trace?: TraceContext) {
    const log = this.#log.withTrace(trace);
    log.info("create container", { id });
    await createContainer(this.#store, {
      id,
      bundle,
      pidFile: o.pidFile,
      consoleSocket: o.consoleSocket,
      noPivot: this.#opts.noPivotRoot,
      noNewKeyring: this.#opts.noNewKeyring,
      systemdCgroup: this.#opts.systemdCgroup,
      mode: "create",
      stdio: o.stdio,
      launcher: o.launcher,
      onWarning: (msg) => log.warn(msg),
      trace,
    });
  }

  async start(id: string, trace?: TraceContext) {
    await startContainer(this.#store, id, trace);
  }

  async exec(id: string, processJson: string, o: SpawnOptions) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(processJson);
    } catch {
      throw new InvalidArgumentError("exec: the process spec is not JSON");
    }
    const process = parseProcess(parsed);
    await execInContainer(this.#store, id, {
      process,
      detach: true,
      consoleSocket: o.consoleSocket,
      pidFile: o.pidFile,
      stdio: o.stdio,
      launcher: o.launcher,
    });
  }

  async kill(id: string, signal: number, all: boolean) {
    killContainer(this.#store, id, String(signal), all);
  }

  async delete(id: string, force: boolean, trace?: TraceContext) {
    const log = this.#log.withTrace(trace);
    await deleteContainer(this.#store, id, force, (msg) => log.warn(msg), trace);
  }

  async pause(id: string) {
    pauseContainer(this.#store, id);
  }

  async resume(id: string) {
    resumeContainer(this.#store, id);
  }

  async ps(id: string) {
    return containerPids(this.#store, id);
  }

  async update(id: string, resourcesJson: string) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(resourcesJson);
    } catch {
      throw new InvalidArgumentError("update: the resources are not JSON");
    }
    updateContainer(this.#store, id, decodeResources(parsed, "resources"));
  }

  async status(id: string) {
    return statusOf(this.#store, this.#store.load(id));
  }
}
