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
} from "../../common/errors.ts";
import { ApiError, errorBody, PageNotFoundError, PayloadTooLargeError, statusOf } from "./api-errors.ts";

test("each error kind maps to dockerd's status", () => {
  assert.equal(statusOf(new InvalidArgumentError("x")), 400);
  assert.equal(statusOf(new NotFoundError("x")), 404);
  assert.equal(statusOf(new AlreadyExistsError("x")), 409);
  assert.equal(statusOf(new FailedPreconditionError("x")), 409);
  assert.equal(statusOf(new BerthError("permission-denied", "x")), 403);
  assert.equal(statusOf(new UnavailableError("x")), 503);
  assert.equal(statusOf(new NotImplementedError("x")), 501);
  assert.equal(statusOf(new BerthError("internal", "x")), 500);
});

test("anything that is not a typed error is a 500; ApiError carries its own status", () => {
  assert.equal(statusOf(new Error("boom")), 500);
  assert.equal(statusOf("a string"), 500);
  assert.equal(statusOf(undefined), 500);
  assert.equal(statusOf(new ApiError(304, "not modified")), 304);
  assert.equal(statusOf(new PayloadTooLargeError(10)), 413);
  assert.equal(statusOf(new PageNotFoundError()), 404);
  assert.equal(new ApiError(502, "x").kind, "internal");
});

test('the error body is dockerd\'s: {"message"} and a newline', () => {
  assert.equal(errorBody(new PageNotFoundError()), '{"message":"page not found"}\n');
  assert.equal(errorBody(new NotFoundError('No such container: "x"')), '{"message":"No such container: \\"x\\""}\n');
  assert.equal(errorBody("plain"), '{"message":"plain"}\n');
});
