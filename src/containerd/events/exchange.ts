// The event exchange: the daemon's services publish typed events (protobuf messages packed as an
// Any) on topics such as /images/create, per namespace; subscribers receive the envelopes that
// match their filters. Filters use containerd's filter language over the fields
//   topic, namespace, event.<field>...
// where event.* addresses the decoded payload the way containerd's generated Field methods do
// (`event.container_id==abc`, `event.labels."a.b"`, see ../filters/message.ts).
//
// Delivery never blocks a publisher: each subscriber has a bounded backlog, and one that falls
// that far behind is dropped; its iteration then fails with an UnavailableError.
import { createRegistry, type Registry } from "@bufbuild/protobuf";
import { InvalidArgumentError, UnavailableError } from "../../common/errors.ts";
import { file_containerd_events_image } from "../../proto/gen/containerd/events/image_pb.js";
import { file_containerd_events_store } from "../../proto/gen/containerd/events/store_pb.js";
import { file_containerd_events_task } from "../../proto/gen/containerd/events/task_pb.js";
import { type Adaptor, parseFilters } from "../filters/filters.ts";
import { messageAdaptor, unpackAny } from "../filters/message.ts";

/** An event payload: a protobuf message packed as google.protobuf.Any. */
export interface EventAny {
  /** containerd packs events with the bare message name as the URL: "containerd.events.TaskExit". */
  typeUrl: string;
  value: Uint8Array;
}

export interface Envelope {
  timestamp: Date;
  namespace: string;
  topic: string;
  event: EventAny;
}

/** The event payloads event.* filters can look into (every event containerd itself publishes). */
export const eventRegistry: Registry = createRegistry(
  file_containerd_events_store,
  file_containerd_events_task,
  file_containerd_events_image,
);

// containerd's identifier rule, which topic components and namespaces follow.
const IDENTIFIER = /^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$/;
const MAX_IDENTIFIER = 76;

function checkIdentifier(what: string, s: string): void {
  if (s === "") throw new InvalidArgumentError(`${what} must not be empty: invalid argument`);
  if (s.length > MAX_IDENTIFIER) {
    throw new InvalidArgumentError(
      `${what} ${JSON.stringify(s)} is longer than ${MAX_IDENTIFIER} characters: invalid argument`,
    );
  }
  if (!IDENTIFIER.test(s)) {
    throw new InvalidArgumentError(`${what} ${JSON.stringify(s)} must match ${IDENTIFIER.source}: invalid argument`);
  }
}

/**
 * Checks a topic as containerd does: "/" then one or more "/"-separated components, each an
 * identifier (letters and digits, with single ".", "_" or "-" between them). Returns the topic.
 */
export function validateTopic(topic: string): string {
  if (topic === "") throw new InvalidArgumentError("event topic must not be empty: invalid argument");
  if (topic[0] !== "/")
    throw new InvalidArgumentError(`event topic ${JSON.stringify(topic)} must start with '/': invalid argument`);
  if (topic.length === 1) {
    throw new InvalidArgumentError(
      `event topic ${JSON.stringify(topic)} must have at least one component: invalid argument`,
    );
  }
  for (const c of topic.slice(1).split("/")) checkIdentifier(`event topic ${JSON.stringify(topic)}: component`, c);
  return topic;
}

export interface ExchangeOptions {
  /** Envelopes a subscriber may have waiting before it is dropped (default 1024). */
  maxBacklog?: number;
  /** Resolves event payloads for event.* filters (default: eventRegistry). */
  registry?: Registry;
}

interface Subscriber {
  match: (adaptor: Adaptor) => boolean;
  queue: Envelope[];
  wake: (() => void) | undefined;
  /** Why delivery ended: dropped for lagging, or the exchange closed. */
  ended: Error | "closed" | undefined;
}

export class Exchange {
  readonly #subs = new Set<Subscriber>();
  readonly #maxBacklog: number;
  readonly #registry: Registry;

