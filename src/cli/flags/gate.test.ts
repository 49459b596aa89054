// The flag gates as docker 28 applies them (learnt by pointing docker 28 at daemons answering
// /_ping with each API version and OS type): what --help hides, what a given flag is refused for.
import assert from "node:assert/strict";
import { test } from "node:test";
import { RUN_FLAGS } from "../run/flags.ts";
import { gatedForHelp, type ServerFacts, unsupportedGiven, unsupportedReason } from "./gate.ts";
import type { FlagDef } from "./parse.ts";

const linux = (apiVersion: string): ServerFacts => ({ apiVersion, osType: "linux", experimental: false });
const shown = (defs: readonly FlagDef[], s: ServerFacts) =>
  gatedForHelp(defs, s)
    .filter((d) => d.hidden !== true)
    .map((d) => d.long);

test("run --help on dockerd 20.10 (1.41, linux): no --annotation, --health-start-interval, Windows-only flags", () => {
  const flags = shown(RUN_FLAGS, linux("1.41"));
  for (const f of [
    "annotation",
    "health-start-interval",
    "cpu-count",
    "cpu-percent",
    "io-maxbandwidth",
    "io-maxiops",
  ]) {
    assert.ok(!flags.includes(f), f);
  }
  for (const f of ["cgroupns", "mac-address", "use-api-socket", "disable-content-trust", "health-start-period"]) {
    assert.ok(flags.includes(f), f);
  }
});

test("run --help on berthd (1.50, linux): --annotation and --health-start-interval, still no Windows-only flag", () => {
  const flags = shown(RUN_FLAGS, linux("1.50"));
  assert.ok(flags.includes("annotation") && flags.includes("health-start-interval"));
  assert.ok(!flags.includes("cpu-count"));
});

test("a version's edge: --annotation from 1.43, --health-start-interval from 1.44", () => {
  assert.ok(shown(RUN_FLAGS, linux("1.43")).includes("annotation"));
  assert.ok(!shown(RUN_FLAGS, linux("1.43")).includes("health-start-interval"));
  assert.ok(shown(RUN_FLAGS, linux("1.44")).includes("health-start-interval"));
});

test("an OS type the daemon did not say (or no daemon) shows the Windows-only flags; windows shows them", () => {
  for (const osType of ["", "windows"]) {
    const flags = shown(RUN_FLAGS, { apiVersion: "1.50", osType, experimental: false });
    assert.ok(flags.includes("cpu-count") && flags.includes("io-maxiops"), osType);
  }
});

test("experimental flags need an experimental daemon; a hidden flag stays hidden", () => {
  const defs: FlagDef[] = [
    { long: "checkpoint", kind: "string", help: "", experimental: true },
    { long: "net", kind: "strings", help: "", hidden: true },
  ];
  assert.deepEqual(shown(defs, linux("1.50")), []);
  assert.deepEqual(shown(defs, { ...linux("1.50"), experimental: true }), ["checkpoint"]);
});

test("a given flag the daemon lacks is refused in docker's words, one line each", () => {
  const given = new Set(["annotation", "health-start-interval", "cpu-count", "name"]);
  assert.equal(
    unsupportedGiven(RUN_FLAGS, given, linux("1.41")),
    [
      '"--annotation" requires API version 1.43, but the Docker daemon API version is 1.41',
      '"--cpu-count" is only supported on a Docker daemon running on windows, but the Docker daemon is running on linux',
      '"--health-start-interval" requires API version 1.44, but the Docker daemon API version is 1.41',
    ].join("\n"),
  );
  assert.equal(unsupportedGiven(RUN_FLAGS, new Set(["annotation", "name"]), linux("1.50")), undefined);
  assert.equal(
    unsupportedReason({ long: "x", kind: "bool", help: "", experimental: true }, linux("1.50")),
    '"--x" is only supported on a Docker daemon with experimental features enabled',
  );
});
