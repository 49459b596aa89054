// kill -9 of berthd with 20 containers writing a counter every 100 ms (issue 14, Done means 4).
// berthd with its own berth-containerd; 20 counters (`docker run -d`) and two containers that
// exit with 3 and 7 4 s in (the outage: 2 s of pacing come first); SIGKILL of berthd; ~5 s without it (the two exit
// meanwhile); berthd started again on the same roots. Then: the 20 still run with the same pids,
// none blocked (each counter's log grew during the outage at least half as fast as just before it:
// the logger is below berthd), `docker logs` of each shows 0, 1, 2, ... with no gap, the two exits show their
// codes in inspect and ps, and inspect, logs -f and attach (new lines), exec and stop work.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { readJsonFileLog } from "../../src/engine/logs/json-file.ts";
import { type Berthd, DOCKER_CLI } from "../helpers/berthd.ts";
import { readCounter } from "../helpers/counter-log.ts";
import { dockerOk, useBerthd } from "../helpers/engine-suite.ts";

const skip = process.getuid?.() !== 0 ? "berthd runs as root" : false;
const COUNTERS = 20;
const COUNTER = "i=0; while true; do echo $i; i=$((i+1)); usleep 100000; done";
const OUTAGE_MS = 5_000;

/** Lines a counter's log holds now, read from the file (berthd may be down). */
async function linesIn(logPath: string): Promise<number> {
  let n = 0;
  for await (const e of readJsonFileLog(logPath)) if (e.stream === "stdout") n++;
  return n;
}

/** A streaming docker command: its output as it comes; stop() ends it. */
function streaming(d: Berthd, args: string[]) {
  const child = spawn(DOCKER_CLI, ["-H", `unix://${d.socket}`, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, DOCKER_CONFIG: join(d.dir, "client-config") },
  });
  let text = "";
  child.stdout!.on("data", (b: Buffer) => {
    text += b.toString();
  });
  child.stderr!.resume();
  return {
    text: () => text,
    stop: () => {
      child.kill("SIGKILL");
    },
  };
}

describe("kill -9 of berthd with 20 counting containers", { skip, timeout: 240_000 }, () => {
  let d: Berthd;
  useBerthd((b) => (d = b));
  const ok = async (args: string[]) => (await dockerOk(d, args)).trim();
  const inspect = async (id: string, format: string) => ok(["inspect", "-f", format, id]);

  test("the containers never stop, nothing blocks, no line is lost, and everything works after", async () => {
    const counters: string[] = [];
    for (let i = 0; i < COUNTERS; i += 5) {
      const batch = Array.from({ length: Math.min(5, COUNTERS - i) }, (_, k) =>
        ok(["run", "-d", "--name", `counter-${i + k}`, "busybox", "sh", "-c", COUNTER]),
      );
      counters.push(...(await Promise.all(batch)));
    }
    const pids = new Map<string, string>();
    const logPaths = new Map<string, string>();
    for (const id of counters) {
      pids.set(id, await inspect(id, "{{.State.Pid}}"));
      logPaths.set(id, await inspect(id, "{{.LogPath}}"));
    }
    // The two that exit during the outage.
    const exiters = await Promise.all(
      [3, 7].map((code) =>
        ok(["run", "-d", "--name", `exits-${code}`, "busybox", "sh", "-c", `sleep 4; exit ${code}`]),
      ),
    );
    // And one that exits about when berthd is killed (2 s of pacing come first): its exit may be
    // in the middle of being recorded (the task deleted, the record not yet saved).
    const nearKill = await ok(["run", "-d", "--name", "exits-5", "busybox", "sh", "-c", "sleep 2; exit 5"]);
    // Each counter's pace with berthd up, the yardstick for the outage (a loaded machine
    // stretches usleep for all alike).
    const paceFrom = new Map<string, number>();
    for (const id of counters) paceFrom.set(id, await linesIn(logPaths.get(id)!));
    const tp = performance.now();
    await sleep(2_000);

    await d.kill9();
    const atKill = new Map<string, number>();
    for (const id of counters) atKill.set(id, await linesIn(logPaths.get(id)!));
    const paceMs = performance.now() - tp;
    const t0 = performance.now();
    await sleep(OUTAGE_MS);
    const outage = performance.now() - t0;
    // Not blocked: every counter went on writing while nobody above the shim read its output.
    for (const id of counters) {
      const grew = (await linesIn(logPaths.get(id)!)) - atKill.get(id)!;
      const pace = (atKill.get(id)! - paceFrom.get(id)!) / paceMs;
      // At least half its pace with berthd up; a blocked container would not grow at all.
      assert.ok(
        grew >= 1 && grew >= pace * outage * 0.5,
        `${id.slice(0, 12)} wrote ${grew} lines in ${outage.toFixed(0)} ms (${(pace * 1000).toFixed(1)} a second before)`,
      );
    }

    await d.start();
    for (const id of counters) {
      assert.equal(await inspect(id, "{{.State.Status}} {{.State.Pid}}"), `running ${pids.get(id)}`, id);
    }
    for (const [i, code] of [3, 7].entries()) {
      assert.equal(await inspect(exiters[i]!, "{{.State.Status}} {{.State.ExitCode}}"), `exited ${code}`);
    }
    assert.equal(await inspect(nearKill, "{{.State.Status}} {{.State.ExitCode}}"), "exited 5", "the exit at the kill");
    const ps = await ok(["ps", "-a", "--filter", "name=exits-", "--format", "{{.Names}} {{.Status}}"]);
    assert.match(ps, /exits-3 Exited \(3\)/);
    assert.match(ps, /exits-7 Exited \(7\)/);
    assert.equal((await ok(["ps", "-q", "--filter", "name=counter-"])).split("\n").length, COUNTERS);

    // docker logs: 0, 1, 2, ... with no gap across the outage.
    for (const id of counters) {
      const r = await d.docker(["logs", id]);
      assert.equal(r.status, 0, r.stderr);
      const c = readCounter(r.stdout);
      assert.deepEqual(c.gaps, [], `${id.slice(0, 12)}: no gap, nothing twice`);
      assert.ok(c.last >= atKill.get(id)!, `${id.slice(0, 12)}: ${c.last}`);
    }

    // logs -f and attach get new lines; exec runs.
    const follow = streaming(d, ["logs", "-f", "--tail", "0", counters[0]!]);
    const attach = streaming(d, ["attach", "--no-stdin", counters[1]!]);
    try {
      for (let i = 0; i < 100 && (follow.text().split("\n").length < 4 || attach.text().split("\n").length < 4); i++)
        await sleep(100);
      for (const [what, s] of [
        ["logs -f", follow],
        ["attach", attach],
      ] as const) {
        const got = s.text().split("\n").filter(Boolean).map(Number);
        assert.ok(got.length >= 3, `${what}: ${JSON.stringify(s.text())}`);
        for (let k = 1; k < got.length; k++) assert.equal(got[k], got[k - 1]! + 1, `${what}: consecutive`);
      }
    } finally {
      follow.stop();
      attach.stop();
    }
    assert.equal(await ok(["exec", counters[2]!, "echo", "exec works"]), "exec works");

    // stop (SIGTERM is ignored by sh as PID 1: SIGKILL after 1 s), then rm.
    await ok(["stop", "-t", "1", ...counters]);
    for (const id of counters) assert.equal(await inspect(id, "{{.State.Status}}"), "exited");
    await ok(["rm", ...counters, ...exiters, nearKill]);
    assert.equal(await ok(["ps", "-aq"]), "");
  });
});
