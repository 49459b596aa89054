// Restart policies, health checks and docker update on berthd beside Debian's dockerd 20.10,
// through the same docker CLI: what users see must agree — the restart count and final state of
// on-failure:N, docker kill ending always, a health check's State.Health and Config.Healthcheck
// and ps's status, update's answers and refusals in dockerd's words.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type EnginePair, pairSkip, startEnginePair } from "../helpers/engine-pair.ts";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe("berthd's restart policies, health checks and update beside dockerd's", { skip: pairSkip() }, () => {
  let pair: EnginePair;
  const same = (args: string[]) => pair.same(args);
  /** Polls `format` of `name` on both daemons until `done` holds for each (or 20 s pass). */
  const settle = async (name: string, format: string, done: (v: string) => boolean) => {
    const out: string[] = [];
    for (const e of pair.engines) {
      let v = "";
      for (let i = 0; i < 200; i++) {
        v = (await e.docker(["inspect", "-f", format, name])).stdout.trim();
        if (done(v)) break;
        await sleep(100);
      }
      out.push(v);
    }
    assert.equal(out[1], out[0], `${name}: ${format}`);
    return out[0]!;
  };

  before(async () => {
    pair = await startEnginePair();
  });
  after(async () => {
    await pair?.cleanup();
  });

  test("on-failure:2: two restarts, then exited with the code; the policy in inspect", async () => {
    await same(["run", "-d", "--name", "fails", "--restart", "on-failure:2", "busybox", "sh", "-c", "exit 3"]);
    const end = await settle("fails", "{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}", (v) =>
      v.startsWith("2 exited"),
    );
    assert.equal(end, "2 exited 3");
    await same(["inspect", "-f", "{{json .HostConfig.RestartPolicy}}", "fails"]);
    await same(["rm", "fails"]);
  });

  test("always: docker kill ends the policy; docker start resets the count", async () => {
    await same(["run", "-d", "--name", "keeps", "--restart", "always", "busybox", "sleep", "600"]);
    await same(["kill", "keeps"]);
    await sleep(1_500);
    await same(["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}", "keeps"]);
    await same(["start", "keeps"]);
    await same(["inspect", "-f", "{{.State.Status}} {{.RestartCount}}", "keeps"]);
    await same(["rm", "-f", "keeps"]);
    // Any signal ends the policy of a container without a stop signal (dockerd's ExitOnNext);
    // one with a stop signal is restarted after a kill with another signal.
    const trap = ["sh", "-c", "trap 'exit 9' USR1; while :; do sleep 0.2; done"];
    await same(["run", "-d", "--name", "trapper", "--restart", "always", "busybox", ...trap]);
    await same(["run", "-d", "--name", "stopsig", "--restart", "always", "--stop-signal", "TERM", "busybox", ...trap]);
    await same(["kill", "-s", "USR1", "trapper"]);
    await same(["kill", "-s", "USR1", "stopsig"]);
    await sleep(2_000);
    await same(["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}", "trapper"]);
    await settle("stopsig", "{{.State.Status}} {{.RestartCount}}", (v) => v === "running 1");
    await same(["rm", "-f", "trapper", "stopsig"]);
  });

  test("health: Config.Healthcheck, State.Health's shape and ps's status agree", async () => {
    const args = ["--health-cmd", "exit 1", "--health-interval", "1s", "--health-retries", "2"];
    await same(["run", "-d", "--name", "sick", ...args, "busybox", "sleep", "600"]);
    await same(["inspect", "-f", "{{json .Config.Healthcheck}}", "sick"]);
    await settle("sick", "{{.State.Health.Status}}", (v) => v === "unhealthy");
    await same([
      "inspect",
      "-f",
      '{{.State.Health.Status}} {{with index .State.Health.Log 0}}{{.ExitCode}} {{printf "%q" .Output}}{{end}}',
      "sick",
    ]);
    const ps = await same(["ps", "--filter", "name=sick", "--format", "{{.Names}}"]);
    assert.equal(ps.stdout, "sick\n");
    const status = await Promise.all(
      pair.engines.map((e) => e.docker(["ps", "--filter", "name=sick", "--format", "{{.Status}}"])),
    );
    for (const s of status) assert.match(s.stdout, /^Up .* \(unhealthy\)\n$/);
    await same(["ps", "--filter", "health=unhealthy", "--format", "{{.Names}}"]);
    await same(["ps", "--filter", "health=none", "--format", "{{.Names}}"]);
    await same(["ps", "--filter", "health=fine"]);
    await same(["stop", "-t", "1", "sick"]);
    await same(["inspect", "-f", "{{.State.Health.Status}}", "sick"]);
    await same(["run", "-d", "--name", "none", "--no-healthcheck", "busybox", "sleep", "600"]);
    await same(["inspect", "-f", "{{json .State.Health}} {{json .Config.Healthcheck}}", "none"]);
    await same(["run", "-d", "--health-cmd", "true", "--health-interval", "1us", "busybox", "true"]);
    await same(["rm", "-f", "sick", "none"]);
  });

  test("update: accepted changes in inspect, refusals in dockerd's words", async () => {
    await same(["run", "-d", "--name", "tuned", "-m", "64m", "--memory-swap", "128m", "busybox", "sleep", "600"]);
    await same([
      "update",
      "--cpus",
      "0.5",
      "--pids-limit",
      "50",
      "--cpu-shares",
      "512",
      "--restart",
      "unless-stopped",
      "tuned",
    ]);
    await same([
      "inspect",
      "-f",
      "{{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}} {{.HostConfig.CpuShares}} {{json .HostConfig.RestartPolicy}}",
      "tuned",
    ]);
    await same(["update", "--cpu-quota", "50000", "tuned"]);
    await same(["update", "--memory", "4m", "tuned"]);
    await same(["update", "--memory", "256m", "tuned"]);
    await same(["update", "--restart", "always:3", "tuned"]);
    await same(["update", "--restart", "on-failure:-1", "tuned"]);
    await same(["update", "--memory-reservation", "32m", "tuned"]);
    await same(["inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.MemoryReservation}}", "tuned"]);
    await same(["create", "--rm", "--name", "gone", "busybox", "true"]);
    await same(["update", "--restart", "always", "gone"]);
    await same(["update", "--restart", "no", "gone"]);
    await same(["update", "--memory", "64m", "nosuch"]);
    await same(["rm", "-f", "tuned", "gone"]);
  });
});
