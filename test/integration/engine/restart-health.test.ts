// Restart policies, health checks and docker update on berthd (dist/berthd.mjs with its own
// berth-containerd in private dirs, the busybox fixture as busybox:latest), through the docker
// CLI: on-failure:N counts its restarts and stops; always survives its process being killed
// from the host and ends with docker stop; unless-stopped and always across a berthd restart
// (and a process killed while berthd was down); a health check going starting → unhealthy →
// healthy with its log and ps's "(healthy)"; docker update of memory and the restart policy in
// inspect and in the cgroup; hostile policies, counts and intervals refused with dockerd's words.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { writeImageArchive } from "../../fixtures/oci-image.ts";
import { type Berthd, berthdWithBusybox } from "../../helpers/berthd.ts";

const isRoot = process.getuid?.() === 0;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The memory limit file of the cgroup `pid` is in (v1's memory controller, else v2's). */
function memoryLimitFile(pid: number): string {
  const lines = readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n");
  const v1 = lines.find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l));
  if (v1) return join("/sys/fs/cgroup/memory", v1.slice(v1.lastIndexOf(":") + 1), "memory.limit_in_bytes");
  const v2 = lines.find((l) => l.startsWith("0::"))!;
  return join("/sys/fs/cgroup", v2.slice(3), "memory.max");
}

interface State {
  Status: string;
  Running: boolean;
  Restarting: boolean;
  Pid: number;
  ExitCode: number;
  Health?: {
    Status: string;
    FailingStreak: number;
    Log: { Start: string; End: string; ExitCode: number; Output: string }[];
  };
}

