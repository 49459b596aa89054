import assert from "node:assert/strict";
import { test } from "node:test";
import { continueTrace } from "../../rpc/trace.ts";
import { hookEnv } from "./hooks.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

test("a hook gets TRACEPARENT naming the runtime's span, unless its own env sets one", () => {
  const trace = continueTrace(`00-${TRACE}-00f067aa0ba902b7-01`);
  assert.deepEqual(hookEnv({ path: "/h", env: ["A=1"] }, trace), {
    TRACEPARENT: `00-${TRACE}-${trace.spanId}-01`,
    A: "1",
  });
  assert.deepEqual(hookEnv({ path: "/h", env: ["TRACEPARENT=mine", "B=2"] }, trace), { TRACEPARENT: "mine", B: "2" });
  assert.deepEqual(hookEnv({ path: "/h" }, undefined), {});
});
