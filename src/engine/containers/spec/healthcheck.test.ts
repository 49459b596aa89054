import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeCreateRequest } from "./decode.ts";
import { checkHealthConfig, decodeHealthConfig, mergeHealthConfig } from "./healthcheck.ts";
import { mergeConfig } from "./merge.ts";

test("decode: zero fields left out, names matched as Go matches them, wrong types in Go's words", () => {
  assert.deepEqual(decodeHealthConfig({ test: ["CMD", "true"], INTERVAL: 1e9, Retries: 0 }, "X.Healthcheck"), {
    Test: ["CMD", "true"],
    Interval: 1e9,
  });
  assert.throws(
    () => decodeCreateRequest({ Healthcheck: { Interval: "1s" } }),
    /cannot unmarshal string into Go struct field HealthConfig.Healthcheck.Interval of type time.Duration/,
  );
  assert.throws(() => decodeCreateRequest({ Healthcheck: { Test: Array(5000).fill("x") } }), /more than 4096/);
  assert.throws(() => decodeCreateRequest({ Healthcheck: [] }), /cannot unmarshal array/);
  assert.equal(decodeCreateRequest({ Healthcheck: null }).config.Healthcheck, undefined);
});

test("merge: the image's check, the request's fields over it; NONE kept as asked", () => {
  const image = { Test: ["CMD-SHELL", "curl -f localhost"], Interval: 30e9, Retries: 5 };
  assert.deepEqual(mergeHealthConfig(undefined, image), image);
  assert.deepEqual(mergeHealthConfig({ Interval: 1e9 }, image), { ...image, Interval: 1e9 });
  assert.deepEqual(mergeHealthConfig({ Test: ["NONE"] }, image), { Test: ["NONE"], Interval: 30e9, Retries: 5 });
  assert.equal(mergeHealthConfig(undefined, undefined), undefined);
  const { config } = decodeCreateRequest({ Image: "x" });
  assert.deepEqual(mergeConfig(config, { Healthcheck: image }).Healthcheck, image);
  assert.equal(mergeConfig(config, {}).Healthcheck, undefined);
});

test("checks: dockerd's words for durations under 1 ms and negative retries; huge values pass", () => {
  assert.throws(() => checkHealthConfig({ Interval: 999_999 }), /: Interval in Healthcheck cannot be less than 1ms$/);
  assert.throws(() => checkHealthConfig({ Timeout: -1 }), /Timeout in Healthcheck cannot be less than 1ms/);
  assert.throws(() => checkHealthConfig({ Retries: -1 }), /Retries in Healthcheck cannot be negative/);
  assert.throws(() => checkHealthConfig({ StartPeriod: 5 }), /StartPeriod in Healthcheck cannot be less than 1ms/);
  assert.throws(() => checkHealthConfig({ StartInterval: 5 }), /StartInterval in Healthcheck cannot be less than 1ms/);
  checkHealthConfig({ Interval: Number.MAX_SAFE_INTEGER, Retries: 1e9 });
  checkHealthConfig(undefined);
});
