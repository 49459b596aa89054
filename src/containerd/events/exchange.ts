// The event exchange: services publish typed events (packed in Any) on topics, subscribers receive
// those matching their filters (topic, namespace). A slow subscriber is dropped rather than
// allowed to hold up the daemon.
import { InvalidArgumentError } from "../../common/errors.ts";
import { parseFilters } from "../filters/filters.ts";

export interface EventAny {
  typeUrl: string;
  value: Uint8Array;
}

export interface Envelope {
  timestamp: Date;
  namespace: string;
  topic: string;
  event: EventAny;
}

const TOPIC = /^(\/[A-Za-z0-9_.-]+)+$/;
const MAX_BACKLOG = 1024;

export function validateTopic(topic: string): string {
  if (!TOPIC.test(topic))
    throw new InvalidArgumentError(`invalid topic ${JSON.stringify(topic)}: want /component(/component)*`);
  return topic;
}

interface Subscriber {
  match: (e: Envelope) => boolean;
  queue: Envelope[];
  wake: (() => void) | undefined;
  dropped: boolean;
}

export class Exchange {
  readonly #subs = new Set<Subscriber>();

  publish(namespace: string, topic: string, event: EventAny): void {
    this.forward({ timestamp: new Date(), namespace, topic: validateTopic(topic), event });
  }

  forward(env: Envelope): void {
    validateTopic(env.topic);
    for (const s of this.#subs) {
      if (!s.match(env)) continue;
      if (s.queue.length >= MAX_BACKLOG) {
        s.dropped = true;
        this.#subs.delete(s);
      } else s.queue.push(env);
      s.wake?.();
    }
  }

  async *subscribe(filters: readonly string[], signal: AbortSignal): AsyncGenerator<Envelope> {
    const m = parseFilters(filters);
    const sub: Subscriber = {
      match: (e) =>
        m((path) => {
          if (path[0] === "topic") return e.topic;
          if (path[0] === "namespace") return e.namespace;
          return undefined;
        }),
      queue: [],
      wake: undefined,
      dropped: false,
    };
    this.#subs.add(sub);
    const onAbort = () => sub.wake?.();
    signal.addEventListener("abort", onAbort);
    try {
      for (;;) {
        while (sub.queue.length > 0) yield sub.queue.shift()!;
        if (sub.dropped) throw new Error("event subscriber fell too far behind and was dropped");
        if (signal.aborted) return;
        await new Promise<void>((r) => {
          sub.wake = r;
        });
        sub.wake = undefined;
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      this.#subs.delete(sub);
    }
  }
}
