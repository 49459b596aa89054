// Task events back to the daemon: containerd.services.events.ttrpc.v1.Events/Forward on the
// daemon's ttrpc socket (TTRPC_ADDRESS), one envelope per event, in order. While the daemon is
// down (crashed, restarting) events wait in a bounded queue and are retried, so an exit that
// happens then still reaches the daemon once it is back.
import { create, type DescMessage, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Events } from "../proto/gen/containerd/services/ttrpc/events/v1/events_pb.js";
import { createTtrpcClient, type TtrpcClient } from "../rpc/ttrpc/client.ts";

const MAX_QUEUED = 1024;
const RETRY_MS = 500;

interface Pending {
  namespace: string;
  topic: string;
  typeUrl: string;
  value: Uint8Array;
  at: Date;
}

export class EventPublisher {
  readonly #address: string;
  #client: TtrpcClient<typeof Events> | undefined;
  readonly #queue: Pending[] = [];
  #sending = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #idle: Array<() => void> = [];

  constructor(ttrpcAddress: string) {
    this.#address = ttrpcAddress;
  }

  publish<D extends DescMessage>(namespace: string, topic: string, schema: D, event: MessageInitShape<D>): void {
    if (this.#address === "") return;
    if (this.#queue.length >= MAX_QUEUED) this.#queue.shift();
    this.#queue.push({
      namespace,
      topic,
      typeUrl: schema.typeName,
      value: toBinary(schema, create(schema, event)),
      at: new Date(),
    });
    void this.#drain();
  }

  /** Resolves once every queued event is delivered (or after `timeoutMs`). */
  flush(timeoutMs: number): Promise<void> {
    if (this.#queue.length === 0 && !this.#sending) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.#idle.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#client?.close();
  }

  async #drain(): Promise<void> {
    if (this.#sending || this.#closed) return;
    this.#sending = true;
    try {
      while (this.#queue.length > 0) {
        const e = this.#queue[0]!;
        try {
          this.#client ??= createTtrpcClient(Events, this.#address);
          await this.#client.forward(
            {
              envelope: {
                timestamp: timestampFromDate(e.at),
                namespace: e.namespace,
                topic: e.topic,
                event: { typeUrl: e.typeUrl, value: e.value },
              },
            },
            { timeoutMs: 5000, namespace: e.namespace },
          );
          this.#queue.shift();
        } catch {
          this.#client?.close();
          this.#client = undefined;
          if (!this.#closed) this.#timer = setTimeout(() => void this.#drain(), RETRY_MS);
          this.#timer?.unref();
          return;
        }
      }
    } finally {
      this.#sending = false;
      if (this.#queue.length === 0) for (const f of this.#idle.splice(0)) f();
    }
  }
}
