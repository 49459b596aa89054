// The exits of berthd's tasks, from containerd's event stream: a subscription to the namespace's
// /tasks/exit and /tasks/oom events that is made again whenever it breaks (containerd restarted,
// the socket gone), with a back-off. A subscription counts as live once a probe event published
// after it comes back through it; then `onLive` runs, so the caller can look at the tasks whose
// exits may have been missed while there was none (at start-up, after a break).

import type { EventsClient } from "../../client/events.ts";
import { messageAny } from "../../client/type-urls.ts";
import { errorMessage } from "../../common/errors.ts";
import type { DaemonLogger } from "../../common/log.ts";
import { TaskOOMSchema } from "../../proto/gen/containerd/events/task_pb.js";

const PROBE_TOPIC = "/berthd/probe";

export interface ExitHandlers {
  /** The init process of `containerId` exited. */
  exit(containerId: string, exitStatus: number, exitedAt: Date | undefined): void;
  oom(containerId: string): void;
  /** A process exec'd in `containerId` exited (berthd's exec: exec/). */
  execExit?(containerId: string, execId: string, exitStatus: number, exitedAt: Date | undefined): void;
  /** A subscription is live (again): exits before it may have been missed. */
  live(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class ExitMonitor {
  readonly #events: EventsClient;
  readonly #namespace: string;
  readonly #handlers: ExitHandlers;
  readonly #log: DaemonLogger;
  readonly #abort = new AbortController();
  #firstLive: (() => void) | undefined;
  #loop: Promise<void> | undefined;

  constructor(events: EventsClient, namespace: string, handlers: ExitHandlers, log: DaemonLogger) {
    this.#events = events;
    this.#namespace = namespace;
    this.#handlers = handlers;
    this.#log = log;
  }

  /** Subscribes; resolves once the first subscription is live and `live` has run. */
  start(): Promise<void> {
    const first = new Promise<void>((resolve) => (this.#firstLive = resolve));
    this.#loop = this.#run();
    return first;
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    this.#firstLive?.();
    await this.#loop;
  }

  async #run(): Promise<void> {
    let backoff = 100;
    const ns = JSON.stringify(this.#namespace);
    const filters = [
      `namespace==${ns},topic=="/tasks/exit"`,
      `namespace==${ns},topic=="/tasks/oom"`,
      `namespace==${ns},topic==${JSON.stringify(PROBE_TOPIC)}`,
    ];
    while (!this.#abort.signal.aborted) {
      const probe = `probe-${process.pid}-${Date.now()}`;
      let live = false;
      const prober = this.#probe(probe, () => live);
      try {
        for await (const e of this.#events.subscribe(filters, { signal: this.#abort.signal })) {
          const ev = e.event;
          if (!live && e.topic === PROBE_TOPIC && ev?.type === "oom" && ev.containerId === probe) {
            live = true;
            backoff = 100;
            await this.#handlers.live().catch((err: unknown) => {
              this.#log.warn("looking at tasks after subscribing failed", { error: errorMessage(err) });
            });
            this.#firstLive?.();
            this.#firstLive = undefined;
            continue;
          }
          if (ev?.type === "exit" && ev.id === ev.containerId) {
            this.#handlers.exit(ev.containerId, ev.exitStatus, ev.exitedAt);
          } else if (ev?.type === "exit") {
            this.#handlers.execExit?.(ev.containerId, ev.id, ev.exitStatus, ev.exitedAt);
          } else if (ev?.type === "oom" && e.topic === "/tasks/oom") {
            this.#handlers.oom(ev.containerId);
          }
        }
      } catch (err) {
        if (this.#abort.signal.aborted) break;
        this.#log.warn("containerd's event stream broke; subscribing again", {
          error: errorMessage(err),
          backoffMs: backoff,
        });
      }
      live = true; // stops the prober
      await prober;
      if (this.#abort.signal.aborted) break;
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 5_000);
    }
  }

  /** Publishes the probe until the subscription has seen it. */
  async #probe(id: string, seen: () => boolean): Promise<void> {
    for (let i = 0; !seen() && !this.#abort.signal.aborted; i++) {
      if (i % 10 === 0) {
        await this.#events.publish(PROBE_TOPIC, messageAny(TaskOOMSchema, { containerId: id })).catch(() => {});
      }
      await sleep(50);
    }
  }
}
