// parseFlags' refusals against the real docker CLI's (28 where present, else 20.10): for a table of
// bad command lines docker exits 125 before talking to any daemon, and its first stderr line is
// parseFlags' first line. The flag definitions here are docker's own for these commands (ps's
// -n/--last int, -a; run's -d, --name, -e), so the words must agree.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { UsageError } from "../../../src/cli/errors.ts";
import { type FlagDef, parseFlags } from "../../../src/cli/flags/parse.ts";
import { RUN_FLAGS } from "../../../src/cli/run/flags.ts";
import { DOCKER_CLI } from "../../helpers/berthd.ts";

const skip = existsSync(DOCKER_CLI) ? undefined : `no docker CLI at ${DOCKER_CLI}`;
const dir = mkdtempSync(join(tmpdir(), "berth-flag-errors-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const PS: FlagDef[] = [
  { long: "all", short: "a", kind: "bool", help: "" },
  { long: "last", short: "n", kind: "int", default: -1, help: "" },
  { long: "quiet", short: "q", kind: "bool", help: "" },
];

const CASES: { command: "ps" | "run"; args: string[] }[] = [
  { command: "ps", args: ["--last", "abc"] },
  { command: "ps", args: ["--last="] },
  { command: "ps", args: ["-n"] },
  { command: "ps", args: ["-n", "1x"] },
  { command: "ps", args: ["-aqz"] },
  { command: "ps", args: ["--all=maybe"] },
  { command: "ps", args: ["--=x"] },
  { command: "run", args: ["--nosuch", "busybox"] },
  { command: "run", args: ["-z"] },
  { command: "run", args: ["-itz", "busybox"] },
  { command: "run", args: ["--name"] },
  { command: "run", args: ["--rm=yes", "busybox"] },
  { command: "run", args: ["-d=maybe", "busybox"] },
];

describe("flag errors: berth's words are the docker CLI's", { skip }, () => {
  for (const c of CASES) {
    test(`${c.command} ${c.args.join(" ")}`, () => {
      const d = spawnSync(DOCKER_CLI, [c.command, ...c.args], {
        encoding: "utf8",
        // No daemon anywhere: a refusal must come before any connection.
        env: {
          PATH: process.env.PATH ?? "",
          HOME: dir,
          DOCKER_CONFIG: dir,
          DOCKER_HOST: `unix://${join(dir, "none.sock")}`,
        },
        timeout: 30_000,
      });
      assert.equal(d.status, 125, d.stderr);
      const defs = c.command === "ps" ? PS : RUN_FLAGS;
      let err: unknown;
      try {
        parseFlags(c.args, defs, { interspersed: c.command === "ps", command: c.command });
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof UsageError, `berth accepted ${c.args.join(" ")}`);
      assert.equal(err.exitCode, 125);
      assert.equal(err.message.split("\n")[0], d.stderr.split("\n")[0]);
      assert.equal(err.message.split("\n")[1], `See 'berth ${c.command} --help'.`);
    });
  }
});
