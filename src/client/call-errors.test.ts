import assert from "node:assert/strict";
import { test } from "node:test";
import {
  AlreadyExistsError,
  BerthError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  NotImplementedError,
  UnavailableError,
} from "../common/errors.ts";
import { errorOfStatus, statusCode } from "../rpc/status.ts";
import { namedError, naming } from "./call-errors.ts";

test("a received status becomes the typed error of its kind, named, keeping its code", () => {
  const cases: [number, new (...a: never[]) => Error][] = [
    [5, NotFoundError],
    [6, AlreadyExistsError],
    [9, FailedPreconditionError],
    [3, InvalidArgumentError],
    [14, UnavailableError],
    [12, NotImplementedError],
  ];
  for (const [code, type] of cases) {
    const e = namedError("task c1", errorOfStatus(code, "nope"));
    assert.ok(e instanceof type, `${code} → ${e.constructor.name}`);
    assert.equal(e.message, "task c1: nope");
    assert.equal(statusCode(e), code);
  }
  const other = namedError("task c1", errorOfStatus(13, "boom"));
  assert.ok(other instanceof BerthError && other.kind === "internal");
  assert.equal(other.message, "task c1: boom");
});

test("a message that already names the subject is not named twice; aborts pass through; non-errors wrap", async () => {
  assert.equal(namedError("task c1", new NotFoundError("task c1: gone")).message, "task c1: gone");
  const abort = Object.assign(new Error("x"), { name: "AbortError" });
  assert.equal(namedError("task c1", abort), abort);
  assert.equal(namedError("task c1", "weird").message, "task c1: weird");
  await assert.rejects(naming("container c2", Promise.reject(new AlreadyExistsError("exists"))), {
    name: "AlreadyExistsError",
    message: "container c2: exists",
  });
  assert.equal(await naming("x", Promise.resolve(7)), 7);
});
