import assert from "node:assert/strict";
import { test } from "node:test";
import { DaemonLogger, formatLogLine } from "./log.ts";

const TIME = new Date("2026-12-05T06:00:00.000Z");
const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

test("text lines: time, level, msg, then fields (quoted when needed); the trace as trace=", () => {
  assert.equal(
    formatLogLine("text", "info", "create task", { id: "c1", trace: TRACE, note: "a b", gone: undefined }, TIME),
    `time="2026-12-05T06:00:00.000Z" level=info msg="create task" id=c1 trace=${TRACE} note="a b"`,
  );
});

test("json lines: level, msg, time, then fields; the trace as trace_id", () => {
  const line = formatLogLine("json", "warning", "x", { id: "c1", trace: TRACE, n: 3 }, TIME);
  assert.equal(
    line,
    `{"level":"warning","msg":"x","time":"2026-12-05T06:00:00.000Z","id":"c1","trace_id":"${TRACE}","n":3}`,
  );
  assert.equal(
    formatLogLine("json", "error", "e", {}, TIME),
    `{"level":"error","msg":"e","time":"2026-12-05T06:00:00.000Z"}`,
  );
});

test("withTrace tags every line with the trace id; no trace adds nothing", () => {
  const lines: string[] = [];
  const log = new DaemonLogger("info", { svc: "t" }, (l) => lines.push(l));
  log.withTrace({ traceId: TRACE }).info("a", { id: "c" });
  log.withTrace(undefined).info("b");
  log.debug("not enabled");
  assert.equal(lines.length, 2);
  assert.match(lines[0] ?? "", new RegExp(` svc=t trace=${TRACE} id=c\\n$`));
  assert.doesNotMatch(lines[1] ?? "", /trace=/);
  const json: string[] = [];
  new DaemonLogger("debug", {}, (l) => json.push(l), "json").withTrace({ traceId: TRACE }).debug("d");
  assert.equal(JSON.parse(json[0] ?? "").trace_id, TRACE);
});
