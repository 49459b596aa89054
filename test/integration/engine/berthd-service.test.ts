// scripts/berthd-service.sh, berthd as a supervised background daemon (set-up's choice where
// systemd is not PID 1), with every path in a private dir: start waits for /_ping and is
// idempotent, a berthd killed with -9 is started again (and adopts its berth-containerd), stop
// takes berthd and its berth-containerd down, a stale pid file is replaced, and a berthd that
// cannot start makes start fail at once with the reason instead of being retried.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { outputOf } from "../../helpers/berth-containerd.ts";
import { BERTHD, type Berthd, type CommandResult, newBerthd, pidsMentioning } from "../../helpers/berthd.ts";

const SERVICE = join(import.meta.dirname, "..", "..", "..", "scripts", "berthd-service.sh");
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The service script with every path of it and of berthd inside `d.dir`. */
function service(d: Berthd, action: string, extraArgs: string[] = []): Promise<CommandResult> {
  const child = spawn("bash", [SERVICE, action], {
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      BERTHD,
      BERTHD_ARGS: [...d.privateArgs(), ...extraArgs].join(" "),
      BERTHD_SOCKET: d.socket,
      BERTHD_RUN_DIR: join(d.dir, "run"),
      BERTHD_LOG: join(d.dir, "log", "berthd.log"),
    },
    timeout: 90_000,
  });
  return outputOf(child);
}

const supervisorPidfile = (d: Berthd) => join(d.dir, "run", "berthd-supervisor.pid");
const readPid = (path: string) => Number(readFileSync(path, "utf8").trim());
const alive = (pid: number | undefined) => pid !== undefined && existsSync(`/proc/${pid}`);

async function withService(body: (d: Berthd) => Promise<void>): Promise<void> {
  const d = await newBerthd();
  try {
    await body(d);
  } finally {
    await service(d, "stop");
    await d.cleanup();
  }
}

describe("scripts/berthd-service.sh", { skip: process.getuid?.() === 0 ? false : "berthd runs as root" }, () => {
  test("start waits for /_ping, a second start starts nothing; kill -9 of berthd: started again; stop ends all", async () => {
    await withService(async (d) => {
      const first = await service(d, "start");
      assert.equal(first.status, 0, first.stderr + first.stdout);
      assert.match(first.stdout, /berthd is running \(supervisor \d+, berthd \d+/);
      assert.equal((await d.http("GET", "/_ping")).status, 200);
      const supervisor = readPid(supervisorPidfile(d));
      const berthd = readPid(d.pidfile);
      const containerd = d.containerdPid();
      assert.ok(alive(supervisor) && alive(berthd) && alive(containerd));

      const again = await service(d, "start");
      assert.equal(again.status, 0, again.stderr);
      assert.match(again.stdout, /already running/);
      assert.equal(readPid(supervisorPidfile(d)), supervisor);
      assert.equal(readPid(d.pidfile), berthd, "no second berthd");
      assert.equal(pidsMentioning(d.pidfile).length, 1, "one berthd process");
      assert.equal((await service(d, "status")).status, 0);

      process.kill(berthd, "SIGKILL");
      let next: number | undefined;
      for (let i = 0; i < 300; i++) {
        await sleep(100);
        const ping = await d.http("GET", "/_ping").catch(() => undefined);
        const now = existsSync(d.pidfile) ? readPid(d.pidfile) : undefined;
        if (ping?.status === 200 && now !== undefined && now !== berthd) {
          next = now;
          break;
        }
      }
      assert.ok(next !== undefined && alive(next), "a new berthd answers");
      assert.equal(readPid(supervisorPidfile(d)), supervisor, "the same supervisor");
      assert.equal(d.containerdPid(), containerd, "berth-containerd adopted, not started again");
      assert.match(readFileSync(join(d.dir, "log", "berthd.log"), "utf8"), /berthd exited \(137\): starting it again/);

      const stopped = await service(d, "stop");
      assert.equal(stopped.status, 0, stopped.stderr);
      for (let i = 0; i < 100 && [supervisor, next, containerd].some(alive); i++) await sleep(100);
      assert.deepEqual(
        [supervisor, next, containerd].filter(alive),
        [],
        "supervisor, berthd and berth-containerd gone",
      );
      assert.equal(existsSync(supervisorPidfile(d)), false);
      assert.equal(existsSync(d.pidfile), false);
      const status = await service(d, "status");
      assert.equal(status.status, 3);
      assert.match(status.stdout, /not running/);
    });
  });

  test("a stale pid file (its pid is another program's) is replaced", async () => {
    await withService(async (d) => {
      const sleeper = spawn("sleep", ["60"], { stdio: "ignore" });
      try {
        mkdirSync(join(d.dir, "run"), { recursive: true });
        writeFileSync(supervisorPidfile(d), `${sleeper.pid}\n`);
        const r = await service(d, "start");
        assert.equal(r.status, 0, r.stderr + r.stdout);
        assert.match(r.stdout, /removing a stale pid file/);
        assert.notEqual(readPid(supervisorPidfile(d)), sleeper.pid);
        assert.equal((await d.http("GET", "/_ping")).status, 200);
        assert.equal(sleeper.exitCode, null, "the pid file's process was left alone");
      } finally {
        sleeper.kill();
      }
    });
  });

  test("a berthd that cannot start: start fails at once with its reason, nothing is left running", async () => {
    await withService(async (d) => {
      const t0 = Date.now();
      const r = await service(d, "start", ["--default-runtime", "nosuch"]);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /did not come up/);
      assert.match(r.stderr, /nosuch/, "the log's reason is shown");
      assert.ok(Date.now() - t0 < 20_000, `start gave up in ${Date.now() - t0} ms, without retrying`);
      assert.equal(existsSync(supervisorPidfile(d)), false, "no supervisor left");
      assert.deepEqual(pidsMentioning(d.pidfile), [], "no berthd left");
      assert.equal((await service(d, "status")).status, 3);
    });
  });
});
