// containerd's event stream from the client side: a subscription (Events.Subscribe with filters,
// e.g. `namespace=="berth",topic~="/tasks/"`) whose envelopes carry the task events the engine
// acts on, decoded into typed values. Reconnecting is the caller's business; a subscription never
// ends by itself, so any end the caller did not ask for (the daemon went away, stopped, or broke
// the stream) ends the iteration with an UnavailableError.
import { type DescMessage, fromBinary, type MessageShape } from "@bufbuild/protobuf";
import { type Timestamp, timestampDate } from "@bufbuild/protobuf/wkt";
import { BerthError, InvalidArgumentError, UnavailableError } from "../common/errors.ts";
import {
  TaskCreateSchema,
  TaskDeleteSchema,
  TaskExecAddedSchema,
  TaskExecStartedSchema,
  TaskExitSchema,
  TaskOOMSchema,
  TaskPausedSchema,
  TaskResumedSchema,
  TaskStartSchema,
} from "../proto/gen/containerd/events/task_pb.js";
import { Events } from "../proto/gen/containerd/services/events/v1/events_pb.js";
import { createClient } from "../rpc/grpc.ts";
import { namedError, naming } from "./call-errors.ts";
import type { ConnectOptions } from "./containers.ts";
import { type AnyValue, typeNameOf } from "./type-urls.ts";

export type TaskEvent =
  | {
      type: "create";
      containerId: string;
      pid: number;
      bundle: string;
      io: { stdin: string; stdout: string; stderr: string; terminal: boolean };
    }
  | { type: "start"; containerId: string; pid: number }
  /** `id` is the exec id, or the container id for the init process (containerd's convention). */
  | { type: "exit"; containerId: string; id: string; pid: number; exitStatus: number; exitedAt: Date | undefined }
  | { type: "delete"; containerId: string; id: string; pid: number; exitStatus: number; exitedAt: Date | undefined }
  | { type: "oom"; containerId: string }
  | { type: "exec-added"; containerId: string; execId: string }
  | { type: "exec-started"; containerId: string; execId: string; pid: number }
  | { type: "paused"; containerId: string }
  | { type: "resumed"; containerId: string };

export interface EventEnvelope {
  timestamp: Date | undefined;
  namespace: string;
  topic: string;
  /** The event as sent (any type, task or not). */
  raw: AnyValue | undefined;
  /** The task event it carries; undefined for other events. */
  event: TaskEvent | undefined;
}

const dateOf = (t: Timestamp | undefined) => (t ? timestampDate(t) : undefined);

function decoder<D extends DescMessage>(schema: D, f: (m: MessageShape<D>) => TaskEvent) {
  return [schema.typeName, (bytes: Uint8Array) => f(fromBinary(schema, bytes))] as const;
}

const DECODERS = new Map<string, (bytes: Uint8Array) => TaskEvent>([
  decoder(TaskCreateSchema, (m) => ({
    type: "create",
    containerId: m.containerId,
    pid: m.pid,
    bundle: m.bundle,
    io: {
      stdin: m.io?.stdin ?? "",
      stdout: m.io?.stdout ?? "",
      stderr: m.io?.stderr ?? "",
      terminal: m.io?.terminal ?? false,
    },
  })),
  decoder(TaskStartSchema, (m) => ({ type: "start", containerId: m.containerId, pid: m.pid })),
  decoder(TaskExitSchema, (m) => ({
    type: "exit",
    containerId: m.containerId,
    id: m.id,
    pid: m.pid,
    exitStatus: m.exitStatus,
    exitedAt: dateOf(m.exitedAt),
  })),
  decoder(TaskDeleteSchema, (m) => ({
    type: "delete",
    containerId: m.containerId,
    id: m.id,
    pid: m.pid,
    exitStatus: m.exitStatus,
    exitedAt: dateOf(m.exitedAt),
  })),
  decoder(TaskOOMSchema, (m) => ({ type: "oom", containerId: m.containerId })),
  decoder(TaskExecAddedSchema, (m) => ({ type: "exec-added", containerId: m.containerId, execId: m.execId })),
  decoder(TaskExecStartedSchema, (m) => ({
    type: "exec-started",
    containerId: m.containerId,
    execId: m.execId,
    pid: m.pid,
  })),
  decoder(TaskPausedSchema, (m) => ({ type: "paused", containerId: m.containerId })),
  decoder(TaskResumedSchema, (m) => ({ type: "resumed", containerId: m.containerId })),
]);

/**
 * The task event an Any carries (type URL with or without a prefix: containerd's typeurl sends
 * "containerd.events.TaskExit"); undefined for any other type. Bytes that do not decode as their
 * type are refused with an InvalidArgumentError.
 */
export function decodeTaskEvent(any: AnyValue): TaskEvent | undefined {
  const name = typeNameOf(any.typeUrl);
  const decode = DECODERS.get(name);
  if (!decode) return undefined;
  try {
    return decode(any.value);
  } catch (err) {
    throw new InvalidArgumentError(`event ${name}: ${(err as Error).message}`);
  }
}

/** The filter of one namespace's task events (containerd's filter syntax). */
export function taskEventFilter(namespace: string): string {
  return `namespace==${JSON.stringify(namespace)},topic~="^/tasks/"`;
}

export class EventsClient {
  readonly #client;

  /** `opts.namespace` is where publish() puts events; a subscription sees every namespace its filters let through. */
  constructor(address: string, opts: ConnectOptions) {
    this.#client = createClient(Events, address, opts);
  }

  close(): void {
    this.#client.close();
  }

  /**
   * The events matching any of `filters` (all events without filters), from now on. Ends quietly when
   * `signal` aborts or the loop is left; any other end throws an UnavailableError (daemon gone,
   * stopped or stream broken) or the named error of a refused subscription (a malformed filter).
   * An envelope whose task event does not decode is passed on with `event` undefined.
   */
  async *subscribe(filters: string[] = [], opts: { signal?: AbortSignal } = {}): AsyncGenerator<EventEnvelope> {
    const signal = opts.signal;
    try {
      for await (const e of this.#client.subscribe({ filters }, { signal })) {
        const raw = e.event ? { typeUrl: e.event.typeUrl, value: e.event.value } : undefined;
        let event: TaskEvent | undefined;
        try {
          event = raw ? decodeTaskEvent(raw) : undefined;
        } catch {
          event = undefined;
        }
        yield { timestamp: dateOf(e.timestamp), namespace: e.namespace, topic: e.topic, raw, event };
      }
    } catch (err) {
      if (signal?.aborted) return;
      const kind = err instanceof BerthError ? err.kind : "internal";
      if (kind === "unavailable" || kind === "internal")
        throw new UnavailableError(`events: the subscription broke: ${(err as Error).message}`, { cause: err });
      throw namedError("events", err);
    }
    if (signal?.aborted) return;
    throw new UnavailableError("events: the daemon ended the subscription");
  }

  /** Publishes an event (topic "/x/y") in the client's namespace. */
  async publish(topic: string, event: AnyValue): Promise<void> {
    await naming(`event ${topic}`, this.#client.publish({ topic, event }));
  }
}
