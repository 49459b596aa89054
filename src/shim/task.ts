// What the shim holds for one container: its bundle, the OCI runtime that drives it, the keeper
// that is its processes' parent, its init process and its exec'd processes. A process moves
// created → running (⇄ paused) → stopped; its exit is recorded once, and every Wait resolves from
// that record.
import { processName } from "./bundle.ts";
import type { ExitEvent, Keeper } from "./keeper.ts";
import type { ShimRuntime } from "./runtime.ts";
import type { ProcessIO, StdioConfig } from "./stdio.ts";
import type { RuntimeChoice } from "./task-record.ts";

export type ProcessState = "created" | "running" | "paused" | "stopped";

export class ShimProcess {
  readonly containerId: string;
  /** "" for the init process. */
  readonly execId: string;
  readonly stdio: StdioConfig;
  io: ProcessIO | undefined;
  pid = 0;
  state: ProcessState = "created";
  exitStatus = 0;
  exitedAt: Date | undefined;
  /** An exec's process spec (runtime-spec Process JSON). */
  readonly spec: string | undefined;
  /** What the task's keeper calls it (bundle.ts's processName). */
  readonly name: string;
  readonly #exited: Promise<void>;
  #markExited!: () => void;
  /** The exit the keeper reported: it may come before the spawn that started it has returned. */
  readonly reported: Promise<ExitEvent>;
  #report!: (e: ExitEvent) => void;

  constructor(containerId: string, execId: string, stdio: StdioConfig, spec?: string) {
    this.containerId = containerId;
    this.execId = execId;
    this.stdio = stdio;
    this.spec = spec;
    this.name = processName(execId);
    this.#exited = new Promise((resolve) => {
      this.#markExited = resolve;
    });
    this.reported = new Promise((resolve) => {
      this.#report = resolve;
    });
  }

  /** The keeper reported this process's exit (the first report counts). */
  report(e: ExitEvent): void {
    this.#report(e);
  }

  /** The id events carry: the container id for init, the exec id otherwise. */
  get eventId(): string {
    return this.execId === "" ? this.containerId : this.execId;
  }

  setExited(status: number, at: Date): void {
    if (this.state === "stopped") return;
    this.state = "stopped";
    this.exitStatus = status;
    this.exitedAt = at;
    this.#markExited();
  }

  waitExited(): Promise<void> {
    return this.#exited;
  }
}

export class ShimTask {
  readonly id: string;
  readonly namespace: string;
  readonly bundle: string;
  readonly runtime: ShimRuntime;
  readonly init: ShimProcess;
  readonly execs = new Map<string, ShimProcess>();
  /** Where the rootfs mounts were put (bundle/rootfs), when the shim mounted them. */
  rootfsMounted: string | undefined;
  /** How many mounts make the rootfs (one umount each). */
  rootfsMounts = 0;
  /** The init's memory cgroup directory (v1), read at create: where OOM kills are counted. */
  memoryCgroup: string | undefined;
  oomKills = 0;
  /** The task's keeper: its processes' parent, holder of their stdio (set once it has started). */
  keeper: Keeper | undefined;
  /** How its runtime is reached, kept in its record for a shim that adopts it (task-record.ts). */
  runtimeChoice: RuntimeChoice | undefined;

  constructor(id: string, namespace: string, bundle: string, runtime: ShimRuntime, init: ShimProcess) {
    this.id = id;
    this.namespace = namespace;
    this.bundle = bundle;
    this.runtime = runtime;
    this.init = init;
  }

  process(execId: string): ShimProcess | undefined {
    return execId === "" ? this.init : this.execs.get(execId);
  }

  /** The process the keeper knows by `name`. */
  processNamed(name: string): ShimProcess | undefined {
    if (name === this.init.name) return this.init;
    for (const e of this.execs.values()) if (e.name === name) return e;
    return undefined;
  }

  /** The init and every exec. */
  processes(): ShimProcess[] {
    return [this.init, ...this.execs.values()];
  }
}
