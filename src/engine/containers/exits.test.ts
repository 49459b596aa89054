import assert from "node:assert/strict";
import { test } from "node:test";
import type { EventEnvelope, EventsClient, TaskEvent } from "../../client/events.ts";
import { UnavailableError } from "../../common/errors.ts";
import { DaemonLogger } from "../../common/log.ts";
import { ExitMonitor } from "./exits.ts";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * A fake event service: each subscription delivers what was published after it began, plus
 * `script` events for that subscription; the first subscription breaks after its script.
 */
class FakeEvents {
  subscriptions = 0;
  readonly published: string[] = [];
  #queues: ((e: EventEnvelope) => void)[] = [];

  readonly scripts: TaskEvent[][];
  constructor(scripts: TaskEvent[][]) {
    this.scripts = scripts;
  }

  async *subscribe(_filters: string[], opts: { signal?: AbortSignal } = {}): AsyncGenerator<EventEnvelope> {
    const n = this.subscriptions++;
    const pending: EventEnvelope[] = [];
    let wake: (() => void) | undefined;
    this.#queues.push((e) => {
      pending.push(e);
      wake?.();
    });
    let probed = false;
    while (!opts.signal?.aborted) {
      while (pending.length > 0) {
        const e = pending.shift()!;
        yield e;
        if (e.topic === "/berthd/probe" && !probed) {
          probed = true;
          for (const ev of this.scripts[n] ?? [])
            yield { timestamp: undefined, namespace: "berth", topic: `/tasks/${ev.type}`, raw: undefined, event: ev };
          if (n === 0) throw new UnavailableError("events: the subscription broke");
        }
      }
      await new Promise<void>((r) => {
        wake = r;
        opts.signal?.addEventListener("abort", () => r(), { once: true });
      });
    }
  }

  async publish(topic: string, _event: unknown): Promise<void> {
    this.published.push(topic);
    // The probe's container id is in the Any; the monitor matches it, so decode it as it would.
    const { fromBinary } = await import("@bufbuild/protobuf");
    const { TaskOOMSchema } = await import("../../proto/gen/containerd/events/task_pb.js");
    const id = fromBinary(TaskOOMSchema, (_event as { value: Uint8Array }).value).containerId;
    for (const q of this.#queues)
      q({ timestamp: undefined, namespace: "berth", topic, raw: undefined, event: { type: "oom", containerId: id } });
  }
}

test("exits: live once the probe comes back, exits and OOMs of init processes only, subscribed again after a break", async () => {
  const fake = new FakeEvents([
    [
      { type: "exit", containerId: "c1", id: "c1", pid: 5, exitStatus: 3, exitedAt: undefined },
      { type: "exit", containerId: "c1", id: "exec-1", pid: 6, exitStatus: 9, exitedAt: undefined },
      { type: "oom", containerId: "c2" },
    ],
    [{ type: "exit", containerId: "c2", id: "c2", pid: 7, exitStatus: 137, exitedAt: undefined }],
  ]);
  const exits: [string, number][] = [];
  const ooms: string[] = [];
  let lives = 0;
  const m = new ExitMonitor(
    fake as unknown as EventsClient,
    "berth",
    {
      exit: (id, status) => exits.push([id, status]),
      oom: (id) => ooms.push(id),
      live: async () => {
        lives++;
      },
    },
    new DaemonLogger("error", {}, () => {}),
  );
  await m.start();
  assert.equal(lives, 1, "live once the first probe came back");
  for (let i = 0; i < 100 && exits.length < 2; i++) await sleep(20);
  await m.stop();
  assert.deepEqual(exits, [
    ["c1", 3],
    ["c2", 137],
  ]);
  assert.deepEqual(ooms, ["c2"]);
  assert.equal(fake.subscriptions, 2, "subscribed again after the break");
  assert.equal(lives, 2, "each new subscription reconciles");
  assert.ok(fake.published.every((t) => t === "/berthd/probe"));
});
