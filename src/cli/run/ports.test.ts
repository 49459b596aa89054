// -p and --expose read as go-connections reads them, refused in docker 28's words.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseExpose, parsePortSpec } from "./ports.ts";

test("-p forms: container only, host:container, ip:host:container, ip::container, ranges, IPv6, protocols", () => {
  assert.deepEqual(parsePortSpec("80"), [{ port: "80/tcp", hostIp: "", hostPort: "" }]);
  assert.deepEqual(parsePortSpec("8080:80/udp"), [{ port: "80/udp", hostIp: "", hostPort: "8080" }]);
  assert.deepEqual(parsePortSpec("127.0.0.1::81"), [{ port: "81/tcp", hostIp: "127.0.0.1", hostPort: "" }]);
  assert.deepEqual(parsePortSpec("[::1]:82:82/SCTP"), [{ port: "82/sctp", hostIp: "::1", hostPort: "82" }]);
  assert.deepEqual(parsePortSpec("9000-9001:9000-9001"), [
    { port: "9000/tcp", hostIp: "", hostPort: "9000" },
    { port: "9001/tcp", hostIp: "", hostPort: "9001" },
  ]);
  assert.deepEqual(parsePortSpec("8000-8010:83"), [{ port: "83/tcp", hostIp: "", hostPort: "8000-8010" }]);
});

test("-p refusals", () => {
  assert.deepEqual(parsePortSpec("99999:1"), { problem: "invalid hostPort: 99999" });
  assert.deepEqual(parsePortSpec("1:99999"), { problem: "invalid containerPort: 99999" });
  assert.deepEqual(parsePortSpec("abc"), { problem: "invalid containerPort: abc" });
  assert.deepEqual(parsePortSpec("1:2:3:4"), { problem: "invalid IP address: 1:2" });
  assert.deepEqual(parsePortSpec("80/sctpx"), { problem: "invalid proto: sctpx" });
  assert.deepEqual(parsePortSpec("80-79"), { problem: "invalid containerPort: 80-79" });
  assert.deepEqual(parsePortSpec("1-2:3-5"), {
    problem: "invalid ranges specified for container and host Ports: 3-5 and 1-2",
  });
  assert.deepEqual(parsePortSpec("8080:"), { problem: "no port specified: 8080:<empty>" });
});

test("--expose: ports and ranges", () => {
  assert.deepEqual(parseExpose("5000"), ["5000/tcp"]);
  assert.deepEqual(parseExpose("6000-6001/udp"), ["6000/udp", "6001/udp"]);
  assert.deepEqual(parseExpose("x"), { problem: "invalid range format for --expose: x, error: invalid port x" });
});
