// berthd's event bus: every event is kept in a bounded ring of the most recent ones (what
// `docker events --since` replays) and handed to the live subscribers. Publishing never waits
// for a subscriber and never grows anything: a subscriber whose client does not keep up is the
// route's to drop (routes.ts), the ring overwrites its oldest event.
import type { EngineEvent, EventActor, EventType } from "./event.ts";

/** Events kept for --since (dockerd keeps 256; a busy minute of `docker run`s is more). */
export const RING_SIZE = 1024;

export type Subscriber = (e: EngineEvent) => void;

/**
 * Now in nanoseconds since the epoch: the wall clock (clients compare event times with theirs, and
 * a machine's wall clock may be stepped while berthd runs), its sub-millisecond digits from the
 * monotonic clock. The bus keeps its own times strictly increasing.
 */
export const nowNano = () => BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);

export class EventBus {
  readonly #ring: (EngineEvent | undefined)[];
  #next = 0;
  #last = 0n;
  readonly #subscribers = new Set<Subscriber>();

  constructor(size = RING_SIZE) {
    this.#ring = new Array(size).fill(undefined);
  }

  /** Records and hands out one event; its time is now (strictly after the previous one's). */
  publish(type: EventType, action: string, actor: EventActor): EngineEvent {
    let t = nowNano();
    if (t <= this.#last) t = this.#last + 1n;
    this.#last = t;
    const e: EngineEvent = { Type: type, Action: action, Actor: actor, scope: "local", timeNano: t };
    this.#ring[this.#next] = e;
    this.#next = (this.#next + 1) % this.#ring.length;
    for (const s of [...this.#subscribers]) {
      try {
        s(e);
      } catch {
        // A subscriber's failure is its own (its client is gone): never the publisher's.
        this.#subscribers.delete(s);
      }
    }
    return e;
  }

  /** The kept events within [since, until] (either open), oldest first. */
  recent(since: bigint | undefined, until: bigint | undefined): EngineEvent[] {
    const n = this.#ring.length;
    const out: EngineEvent[] = [];
    for (let i = 0; i < n; i++) {
      const e = this.#ring[(this.#next + i) % n];
      if (!e) continue;
      if (since !== undefined && e.timeNano < since) continue;
      if (until !== undefined && e.timeNano > until) continue;
      out.push(e);
    }
    return out;
  }

  /** Adds a live subscriber; the function removes it. */
  subscribe(s: Subscriber): () => void {
    this.#subscribers.add(s);
    return () => this.#subscribers.delete(s);
  }

  /** Live subscribers (/info's NEventsListener). */
  get listeners(): number {
    return this.#subscribers.size;
  }
}
