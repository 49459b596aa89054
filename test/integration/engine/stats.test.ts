// docker stats against berthd (dist/berthd.mjs with its own berth-containerd in private dirs, the
// busybox fixture as busybox:latest), with whichever docker CLI the machine has (28, else 20.10):
// `docker stats --no-stream` of a busy container run with -m 64m shows a CPU share, 64MiB as the
// limit and its pids; the raw API's shapes (stream=false with a CPU base, one-shot, a stream of
// one document a second), zeros for a container that is not running (dockerd's), refusals; nothing
// is left afterwards.
import assert from "node:assert/strict";
import { request } from "node:http";
import { availableParallelism } from "node:os";
import { after, before, describe, test } from "node:test";
import { type Berthd, berthdWithBusybox } from "../../helpers/berthd.ts";
import { berthdCtr, dockerOk } from "../../helpers/berthd-cli.ts";
import { assertNothingLeft } from "../../helpers/engine-scenario.ts";

const isRoot = process.getuid?.() === 0;
const STATS_KEYS = [
  "blkio_stats",
  "cpu_stats",
  "id",
  "memory_stats",
  "name",
  "num_procs",
  "pids_stats",
  "precpu_stats",
  "preread",
  "read",
  "storage_stats",
];

type Section = Record<string, unknown> & { cpu_usage?: Record<string, unknown> };
interface Stats {
  read: string;
  preread: string;
  pids_stats: Section;
  blkio_stats: Section;
  num_procs: number;
  storage_stats: Section;
  cpu_stats: Section;
  precpu_stats: Section;
  memory_stats: Section;
  name: string;
  id: string;
}

/** The first `n` JSON documents of a stats stream, and how long they took. */
function streamed(socket: string, path: string, n: number): Promise<{ docs: Stats[]; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, path, method: "GET" }, (res) => {
      let buf = "";
      const docs: Stats[] = [];
      res.on("data", (b: Buffer) => {
        buf += b.toString();
        for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
          docs.push(JSON.parse(buf.slice(0, i)));
          buf = buf.slice(i + 1);
        }
        if (docs.length >= n) {
          req.destroy();
          resolve({ docs: docs.slice(0, n), ms: Date.now() - started });
        }
      });
      res.on("end", () => resolve({ docs, ms: Date.now() - started }));
    });
    req.on("error", (err) => (err.message.includes("socket hang up") ? undefined : reject(err)));
    req.end();
  });
}

