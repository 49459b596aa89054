// What the shim holds for one container: its bundle, the OCI runtime that drives it, its init
// process and its exec'd processes. A process moves created → running (⇄ paused) → stopped; its
// exit is recorded once, and every Wait resolves from that record.
import type { ShimRuntime } from "./runtime.ts";
import type { ProcessIO, StdioConfig } from "./stdio.ts";

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
  readonly #exited: Promise<void>;
  #markExited!: () => void;

  constructor(containerId: string, execId: string, stdio: StdioConfig, spec?: string) {
    this.containerId = containerId;
    this.execId = execId;
    this.stdio = stdio;
    this.spec = spec;
    this.#exited = new Promise((resolve) => {
      this.#markExited = resolve;
    });
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
}
