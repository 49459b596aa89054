// Publishing a typed event: pack the message as containerd's typeurl does (the full message name,
// no URL prefix) and hand it to the exchange.
import { create, type DescMessage, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import type { ServiceDeps } from "./deps.ts";

export function publish<D extends DescMessage>(
  deps: ServiceDeps,
  ns: string,
  topic: string,
  schema: D,
  event: MessageInitShape<D>,
): void {
  deps.events.publish(ns, topic, { typeUrl: schema.typeName, value: toBinary(schema, create(schema, event)) });
}
