// Runs one target's campaign inside a worker thread, so the supervisor can stop an input that
// never returns (a synchronous loop cannot be interrupted from inside) and bound its heap. Before
// each input, the input is copied into shared memory, where the supervisor reads it if the worker
// hangs or dies.
import { parentPort, workerData } from "node:worker_threads";
import { type CampaignOptions, runCampaign, serializeInput } from "./harness.ts";
import { TARGETS } from "./targets/index.ts";

export interface WorkerData {
  target: string;
  scratch: string;
  campaign: Omit<CampaignOptions, "onInput" | "log">;
  /** [0]: inputs started, [1]: byte length of the current input's JSON, then the JSON (UTF-8). */
  shared: SharedArrayBuffer;
}

export type WorkerMessage =
  | { type: "ready"; slowMs: number }
  | { type: "log"; line: string }
  | { type: "done"; result: Awaited<ReturnType<typeof runCampaign>> };

const data = workerData as WorkerData;
const post = (m: WorkerMessage) => parentPort!.postMessage(m);
const counters = new Int32Array(data.shared, 0, 2);
const text = new Uint8Array(data.shared, 8);
const encoder = new TextEncoder();

const target = await TARGETS[data.target]!.load(data.scratch);
post({ type: "ready", slowMs: target.slowMs });
try {
  const result = await runCampaign(target, {
    ...data.campaign,
    onInput: (input) => {
      const { written } = encoder.encodeInto(serializeInput(input, 0), text);
      Atomics.store(counters, 1, written);
      Atomics.add(counters, 0, 1);
    },
    log: (line) => post({ type: "log", line }),
  });
  post({ type: "done", result });
} finally {
  await target.close?.();
}