describe("restart policies, health checks and update on berthd", {
  skip: isRoot ? false : "berthd runs as root",
}, () => {
  let d: Berthd;

  const docker = (args: string[]) => d.docker(args);
  const ok = async (args: string[]) => {
    const r = await docker(args);
    assert.equal(r.status, 0, `docker ${args.join(" ")}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const inspect = async (
    name: string,
  ): Promise<{ State: State; RestartCount: number; HostConfig: Record<string, unknown> }> =>
    JSON.parse(await ok(["inspect", "--type", "container", name]))[0];
  const until = async (what: string, check: () => Promise<boolean>, ms = 20_000) => {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
      await sleep(100);
    }
  };

  before(async () => {
    d = await berthdWithBusybox();
  });
  after(async () => {
    await d?.cleanup();
  });

  test("on-failure:2 restarts a failing container twice, then leaves it exited", async () => {
    await ok(["run", "-d", "--name", "fails", "--restart", "on-failure:2", "busybox", "sh", "-c", "exit 3"]);
    // 100 ms, then 200 ms of back-off: well within a few seconds.
    await until("two restarts and the end", async () => {
      const i = await inspect("fails");
      return i.RestartCount === 2 && i.State.Status === "exited";
    });
    await sleep(1_000);
    const i = await inspect("fails");
    assert.equal(i.RestartCount, 2);
    assert.equal(i.State.Running, false);
    assert.equal(i.State.Restarting, false);
    assert.equal(i.State.ExitCode, 3);
    assert.deepEqual(i.HostConfig.RestartPolicy, { Name: "on-failure", MaximumRetryCount: 2 });
    await ok(["rm", "fails"]);
  });

  test("a restarting container shows as restarting; rm without force is refused, stop ends it", async () => {
    await ok(["run", "-d", "--name", "loops", "--restart", "always", "busybox", "sh", "-c", "sleep 0.3; exit 5"]);
    let saw = false;
    await until("a restarting state with a count", async () => {
      const i = await inspect("loops");
      if (i.State.Restarting) {
        saw = true;
        assert.equal(i.State.Status, "restarting");
        assert.equal(i.State.Running, true);
        assert.equal(i.State.Pid, 0);
        assert.equal(i.State.ExitCode, 5);
        const ps = await ok(["ps", "-a", "--filter", "name=loops", "--format", "{{.Status}}"]);
        if (/^Restarting \(5\)/.test(ps)) return true;
      }
      return false;
    });
    assert.ok(saw);
    const rm = await docker(["rm", "loops"]);
    assert.notEqual(rm.status, 0);
    assert.match(rm.stderr, /container is (restarting|running): stop the container before removing or force remove/);
    await ok(["stop", "-t", "1", "loops"]);
    const i = await inspect("loops");
    assert.equal(i.State.Status, "exited");
    assert.equal(i.State.Restarting, false);
    await sleep(1_000);
    assert.equal((await inspect("loops")).State.Status, "exited", "stop ended the policy");
    await ok(["start", "loops"]);
    await until("restarting again", async () => (await inspect("loops")).RestartCount > 0);
    // docker restart of a container between restarts: the pending one called off, a fresh start.
    await ok(["restart", "-t", "1", "loops"]);
    assert.match((await inspect("loops")).State.Status, /^(running|restarting)$/);
    await ok(["rm", "-f", "loops"]);
    assert.equal((await docker(["inspect", "loops"])).status, 1);
  });

  test("back-off: the waits double; rm -f of a restarting container calls the restart off at once", async () => {
    await ok(["run", "-d", "--name", "crashes", "--restart", "always", "busybox", "false"]);
    // 100 + 200 + 400 + 800 ms of waits before the fifth restart: not much less than 1.5 s.
    const t0 = Date.now();
    await until("five restarts", async () => (await inspect("crashes")).RestartCount >= 5);
    assert.ok(Date.now() - t0 >= 1_400, `five restarts in ${Date.now() - t0} ms`);
    // The sixth waits 1.6 s: restarting meanwhile.
    await until("restarting", async () => (await inspect("crashes")).State.Restarting, 5_000);
    const t1 = Date.now();
    await ok(["rm", "-f", "crashes"]);
    assert.ok(Date.now() - t1 < 1_500, `rm -f took ${Date.now() - t1} ms`);
    assert.equal((await docker(["inspect", "crashes"])).status, 1);
  });

  test("always: a process killed from the host comes back; docker stop stops it for good", async () => {
    await ok(["run", "-d", "--name", "keeps", "--restart", "always", "busybox", "sleep", "600"]);
    const first = await inspect("keeps");
    assert.ok(first.State.Pid > 0);
    process.kill(first.State.Pid, "SIGKILL");
    await until("a new process", async () => {
      const i = await inspect("keeps");
      return i.State.Running && !i.State.Restarting && i.State.Pid > 0 && i.State.Pid !== first.State.Pid;
    });
    assert.equal((await inspect("keeps")).RestartCount, 1);
    await ok(["stop", "-t", "1", "keeps"]);
    await sleep(1_500);
    const after = await inspect("keeps");
    assert.equal(after.State.Status, "exited");
    assert.equal(after.RestartCount, 1);
    // docker kill ends the policy too (dockerd: SIGKILL or the stop signal).
    await ok(["start", "keeps"]);
    assert.equal((await inspect("keeps")).RestartCount, 0, "a user's start resets the count");
    await ok(["kill", "keeps"]);
    await sleep(1_500);
    assert.equal((await inspect("keeps")).State.Status, "exited");
    await ok(["rm", "keeps"]);
  });

  test("across a berthd restart: unless-stopped stays stopped, always killed meanwhile runs again", async () => {
    await ok(["run", "-d", "--name", "halted", "--restart", "unless-stopped", "busybox", "sleep", "600"]);
    await ok(["stop", "-t", "1", "halted"]);
    // always starts again at the daemon's start even when a user stopped it (docker's rule).
    await ok(["run", "-d", "--name", "revived", "--restart", "always", "busybox", "sleep", "600"]);
    await ok(["stop", "-t", "1", "revived"]);
    // A container never started is not started by its policy.
    await ok(["create", "--name", "unborn", "--restart", "always", "busybox", "sleep", "600"]);
    await ok(["run", "-d", "--name", "durable", "--restart", "always", "busybox", "sleep", "600"]);
    await ok(["run", "-d", "--name", "stays", "--restart", "unless-stopped", "busybox", "sleep", "600"]);
    const durable = await inspect("durable");
    const stays = await inspect("stays");
    await d.kill9();
    process.kill(durable.State.Pid, "SIGKILL");
    await sleep(500);
    await d.start();
    await until("durable running again", async () => {
      const i = await inspect("durable");
      return i.State.Running && !i.State.Restarting && i.State.Pid > 0 && i.State.Pid !== durable.State.Pid;
    });
    assert.equal((await inspect("durable")).RestartCount, 1);
    const s = await inspect("stays");
    assert.equal(s.State.Pid, stays.State.Pid, "a running container is left alone");
    await sleep(1_000);
    assert.equal((await inspect("halted")).State.Status, "exited", "a stopped unless-stopped stays stopped");
    await until("revived running", async () => (await inspect("revived")).State.Running);
    assert.equal((await inspect("unborn")).State.Status, "created");
    await ok(["rm", "-f", "halted", "durable", "stays", "revived", "unborn"]);
  });

  test("health: starting, unhealthy after its retries, healthy once the check passes", async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const dir = join(d.dir, "flag");
    spawnSync("mkdir", ["-p", dir]);
    await ok([
      "run",
      "-d",
      "--name",
      "checked",
      "-v",
      `${dir}:/flag`,
      "--health-cmd",
      "test -f /flag/ok && echo fine",
      "--health-interval",
      "1s",
      "--health-retries",
      "2",
      "busybox",
      "sleep",
      "600",
    ]);
    const first = await inspect("checked");
    assert.equal(first.State.Health?.Status, "starting");
    assert.match(await ok(["ps", "--filter", "name=checked", "--format", "{{.Status}}"]), /\(health: starting\)$/);
    await until("unhealthy", async () => (await inspect("checked")).State.Health?.Status === "unhealthy");
    const bad = (await inspect("checked")).State.Health!;
    assert.ok(bad.FailingStreak >= 2);
    assert.ok(bad.Log.length >= 2 && bad.Log.length <= 5);
    assert.equal(bad.Log[0]!.ExitCode, 1);
    assert.ok(Date.parse(bad.Log[0]!.End) >= Date.parse(bad.Log[0]!.Start));
    assert.match(await ok(["ps", "--filter", "name=checked", "--format", "{{.Status}}"]), /\(unhealthy\)$/);
    spawnSync("touch", [join(dir, "ok")]);
    await until("healthy", async () => (await inspect("checked")).State.Health?.Status === "healthy");
    const good = (await inspect("checked")).State.Health!;
    assert.equal(good.FailingStreak, 0);
    assert.equal(good.Log.at(-1)!.ExitCode, 0);
    assert.equal(good.Log.at(-1)!.Output, "fine\n");
    assert.match(await ok(["ps", "--filter", "name=checked", "--format", "{{.Status}}"]), /^Up .* \(healthy\)$/);
    assert.equal(await ok(["ps", "--filter", "health=healthy", "--format", "{{.Names}}"]), "checked");
    assert.equal(await ok(["ps", "--filter", "health=unhealthy", "--format", "{{.Names}}"]), "");
    // Each change of status is an event (dockerd's action "health_status: <status>").
    const filters = encodeURIComponent(JSON.stringify({ container: ["checked"] }));
    const events = await d.http(
      "GET",
      `/events?since=${since}&until=${Math.ceil(Date.now() / 1000)}&filters=${filters}`,
    );
    assert.equal(events.status, 200, events.body);
    const actions = events.body
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { Action: string }).Action);
    assert.deepEqual(
      actions.filter((a) => a.startsWith("health_status")),
      ["health_status: unhealthy", "health_status: healthy"],
    );
    // Probes leave nothing behind in the container.
    const top = await ok(["top", "checked"]);
    assert.doesNotMatch(top, /test -f/);
    await ok(["stop", "-t", "1", "checked"]);
    const stopped = (await inspect("checked")).State.Health!;
    assert.equal(stopped.Status, "unhealthy");
    const logLength = stopped.Log.length;
    await sleep(2_500);
    assert.equal((await inspect("checked")).State.Health!.Log.length, logLength, "no probe after the stop");
    assert.deepEqual(readdirSync(join(d.execRoot, "probes")), [], "every probe's fifos are gone");
    await ok(["rm", "checked"]);
  });

  test("health: an image's HEALTHCHECK runs; flags are laid over it; --no-healthcheck turns it off", async () => {
    const archive = join(d.dir, "checked.tar");
    await writeImageArchive(archive, {
      name: "docker.io/library/checked:latest",
      cmd: ["sleep", "600"],
      healthcheck: { Test: ["CMD-SHELL", "echo from-image"], Interval: 1e9, Retries: 4 },
    });
    const sock = join(d.execRoot, "containerd", "containerd.sock");
    const imported = spawnSync("ctr", ["--address", sock, "-n", "berth", "images", "import", archive], {
      encoding: "utf8",
    });
    assert.equal(imported.status, 0, imported.stderr);
    const config = async (name: string) =>
      JSON.parse(await ok(["inspect", "-f", "{{json .Config.Healthcheck}}", name])) as Record<string, unknown>;
    await ok(["run", "-d", "--name", "fromimage", "checked"]);
    assert.deepEqual(await config("fromimage"), { Test: ["CMD-SHELL", "echo from-image"], Interval: 1e9, Retries: 4 });
    await until("healthy", async () => (await inspect("fromimage")).State.Health?.Status === "healthy");
    assert.equal((await inspect("fromimage")).State.Health!.Log[0]!.Output, "from-image\n");
    await ok(["run", "-d", "--name", "merged", "--health-interval", "2s", "checked"]);
    assert.deepEqual(await config("merged"), { Test: ["CMD-SHELL", "echo from-image"], Interval: 2e9, Retries: 4 });
    await ok(["run", "-d", "--name", "unchecked", "--no-healthcheck", "checked"]);
    assert.deepEqual(await config("unchecked"), { Test: ["NONE"], Interval: 1e9, Retries: 4 });
    await sleep(1_500);
    assert.equal((await inspect("unchecked")).State.Health, undefined);
    assert.doesNotMatch(await ok(["ps", "--filter", "name=unchecked", "--format", "{{.Status}}"]), /health/);
    await ok(["rm", "-f", "fromimage", "merged", "unchecked"]);
  });

  test("health: a probe past its timeout counts as a failure with dockerd's words; output bounded", async () => {
    await ok([
      "run",
      "-d",
      "--name",
      "slowcheck",
      "--health-cmd",
      "sleep 5",
      "--health-interval",
      "1s",
      "--health-timeout",
      "500ms",
      "busybox",
      "sleep",
      "600",
    ]);
    await ok([
      "run",
      "-d",
      "--name",
      "chatty",
      "--health-cmd",
      "yes | head -c 10000",
      "--health-interval",
      "1s",
      "busybox",
      "sleep",
      "600",
    ]);
    await until("a timed-out probe", async () => ((await inspect("slowcheck")).State.Health?.Log.length ?? 0) > 0);
    const slow = (await inspect("slowcheck")).State.Health!.Log[0]!;
    assert.equal(slow.ExitCode, -1);
    assert.equal(slow.Output, "Health check exceeded timeout (500ms)");
    await until("a long probe", async () => ((await inspect("chatty")).State.Health?.Log.length ?? 0) > 0);
    const chatty = (await inspect("chatty")).State.Health!.Log[0]!;
    assert.equal(chatty.Output.length, 4096 + 3);
    assert.ok(chatty.Output.endsWith("y\n..."));
    await ok(["rm", "-f", "slowcheck", "chatty"]);
  });

  test("health checks go on after a berthd restart", async () => {
    await ok([
      "run",
      "-d",
      "--name",
      "watched",
      "--health-cmd",
      "true",
      "--health-interval",
      "1s",
      "busybox",
      "sleep",
      "600",
    ]);
    await until("healthy", async () => (await inspect("watched")).State.Health?.Status === "healthy");
    await d.kill9();
    await d.start();
    const before = (await inspect("watched")).State.Health!.Log.at(-1)!.Start;
    await until("a new probe", async () => (await inspect("watched")).State.Health!.Log.at(-1)!.Start !== before);
    await ok(["rm", "-f", "watched"]);
  });

  test("docker update: memory and restart policy in inspect and in the cgroup", async () => {
    const id = await ok(["run", "-d", "--name", "tuned", "busybox", "sleep", "600"]);
    await ok(["update", "--memory", "64m", "--restart", "always", "tuned"]);
    const i = await inspect("tuned");
    assert.equal(i.HostConfig.Memory, 64 * 1024 * 1024);
    assert.deepEqual(i.HostConfig.RestartPolicy, { Name: "always", MaximumRetryCount: 0 });
    assert.ok(id.length === 64);
    assert.equal(readFileSync(memoryLimitFile(i.State.Pid), "utf8").trim(), String(64 * 1024 * 1024));
    // The new policy is the one an exit now follows.
    process.kill(i.State.Pid, "SIGKILL");
    await until("restarted", async () => {
      const j = await inspect("tuned");
      return j.State.Running && !j.State.Restarting && j.State.Pid !== i.State.Pid;
    });
    // The next start has the new limit too (the spec containerd keeps was updated).
    const restarted = (await inspect("tuned")).State.Pid;
    assert.equal(readFileSync(memoryLimitFile(restarted), "utf8").trim(), String(64 * 1024 * 1024));
    await ok(["update", "--cpus", "0.5", "--pids-limit", "50", "tuned"]);
    const j = await inspect("tuned");
    assert.equal(j.HostConfig.NanoCpus, 500_000_000);
    assert.equal(j.HostConfig.PidsLimit, 50);
    const quota = await docker(["update", "--cpu-quota", "50000", "tuned"]);
    assert.match(quota.stderr, /Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set/);
    const low = await docker(["update", "--memory", "4m", "tuned"]);
    assert.match(low.stderr, /Minimum memory limit allowed is 6MB/);
    const below = await docker(["update", "--memory-reservation", "128m", "tuned"]);
    assert.match(below.stderr, /Minimum memory limit can not be less than memory reservation limit/);
    assert.equal((await inspect("tuned")).HostConfig.MemoryReservation, 0, "a refused update changes nothing");
    await ok(["rm", "-f", "tuned"]);
    // A stopped container's update is its next start's.
    await ok(["create", "--name", "later", "busybox", "sleep", "600"]);
    await ok(["update", "--memory", "32m", "later"]);
    await ok(["start", "later"]);
    const later = (await inspect("later")).State.Pid;
    assert.equal(readFileSync(memoryLimitFile(later), "utf8").trim(), String(32 * 1024 * 1024));
    await ok(["rm", "-f", "later"]);
    await ok(["create", "--rm", "--name", "gone", "busybox", "true"]);
    const rm = await docker(["update", "--restart", "always", "gone"]);
    assert.match(
      rm.stderr,
      /Cannot update container [0-9a-f]{64}: Restart policy cannot be updated because AutoRemove is enabled for the container/,
    );
    await ok(["rm", "gone"]);
  });

  test("hostile input: bad policies, counts and intervals are refused with dockerd's words", async () => {
    const post = async (path: string, body: unknown) =>
      d.http("POST", path, JSON.stringify(body), { "Content-Type": "application/json" });
    const create = (extra: Record<string, unknown>) =>
      post("/containers/create", { Image: "busybox", Cmd: ["true"], ...extra });
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ HostConfig: { RestartPolicy: { Name: "sometimes" } } }, /invalid restart policy 'sometimes'/],
      [
        { HostConfig: { RestartPolicy: { Name: "on-failure", MaximumRetryCount: -1 } } },
        /maximum retry count cannot be negative/,
      ],
      [
        { HostConfig: { RestartPolicy: { Name: "always", MaximumRetryCount: 3 } } },
        /cannot be used with restart policy 'always'/,
      ],
      [
        { HostConfig: { RestartPolicy: { Name: "always" }, AutoRemove: true } },
        /can't create 'AutoRemove' container with restart policy/,
      ],
      [{ HostConfig: { RestartPolicy: { Name: "on-failure", MaximumRetryCount: 1e300 } } }, /cannot unmarshal number/],
      [{ Healthcheck: { Test: ["CMD", "true"], Interval: 1000 } }, /Interval in Healthcheck cannot be less than 1ms/],
      [{ Healthcheck: { Test: ["CMD", "true"], Interval: -5 } }, /Interval in Healthcheck cannot be less than 1ms/],
      [{ Healthcheck: { Test: ["CMD", "true"], Timeout: 1 } }, /Timeout in Healthcheck cannot be less than 1ms/],
      [{ Healthcheck: { Test: ["CMD", "true"], Retries: -1 } }, /Retries in Healthcheck cannot be negative/],
      [
        { Healthcheck: { Test: ["CMD", "true"], StartPeriod: 10 } },
        /StartPeriod in Healthcheck cannot be less than 1ms/,
      ],
      [{ Healthcheck: { Test: "true" } }, /cannot unmarshal string/],
      [{ Healthcheck: { Test: ["CMD", "a\u0000b"] } }, /NUL/],
    ];
    for (const [body, message] of cases) {
      const r = await create(body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.body}`);
      assert.match(JSON.parse(r.body).message, message);
    }
    // An absurd interval is accepted (dockerd does) and never fires early: no probe in 2 s.
    const made = await create({ Cmd: ["sleep", "600"], Healthcheck: { Test: ["CMD", "true"], Interval: 9e15 } });
    assert.equal(made.status, 201, made.body);
    const id = JSON.parse(made.body).Id as string;
    assert.equal((await d.http("POST", `/containers/${id}/start`)).status, 204);
    await sleep(2_000);
    const h = (await inspect(id)).State.Health!;
    assert.equal(h.Status, "starting");
    assert.equal(h.Log.length, 0);
    // update: bad bodies and values.
    for (const [body, status, message] of [
      [{ RestartPolicy: { Name: "sometimes" } }, 400, /invalid restart policy/],
      [{ RestartPolicy: { Name: "on-failure", MaximumRetryCount: -3 } }, 400, /maximum retry count cannot be negative/],
      [{ Memory: "lots" }, 400, /cannot unmarshal string/],
      [{ Memory: 1024 }, 400, /Minimum memory limit allowed is 6MB/],
      [{ CpuShares: -1 }, 400, /shares: invalid argument/],
      [[1, 2], 400, /cannot unmarshal array/],
    ] as const) {
      const r = await post(`/containers/${id}/update`, body);
      assert.equal(r.status, status, `${JSON.stringify(body)}: ${r.body}`);
      assert.match(JSON.parse(r.body).message, message);
    }
    assert.equal((await post("/containers/nosuch/update", {})).status, 404);
    const badFilter = await d.http("GET", `/containers/json?filters=${encodeURIComponent('{"health":["fine"]}')}`);
    assert.equal(badFilter.status, 400);
    assert.equal(JSON.parse(badFilter.body).message, "Unrecognised filter value for health: fine");
    assert.equal((await d.http("DELETE", `/containers/${id}?force=1`)).status, 204);
  });
});
