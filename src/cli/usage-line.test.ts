// --help's usage line for commands called by two words, against docker 28's first help lines.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { usageLine } from "./usage-line.ts";

const dir = mkdtempSync(join(tmpdir(), "berth-usage-"));
after(() => rmSync(dir, { recursive: true, force: true }));

// `docker 28.2 <words> --help`'s usage line, as it printed them (berth keeps 20.10's empty line above it).
const DOCKER_28: Record<string, string> = {
  "system prune": "Usage:  docker system prune [OPTIONS]",
  "image prune": "Usage:  docker image prune [OPTIONS]",
  "container prune": "Usage:  docker container prune [OPTIONS]",
  "system df": "Usage:  docker system df [OPTIONS]",
  "volume prune": "Usage:  docker volume prune [OPTIONS]",
  "network prune": "Usage:  docker network prune [OPTIONS]",
  "container ls": "Usage:  docker container ls [OPTIONS]",
  "image rm": "Usage:  docker image rm [OPTIONS] IMAGE [IMAGE...]",
  ps: "Usage:  docker ps [OPTIONS]",
};

function usageOf(cli: string[], words: string): string {
  const r = spawnSync(cli[0] as string, [...cli.slice(1), ...words.split(" "), "--help"], {
    encoding: "utf8",
    timeout: 30_000,
    env: { PATH: process.env.PATH ?? "", HOME: dir, BERTH_HOST: `unix://${join(dir, "absent.sock")}` },
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split("\n").find((l) => l.startsWith("Usage:")) ?? "";
}

test("usageLine names the command as called, without repeating a two-word usage", () => {
  assert.equal(usageLine("system prune", "system prune [OPTIONS]"), "system prune [OPTIONS]");
  assert.equal(usageLine("container ls", "ps [OPTIONS]"), "container ls [OPTIONS]");
  assert.equal(usageLine("ps", "ps [OPTIONS]"), "ps [OPTIONS]");
  assert.equal(usageLine("system df", "system df"), "system df");
  // A command whose name only starts like the usage is still renamed.
  assert.equal(usageLine("image rm", "rmi [OPTIONS] IMAGE [IMAGE...]"), "image rm [OPTIONS] IMAGE [IMAGE...]");
});

test("--help's usage line is docker 28's for two-word commands", () => {
  for (const [words, want] of Object.entries(DOCKER_28)) {
    const got = usageOf([process.execPath, join(import.meta.dirname, "main.ts")], words);
    assert.equal(got, want.replace("docker", "berth"), words);
  }
});

test("the recorded lines are docker 28's own (when its CLI is here)", {
  skip: !existsSync("/usr/local/bin/docker"),
}, () => {
  for (const [words, want] of Object.entries(DOCKER_28)) {
    assert.equal(usageOf(["/usr/local/bin/docker"], words), want, words);
  }
});
