// The client against a daemon that misbehaves: a container list without end, an event stream that
// ends by itself or carries bytes that do not decode, a container record whose spec is not JSON.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import { FailedPreconditionError, UnavailableError } from "../common/errors.ts";
import { TaskExitSchema } from "../proto/gen/containerd/events/task_pb.js";
import { Containers } from "../proto/gen/containerd/services/containers/v1/containers_pb.js";
import { Events } from "../proto/gen/containerd/services/events/v1/events_pb.js";
import { addService, bindUnix, createServer, shutdownServer } from "../rpc/grpc.ts";
import type { Impl } from "../rpc/service.ts";
import { ContainersClient } from "./containers.ts";
import { type EventEnvelope, EventsClient } from "./events.ts";
import { TypeUrl } from "./type-urls.ts";

let dir: string;
let server: grpc.Server;
let address: string;

const record = (id: string, spec = new Uint8Array(Buffer.from("{}"))) => ({
  id,
  image: "",
  labels: {},
  runtime: { name: "io.containerd.runc.v2" },
  spec: { typeUrl: TypeUrl.spec, value: spec },
  snapshotter: "",
  snapshotKey: "",
  extensions: {},
});

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "berth-hostile-daemon-"));
  address = join(dir, "d.sock");
  server = createServer();
  addService(server, Containers, {
    listStream: async function* () {
      for (let i = 0; ; i++) yield { container: record(`c${i}`) };
    },
    get: async () => ({ container: record("bad", new Uint8Array(Buffer.from("{not json"))) }),
  } as Partial<Impl<typeof Containers>> as Impl<typeof Containers>);
  addService(server, Events, {
    subscribe: async function* (req) {
      if (req.filters[0] === "garbage") {
        yield {
          namespace: "n",
          topic: "/tasks/exit",
          event: { typeUrl: "containerd.events.TaskExit", value: new Uint8Array([0x0a, 0xff]) },
        };
      }
      const value = toBinary(TaskExitSchema, create(TaskExitSchema, { containerId: "c1", exitStatus: 3 }));
      yield { namespace: "n", topic: "/tasks/exit", event: { typeUrl: "containerd.events.TaskExit", value } };
      // ... and the stream ends, as a daemon shutting down ends it.
    },
  } as Partial<Impl<typeof Events>> as Impl<typeof Events>);
  await bindUnix(server, address);
});

after(async () => {
  await shutdownServer(server, 100);
  rmSync(dir, { recursive: true, force: true });
});

test("a container list past its bound stops reading and fails", async () => {
  const c = new ContainersClient(address, { namespace: "n" });
  try {
    await assert.rejects(
      c.list([], 50),
      (e: Error) => e instanceof FailedPreconditionError && /more than 50 containers/.test(e.message),
    );
  } finally {
    c.close();
  }
});

test("a stored spec that is not JSON is refused, naming the container", async () => {
  const c = new ContainersClient(address, { namespace: "n" });
  try {
    await assert.rejects(
      c.get("bad"),
      (e: Error) => e instanceof FailedPreconditionError && /^container bad: spec: not JSON/.test(e.message),
    );
  } finally {
    c.close();
  }
});

test("an event stream the daemon ends is an UnavailableError, after the events it carried", async () => {
  const ev = new EventsClient(address, { namespace: "n" });
  const seen: EventEnvelope[] = [];
  try {
    await assert.rejects(
      (async () => {
        for await (const e of ev.subscribe(["garbage"])) seen.push(e);
      })(),
      (e: Error) => e instanceof UnavailableError && e.message === "events: the daemon ended the subscription",
    );
    assert.equal(seen.length, 2);
    assert.equal(seen[0]!.event, undefined, "undecodable bytes: no event, the stream goes on");
    assert.equal(seen[0]!.raw?.typeUrl, "containerd.events.TaskExit");
    assert.deepEqual(seen[1]!.event, {
      type: "exit",
      containerId: "c1",
      id: "",
      pid: 0,
      exitStatus: 3,
      exitedAt: undefined,
    });
  } finally {
    ev.close();
  }
});

test("a subscription the caller aborts ends quietly", async () => {
  const ev = new EventsClient(address, { namespace: "n" });
  const abort = new AbortController();
  try {
    for await (const e of ev.subscribe([], { signal: abort.signal })) {
      assert.equal(e.event?.type, "exit");
      abort.abort();
    }
  } finally {
    ev.close();
  }
});