  constructor(opts: ExchangeOptions = {}) {
    this.#maxBacklog = opts.maxBacklog ?? 1024;
    this.#registry = opts.registry ?? eventRegistry;
  }

  /** Stamps and delivers an event. The namespace is the publisher's (may be "" for global events). */
  publish(namespace: string, topic: string, event: EventAny): Envelope {
    validateTopic(topic);
    const env: Envelope = { timestamp: new Date(), namespace, topic, event };
    this.#deliver(env);
    return env;
  }

  /**
   * Delivers an envelope stamped elsewhere (a shim, another publisher). As containerd, it needs a
   * valid namespace, topic and timestamp.
   */
  forward(env: Envelope): void {
    checkIdentifier("event envelope namespace", env.namespace);
    validateTopic(env.topic);
    if (!(env.timestamp instanceof Date) || Number.isNaN(env.timestamp.getTime()) || env.timestamp.getTime() === 0) {
      throw new InvalidArgumentError("timestamp must be set on forwarded event: invalid argument");
    }
    this.#deliver(env);
  }

  /** How many subscriptions are live. */
  get subscribers(): number {
    return this.#subs.size;
  }

  /**
   * Subscribes at once (events published after this call are queued even before iteration
   * starts) and returns the matching envelopes as they come. Several filter strings are ORed;
   * none means everything. Bad filters throw InvalidArgumentError here. The iteration ends when
   * `signal` aborts, the consumer stops, or the exchange closes; it throws an UnavailableError if
   * the subscriber fell more than the backlog behind.
   */
  subscribe(filters: readonly string[], signal?: AbortSignal): AsyncIterable<Envelope> {
    const match = parseFilters(filters);
    const sub: Subscriber = { match, queue: [], wake: undefined, ended: undefined };
    const subs = this.#subs;
    if (signal?.aborted) return (async function* () {})();
    subs.add(sub);
    const onAbort = () => {
      subs.delete(sub);
      sub.wake?.();
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    return (async function* () {
      try {
        for (;;) {
          while (sub.queue.length > 0) yield sub.queue.shift()!;
          if (sub.ended instanceof Error) throw sub.ended;
          if (sub.ended === "closed" || signal?.aborted) return;
          await new Promise<void>((resolve) => {
            sub.wake = resolve;
          });
          sub.wake = undefined;
        }
      } finally {
        signal?.removeEventListener("abort", onAbort);
        subs.delete(sub);
      }
    })();
  }

  /** Ends every subscription (their iterations finish after draining what they have). */
  close(): void {
    for (const s of this.#subs) {
      s.ended = "closed";
      s.wake?.();
    }
    this.#subs.clear();
  }

  #deliver(env: Envelope): void {
    if (this.#subs.size === 0) return;
    const adaptor = this.#adaptorOf(env);
    for (const s of this.#subs) {
      let wanted: boolean;
      try {
        wanted = s.match(adaptor);
      } catch {
        wanted = false;
      }
      if (!wanted) continue;
      if (s.queue.length >= this.#maxBacklog) {
        s.ended = new UnavailableError(
          `event subscriber fell more than ${this.#maxBacklog} events behind and was dropped`,
        );
        this.#subs.delete(s);
      } else {
        s.queue.push(env);
      }
      s.wake?.();
    }
  }

  /** topic, namespace and event.* of an envelope; the payload is decoded once, when first asked. */
  #adaptorOf(env: Envelope): Adaptor {
    let payload: Adaptor | null | undefined;
    return (path) => {
      switch (path[0]) {
        case "topic":
          return env.topic !== "" ? env.topic : undefined;
        case "namespace":
          return env.namespace !== "" ? env.namespace : undefined;
        case "event":
          if (payload === undefined) {
            const inner = unpackAny(env.event, this.#registry);
            payload = inner ? messageAdaptor(inner.desc, inner.message, this.#registry) : null;
          }
          return payload ? payload(path.slice(1)) : undefined;
        default:
          return undefined;
      }
    };
  }
}