describe("docker stats against berthd", { skip: isRoot ? false : "berthd runs as root" }, () => {
  let d: Berthd;
  let busy: string;
  const ids: string[] = [];
  const ctr = (args: string[]) => berthdCtr(d, args);
  const ok = (args: string[]) => dockerOk(d, args);
  const get = async (path: string) => {
    const r = await d.http("GET", path);
    return { status: r.status, body: r.body, json: JSON.parse(r.body.split("\n")[0]!) as Stats };
  };

  before(async () => {
    d = await berthdWithBusybox();
    busy = (
      await ok(["run", "-d", "-m", "64m", "--name", "busy", "busybox", "sh", "-c", "while :; do :; done"])
    ).trim();
    ids.push(busy);
  });
  after(async () => {
    await d?.cleanup();
  });

  test("docker stats --no-stream: a CPU share, MEM USAGE / 64MiB, PIDS", async () => {
    const line = JSON.parse(await ok(["stats", "--no-stream", "--format", "{{json .}}", "busy"])) as Record<
      string,
      string
    >;
    assert.equal(line.Name, "busy");
    assert.equal(line.ID, busy.slice(0, 12));
    const cpu = Number.parseFloat(line.CPUPerc!);
    assert.ok(cpu > 1 && cpu <= 100 * availableParallelism() + 5, `a busy loop's CPU %: ${line.CPUPerc}`);
    assert.match(line.MemUsage!, /^\d+(\.\d+)?[KM]i?B \/ 64MiB$/);
    assert.equal(line.PIDs, "1");
    assert.equal(line.NetIO, "0B / 0B");
    const table = await ok(["stats", "--no-stream", "busy"]);
    assert.match(table, /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS\n/);
  });

  test("the API: stream=false has a CPU base, one-shot does not; dockerd's fields", async () => {
    const one = await get("/containers/busy/stats?stream=false");
    assert.equal(one.status, 200);
    assert.equal(one.body.split("\n").filter(Boolean).length, 1, "one document");
    const s = one.json;
    assert.deepEqual(Object.keys(s).sort(), STATS_KEYS);
    assert.equal(s.name, "/busy");
    assert.equal(s.id, busy);
    assert.ok(Date.parse(s.read) > Date.parse(s.preread) && Date.parse(s.preread) > 0, "preread is the base's time");
    assert.ok((s.cpu_stats.cpu_usage!.total_usage as number) > (s.precpu_stats.cpu_usage!.total_usage as number));
    assert.ok((s.cpu_stats.system_cpu_usage as number) > (s.precpu_stats.system_cpu_usage as number));
    assert.equal(s.cpu_stats.online_cpus, availableParallelism());
    assert.equal(s.memory_stats.limit, 64 * 1024 * 1024);
    assert.ok((s.memory_stats.usage as number) > 0);
    assert.equal(typeof s.memory_stats.stats, "object");
    assert.equal(s.pids_stats.current, 1);
    assert.equal(s.num_procs, 0);
    assert.ok("io_service_bytes_recursive" in s.blkio_stats);
    assert.deepEqual(s.storage_stats, {});
    const shot = await get("/containers/busy/stats?stream=false&one-shot=true");
    assert.equal(shot.json.preread, "0001-01-01T00:00:00Z");
    assert.equal(shot.json.precpu_stats.cpu_usage!.total_usage, 0);
    assert.ok((shot.json.cpu_stats.cpu_usage!.total_usage as number) > 0);
  });

  test("stream: a document a second, each over the one before", async () => {
    const { docs, ms } = await streamed(d.socket, "/containers/busy/stats", 3);
    assert.equal(docs.length, 3);
    assert.ok(ms >= 1_500 && ms < 10_000, `three documents in ${ms} ms`);
    assert.equal(docs[0]!.preread, "0001-01-01T00:00:00Z");
    assert.equal(docs[1]!.preread, docs[0]!.read);
    assert.equal(docs[2]!.preread, docs[1]!.read);
    assert.deepEqual(docs[2]!.precpu_stats, docs[1]!.cpu_stats);
  });

  test("a container that is not running: zeros with its name and id, as dockerd sends them", async () => {
    const made = (await ok(["create", "--name", "idle", "busybox", "true"])).trim();
    ids.push(made);
    const zeroCpu = {
      cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
      throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
    };
    const nulls = Object.fromEntries(
      [
        "io_service_bytes_recursive",
        "io_serviced_recursive",
        "io_queue_recursive",
        "io_service_time_recursive",
        "io_wait_time_recursive",
        "io_merged_recursive",
        "io_time_recursive",
        "sectors_recursive",
      ].map((k) => [k, null]),
    );
    const expected = {
      read: "0001-01-01T00:00:00Z",
      preread: "0001-01-01T00:00:00Z",
      pids_stats: {},
      blkio_stats: nulls,
      num_procs: 0,
      storage_stats: {},
      cpu_stats: zeroCpu,
      precpu_stats: zeroCpu,
      memory_stats: {},
      name: "/idle",
      id: made,
    };
    assert.deepEqual((await get("/containers/idle/stats?stream=0")).json, expected);
    const { docs } = await streamed(d.socket, "/containers/idle/stats", 2);
    assert.deepEqual(docs, [expected, expected], "streamed: zeros every second");
    const line = JSON.parse(await ok(["stats", "--no-stream", "--format", "{{json .}}", "idle"])) as Record<
      string,
      string
    >;
    assert.equal(line.CPUPerc, "0.00%");
    assert.equal(line.MemUsage, "0B / 0B");
    assert.equal(line.PIDs, "0");
  });

  test("a stream ends when its container is removed", async () => {
    const gone = (await ok(["run", "-d", "busybox", "sleep", "600"])).trim();
    ids.push(gone);
    const stream = streamed(d.socket, `/containers/${gone}/stats`, 1000);
    await new Promise((r) => setTimeout(r, 1_500));
    await ok(["rm", "-f", gone]);
    const { docs, ms } = await stream;
    assert.ok(docs.length >= 1 && docs.length < 10, `${docs.length} documents`);
    assert.ok(ms < 10_000, `ended ${ms} ms after it began`);
    assert.ok(docs[0]!.cpu_stats.cpu_usage!.total_usage !== 0, "the running container's counters");
  });

  test("refusals: unknown container, stream with one-shot, path tricks; nothing is left", async () => {
    const unknown = await d.http("GET", "/containers/nope/stats?stream=0");
    assert.equal(unknown.status, 404);
    assert.deepEqual(JSON.parse(unknown.body), { message: "No such container: nope" });
    const both = await d.http("GET", "/containers/busy/stats?stream=1&one-shot=1");
    assert.equal(both.status, 400);
    assert.deepEqual(JSON.parse(both.body), { message: "cannot have stream=true and one-shot=true" });
    for (const path of ["/containers/..%2f..%2fetc/stats", "/containers/%2e%2e/stats", "/containers/busy%2fx/stats"]) {
      assert.equal((await d.http("GET", `${path}?stream=0`)).status, 404, path);
    }
    for (const id of ids) await d.docker(["rm", "-f", id]);
    assertNothingLeft({ d, namespace: "berth", ctr, ids });
  });
});
