// containerd.services.events.v1 over the in-process exchange; and the ttrpc Events service the
// shims publish their task events to (containerd.services.events.ttrpc.v1).

import { timestampDate } from "@bufbuild/protobuf/wkt";
import { InvalidArgumentError } from "../../common/errors.ts";
import type { Events } from "../../proto/gen/containerd/services/events/v1/events_pb.js";
import type { Events as ShimEvents } from "../../proto/gen/containerd/services/ttrpc/events/v1/events_pb.js";
import type { Impl } from "../../rpc/service.ts";
import { namespaceOf, type ServiceDeps, ts } from "./deps.ts";

export function eventsService(deps: ServiceDeps): Impl<typeof Events> {
  return {
    publish: async (req, ctx) => {
      if (!req.event) throw new InvalidArgumentError("publish: event is required");
      deps.events.publish(namespaceOf(ctx), req.topic, { typeUrl: req.event.typeUrl, value: req.event.value });
      return {};
    },
    forward: async (req) => {
      const e = req.envelope;
      if (!e?.event) throw new InvalidArgumentError("forward: envelope with an event is required");
      deps.events.forward({
        timestamp: e.timestamp ? timestampDate(e.timestamp) : new Date(),
        namespace: e.namespace,
        topic: e.topic,
        event: { typeUrl: e.event.typeUrl, value: e.event.value },
      });
      return {};
    },
    subscribe: async function* (req, ctx) {
      for await (const e of deps.events.subscribe(req.filters, ctx.signal)) {
        yield { timestamp: ts(e.timestamp), namespace: e.namespace, topic: e.topic, event: e.event };
      }
    },
  };
}

/** What shims publish on the daemon's ttrpc socket (<address>.ttrpc), as containerd's shims do. */
export function shimEventsService(deps: ServiceDeps): Impl<typeof ShimEvents> {
  return {
    forward: async (req) => {
      const e = req.envelope;
      if (!e?.event) throw new InvalidArgumentError("forward: the envelope carries no event");
      deps.events.publish(e.namespace, e.topic, { typeUrl: e.event.typeUrl, value: e.event.value });
      return {};
    },
  };
}
