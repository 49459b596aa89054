// Publishing a typed event: pack the message as containerd's typeurl does (the full message name,
// no URL prefix) and hand it to the exchange.
import { create, type DescMessage, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { TaskDeleteSchema, TaskExitSchema } from "../../proto/gen/containerd/events/task_pb.js";
import { type ServiceDeps, ts } from "./deps.ts";

export function publish<D extends DescMessage>(
  deps: ServiceDeps,
  ns: string,
  topic: string,
  schema: D,
  event: MessageInitShape<D>,
): void {
  deps.events.publish(ns, topic, { typeUrl: schema.typeName, value: toBinary(schema, create(schema, event)) });
}

/**
 * A task whose shim died (found at start-up, or when its connection dropped) has exited and is
 * deleted: its clients hear /tasks/exit and /tasks/delete, as from a shim that cleaned up itself.
 */
export function publishDeadTask(
  deps: ServiceDeps,
  d: { namespace: string; id: string; pid: number; exitStatus: number; exitedAt: Date },
): void {
  const event = { containerId: d.id, id: d.id, pid: d.pid, exitStatus: d.exitStatus, exitedAt: ts(d.exitedAt) };
  publish(deps, d.namespace, "/tasks/exit", TaskExitSchema, event);
  publish(deps, d.namespace, "/tasks/delete", TaskDeleteSchema, event);
}
