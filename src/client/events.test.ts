import assert from "node:assert/strict";
import { test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { InvalidArgumentError } from "../common/errors.ts";
import { TaskExecStartedSchema, TaskExitSchema, TaskPausedSchema } from "../proto/gen/containerd/events/task_pb.js";
import { decodeTaskEvent, taskEventFilter } from "./events.ts";

const exitedAt = new Date("2026-01-02T03:04:05.678Z");

test("task events decode to typed values, with or without a type URL prefix", () => {
  const value = toBinary(
    TaskExitSchema,
    create(TaskExitSchema, {
      containerId: "c1",
      id: "c1",
      pid: 42,
      exitStatus: 143,
      exitedAt: timestampFromDate(exitedAt),
    }),
  );
  for (const typeUrl of ["containerd.events.TaskExit", "type.googleapis.com/containerd.events.TaskExit"]) {
    assert.deepEqual(decodeTaskEvent({ typeUrl, value }), {
      type: "exit",
      containerId: "c1",
      id: "c1",
      pid: 42,
      exitStatus: 143,
      exitedAt,
    });
  }
  const started = toBinary(
    TaskExecStartedSchema,
    create(TaskExecStartedSchema, { containerId: "c", execId: "e", pid: 7 }),
  );
  assert.deepEqual(decodeTaskEvent({ typeUrl: "containerd.events.TaskExecStarted", value: started }), {
    type: "exec-started",
    containerId: "c",
    execId: "e",
    pid: 7,
  });
  const paused = toBinary(TaskPausedSchema, create(TaskPausedSchema, { containerId: "p" }));
  assert.deepEqual(decodeTaskEvent({ typeUrl: "containerd.events.TaskPaused", value: paused }), {
    type: "paused",
    containerId: "p",
  });
});

test("other event types are not task events; bytes that do not decode are refused", () => {
  assert.equal(decodeTaskEvent({ typeUrl: "containerd.events.ImageCreate", value: new Uint8Array() }), undefined);
  assert.equal(decodeTaskEvent({ typeUrl: "", value: new Uint8Array([1, 2, 3]) }), undefined);
  for (const value of [
    new Uint8Array([0x0a, 0xff]),
    new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    new Uint8Array([0x22, 0x05, 0x01]),
  ]) {
    assert.throws(
      () => decodeTaskEvent({ typeUrl: "containerd.events.TaskExit", value }),
      (e: Error) => e instanceof InvalidArgumentError && /^event containerd\.events\.TaskExit: /.test(e.message),
    );
  }
});

test("taskEventFilter quotes the namespace", () => {
  assert.equal(taskEventFilter("berth"), 'namespace=="berth",topic~="^/tasks/"');
  assert.equal(taskEventFilter('a"b'), 'namespace=="a\\"b",topic~="^/tasks/"');
});
