// berth's containerd client (src/client: containers, rootfs snapshots, tasks, events, fifos) runs a
// container's whole life on berth-containerd and on Debian's containerd 1.6, the same case table on
// both: the busybox fixture image's rootfs prepared from its chain ID, a container record with a
// minimal runtime spec, tasks with fifos (output, exit code 3, exec, stdin, a pty resized, SIGTERM →
// 143, pause/resume, pids, metrics, a resource update), the task events of each step, then nothing
// left. Hostile cases: unknown and duplicate ids, a spec over the bound, a daemon that goes away
// under an event subscription.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ContainerdConnection } from "../../src/client/connection.ts";
import type { ContainerRuntime, ContainersClient } from "../../src/client/containers.ts";
import { type EventEnvelope, type EventsClient, type TaskEvent, taskEventFilter } from "../../src/client/events.ts";
import { FifoSet, readOutput, type TaskIO } from "../../src/client/fifos.ts";
import { fileLogUri } from "../../src/client/log-uri.ts";
import { type RootfsSnapshots, resolveImage } from "../../src/client/rootfs.ts";
import type { TasksClient } from "../../src/client/tasks.ts";
import { MAX_SPEC_BYTES, messageAny, runcOptionsAny } from "../../src/client/type-urls.ts";
import { AlreadyExistsError, InvalidArgumentError, NotFoundError, UnavailableError } from "../../src/common/errors.ts";
import { TaskOOMSchema } from "../../src/proto/gen/containerd/events/task_pb.js";
import { makeTempDir } from "../fixtures/busybox.ts";
import { writeImageArchive } from "../fixtures/oci-image.ts";
import { BUSYBOX_IMAGE, startWithBusybox } from "../helpers/berth-containerd.ts";
import {
  hostCgroupVersion,
  killCgroupTree,
  pidsWithArgument,
  removeCgroupTree,
  startContainerd,
  uniqueName,
} from "../helpers/peers.ts";
import { processSpec, taskSpec } from "../helpers/task-spec.ts";

const repo = join(import.meta.dirname, "..", "..");
const BERTH_RUNC = join(repo, "dist", "berth-runc.mjs");
const skip =
  process.getuid?.() !== 0
    ? "interop tests run as root"
    : ["/usr/bin/ctr", "/usr/bin/containerd", "/usr/bin/containerd-shim-runc-v2", BERTH_RUNC].find(
        (b) => !existsSync(b),
      );

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One daemon under test, as the cases see it. */
interface Daemon {
  address: string;
  namespace: string;
  /** The daemon's own files (root, state): nothing of a container may stay mounted below it. */
  dir: string;
  runtime: ContainerRuntime;
  /** Takes the daemon away (the last case). */
  goAway(): Promise<void>;
  cleanup(): Promise<void>;
}

async function berthContainerd(): Promise<Daemon> {
  const namespace = uniqueName("client-it");
  const d = await startWithBusybox([], namespace);
  return {
    address: d.address,
    namespace,
    dir: d.dir,
    runtime: { name: "io.containerd.berth.v1" },
    goAway: () => d.kill9(),
    cleanup: () => d.cleanup(),
  };
}

async function debianContainerd(): Promise<Daemon> {
  const c = await startContainerd(BERTH_RUNC);
  const archive = join(c.dir, "busybox.tar");
  await writeImageArchive(archive, { name: BUSYBOX_IMAGE });
  const r = await c.ctr(["images", "import", archive]);
  if (r.code !== 0) {
    await c.stop();
    throw new Error(`ctr images import: ${r.stderr}`);
  }
  return {
    address: c.address,
    namespace: c.namespace,
    dir: c.dir,
    // What `ctr run --runc-binary --runc-root` sends: io.containerd.runc.v2 with runc options.
    runtime: {
      name: "io.containerd.runc.v2",
      options: runcOptionsAny({ binaryName: c.runtime.path, root: join(c.dir, "runc-root") }),
    },
    goAway: async () => {
      for (const pid of pidsWithArgument(join(c.dir, "config.toml"))) process.kill(pid, "SIGTERM");
      for (let i = 0; i < 100 && pidsWithArgument(join(c.dir, "config.toml")).length > 0; i++) await sleep(100);
    },
    cleanup: () => c.stop(),
  };
}

/** Events seen by a subscription, and a way to wait for one. */
class EventLog {
  readonly seen: EventEnvelope[] = [];
  ended: unknown;
  readonly done: Promise<void>;
  constructor(stream: AsyncIterable<EventEnvelope>) {
    this.done = (async () => {
      try {
        for await (const e of stream) this.seen.push(e);
        this.ended = "ended quietly";
      } catch (err) {
        this.ended = err;
      }
    })();
  }
  async waitFor(what: string, match: (e: TaskEvent) => boolean, ms = 15_000): Promise<TaskEvent> {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = this.seen.find((e) => e.event && match(e.event))?.event;
      if (hit) return hit;
      if (Date.now() > deadline)
        assert.fail(`no ${what} event in ${ms} ms; seen: ${JSON.stringify(this.seen.map((e) => [e.topic, e.event]))}`);
      await sleep(50);
    }
  }
}

const daemons: [string, () => Promise<Daemon>][] = [
  ["berth-containerd", berthContainerd],
  ["Debian's containerd 1.6", debianContainerd],
];

for (const [name, start] of daemons) {
  describe(`the containerd client runs containers on ${name}`, { skip }, () => {
    let d: Daemon;
    let conn: ContainerdConnection;
    let containers: ContainersClient;
    let tasks: TasksClient;
    let snapshots: RootfsSnapshots;
    let events: EventsClient;
    let log: EventLog;
    let fifoParent: string;
    let chainId: string;
    const abort = new AbortController();
    const cgroup = () => `/${d.namespace}`;
    const keys: string[] = [];
    const fifoSets: FifoSet[] = [];

    /** A container `id` on a fresh snapshot of the image, running `args`. */
    const makeContainer = async (
      id: string,
      args: string[],
      o: { terminal?: boolean; hostPid?: boolean; memoryLimit?: number } = {},
    ) => {
      const key = `${id}-snapshot`;
      keys.push(key);
      return conn.newContainer({
        id,
        image: BUSYBOX_IMAGE,
        labels: { "berth.test": id },
        runtime: d.runtime,
        spec: taskSpec({ args, hostname: id, cgroupsPath: `${cgroup()}/${id}`, ...o }),
        snapshotKey: key,
      });
    };
    const fifos = async (name: string, o: Parameters<typeof FifoSet.create>[2] = {}) => {
      const f = await FifoSet.create(fifoParent, name, o);
      fifoSets.push(f);
      return f;
    };
    const startTask = async (id: string, f: FifoSet | Partial<TaskIO>) => {
      const rootfs = await snapshots.mounts(`${id}-snapshot`);
      const { pid } = await tasks.create({ containerId: id, rootfs, io: f instanceof FifoSet ? f.io : f });
      assert.ok(pid > 0, "the created task has a pid");
      assert.equal(await tasks.start(id), pid);
      return pid;
    };
    const removeContainer = (id: string) => conn.removeContainer(id);

    before(async () => {
      d = await start();
      conn = new ContainerdConnection(d.address, { namespace: d.namespace });
      ({ containers, tasks, events } = conn);
      snapshots = conn.snapshots();
      fifoParent = await makeTempDir("berth-client-fifos-");
      // Subscribed once a probe published after the call comes back through it.
      log = new EventLog(
        events.subscribe(
          [taskEventFilter(d.namespace), `namespace==${JSON.stringify(d.namespace)},topic=="/berth/probe"`],
          {
            signal: abort.signal,
          },
        ),
      );
      for (let i = 0; !log.seen.some((e) => e.topic === "/berth/probe"); i++) {
        if (i > 200) throw new Error("the event subscription never saw a probe");
        if (i % 10 === 0) await events.publish("/berth/probe", messageAny(TaskOOMSchema, { containerId: "probe" }));
        await sleep(50);
      }
      const ports = conn.remote.ports();
      chainId = (await resolveImage(ports.images, ports.content, BUSYBOX_IMAGE)).chainId;
    });

    after(async () => {
      abort.abort();
      for (const f of fifoSets) await f.close();
      conn?.close();
      if (fifoParent) await rm(fifoParent, { recursive: true, force: true });
      await d?.cleanup();
      if (d) {
        await killCgroupTree(cgroup());
        await removeCgroupTree(cgroup());
      }
    });

    test("the image resolves to its config and top chain ID, which the daemon has unpacked", async () => {
      assert.match(chainId, /^sha256:[a-f0-9]{64}$/);
      assert.ok(await snapshots.exists(chainId), "the image's top snapshot exists");
      assert.equal(await snapshots.exists("no-such-snapshot"), false);
    });

    test("containers: create, get, list with filters, update labels and spec", { timeout: 30_000 }, async () => {
      const made = await makeContainer("c-hello", ["sh", "-c", "echo hello; exit 3"]);
      assert.equal(made.id, "c-hello");
      const got = await containers.get("c-hello");
      assert.equal(got.image, BUSYBOX_IMAGE);
      assert.equal(got.runtime.name, d.runtime.name);
      assert.equal(got.snapshotKey, "c-hello-snapshot");
      assert.equal(got.snapshotter, "overlayfs");
      assert.deepEqual(got.labels, { "berth.test": "c-hello" });
      assert.deepEqual((got.spec as { process: { args: string[] } }).process.args, ["sh", "-c", "echo hello; exit 3"]);
      assert.ok(got.createdAt instanceof Date);
      if (d.runtime.options) assert.equal(got.runtime.options?.typeUrl, "containerd.runc.v1.Options");

      await makeContainer("c-other", ["true"]);
      const byLabel = await containers.list([`labels."berth.test"==c-hello`]);
      assert.deepEqual(
        byLabel.map((c) => c.id),
        ["c-hello"],
      );
      assert.deepEqual((await containers.list()).map((c) => c.id).sort(), ["c-hello", "c-other"]);
      await removeContainer("c-other");

      const labelled = await containers.update("c-hello", { setLabels: { extra: "1" } });
      assert.deepEqual(labelled.labels, { "berth.test": "c-hello", extra: "1" });
      const spec = got.spec as { hostname: string };
      const respecced = await containers.update("c-hello", { spec: { ...spec, hostname: "renamed" } });
      assert.equal((respecced.spec as { hostname: string }).hostname, "renamed");
      const back = await containers.update("c-hello", { labels: { "berth.test": "c-hello" }, spec });
      assert.deepEqual(back.labels, { "berth.test": "c-hello" });
    });

    test("a task with fifos prints hello and exits 3; wait and delete give the status", {
      timeout: 30_000,
    }, async () => {
      const f = await fifos("c-hello");
      const out = readOutput(f.stdout!);
      const err = readOutput(f.stderr!);
      const pid = await startTask("c-hello", f);
      assert.equal((await out).text, "hello\n");
      assert.equal((await err).text, "");
      const exit = await tasks.wait("c-hello");
      assert.equal(exit.exitStatus, 3);
      assert.ok(exit.exitedAt instanceof Date);
      assert.equal((await tasks.get("c-hello")).status, "stopped");
      const deleted = await tasks.delete("c-hello");
      assert.equal(deleted.exitStatus, 3);
      assert.equal(deleted.pid, pid);
      await log.waitFor("create", (e) => e.type === "create" && e.containerId === "c-hello" && e.pid === pid);
      await log.waitFor("start", (e) => e.type === "start" && e.containerId === "c-hello" && e.pid === pid);
      await log.waitFor("exit 3", (e) => e.type === "exit" && e.containerId === "c-hello" && e.exitStatus === 3);
      await log.waitFor("delete", (e) => e.type === "delete" && e.containerId === "c-hello" && e.exitStatus === 3);
      await removeContainer("c-hello");
      await f.close();
      assert.equal(existsSync(f.dir), false, "the fifos are gone");
    });

    test("exec with output, stdin and a terminal, usage, pids, pause/resume, metrics, an update, kill --all", {
      timeout: 60_000,
    }, async () => {
      await makeContainer("c-run", ["sleep", "1000"]);
      const initPid = await startTask("c-run", await fifos("c-run"));

      const ef = await fifos("c-run-e1");
      const eout = readOutput(ef.stdout!);
      await tasks.exec({
        containerId: "c-run",
        execId: "e1",
        process: processSpec({ args: ["sh", "-c", "echo from-exec; head -c 200000 /dev/zero > /big; exit 4"] }),
        io: ef.io,
      });
      await log.waitFor("exec-added", (e) => e.type === "exec-added" && e.execId === "e1");
      const execPid = await tasks.start("c-run", "e1");
      assert.equal((await eout).text, "from-exec\n");
      assert.equal((await tasks.wait("c-run", { execId: "e1" })).exitStatus, 4);
      await log.waitFor("exec-started", (e) => e.type === "exec-started" && e.execId === "e1" && e.pid === execPid);
      await log.waitFor("exec exit", (e) => e.type === "exit" && e.id === "e1" && e.exitStatus === 4);
      assert.equal((await tasks.deleteProcess("c-run", "e1")).exitStatus, 4);
      assert.ok((await snapshots.usage("c-run-snapshot")).size >= 200_000, "the writable layer holds /big");

      const sf = await fifos("c-run-e2", { stdin: true });
      const sout = readOutput(sf.stdout!);
      await tasks.exec({ containerId: "c-run", execId: "e2", process: processSpec({ args: ["cat"] }), io: sf.io });
      await tasks.start("c-run", "e2");
      sf.stdin!.write("piped through stdin\n");
      await sf.closeStdin();
      await tasks.closeStdin("c-run", "e2");
      assert.equal((await sout).text, "piped through stdin\n");
      assert.equal((await tasks.wait("c-run", { execId: "e2" })).exitStatus, 0);
      await tasks.deleteProcess("c-run", "e2");

      // An exec with a terminal of its own, resized by its exec id.
      const tf = await fifos("c-run-e3", { terminal: true });
      const tout = readOutput(tf.stdout!);
      const waitSize =
        'i=0; while [ "$(stty size)" != "20 50" ] && [ $i -lt 100 ]; do i=$((i+1)); sleep 0.1; done; echo "exec size $(stty size)"';
      await tasks.exec({
        containerId: "c-run",
        execId: "e3",
        process: processSpec({ args: ["sh", "-c", waitSize], terminal: true }),
        io: tf.io,
      });
      await tasks.start("c-run", "e3");
      await tasks.resizePty("c-run", { width: 50, height: 20 }, "e3");
      assert.equal((await tasks.wait("c-run", { execId: "e3" })).exitStatus, 0);
      assert.match((await tout).text, /exec size 20 50\r?\n/);
      await tasks.deleteProcess("c-run", "e3");

      const pids = await tasks.pids("c-run");
      assert.ok(
        pids.some((p) => p.pid === initPid),
        `pids ${JSON.stringify(pids)} include the init ${initPid}`,
      );

      await tasks.pause("c-run");
      assert.equal((await tasks.get("c-run")).status, "paused");
      assert.match(readFileSync(`/proc/${initPid}/status`, "utf8"), /^State:\s+[DST]/m);
      await log.waitFor("paused", (e) => e.type === "paused" && e.containerId === "c-run");
      await tasks.resume("c-run");
      assert.equal((await tasks.get("c-run")).status, "running");
      await log.waitFor("resumed", (e) => e.type === "resumed" && e.containerId === "c-run");

      const metrics = await tasks.metrics(["c-run"]);
      assert.equal(metrics.length, 1);
      assert.equal(metrics[0]!.id, "c-run");
      assert.match(metrics[0]!.data?.typeUrl ?? "", /io\.containerd\.cgroups\.v[12]\.Metrics$/);
      assert.ok((metrics[0]!.data?.value.length ?? 0) > 0);

      await tasks.update("c-run", { pids: { limit: 123 } });
      const pidsMax =
        hostCgroupVersion() === 1
          ? `/sys/fs/cgroup/pids${cgroup()}/c-run/pids.max`
          : `/sys/fs/cgroup${cgroup()}/c-run/pids.max`;
      assert.equal(readFileSync(pidsMax, "utf8").trim(), "123");

      await tasks.kill("c-run", "SIGKILL", { all: true });
      assert.equal((await tasks.wait("c-run")).exitStatus, 137);
      assert.equal((await tasks.delete("c-run")).exitStatus, 137);
      await removeContainer("c-run");
    });

    test("SIGTERM ends a task: its exit event says 143", { timeout: 30_000 }, async () => {
      await makeContainer("c-term", ["sleep", "1000"], { hostPid: true });
      await startTask("c-term", await fifos("c-term"));
      await tasks.kill("c-term", "TERM");
      assert.equal((await tasks.wait("c-term")).exitStatus, 143);
      await log.waitFor("exit 143", (e) => e.type === "exit" && e.containerId === "c-term" && e.exitStatus === 143);
      assert.equal((await tasks.delete("c-term")).exitStatus, 143);
      await removeContainer("c-term");
    });

    test("a terminal task gets the size resizePty gives it", { timeout: 30_000 }, async () => {
      // The shell waits until the size arrives (ResizePty comes after Start) and prints it.
      const script =
        'i=0; while [ "$(stty size)" != "33 101" ] && [ $i -lt 100 ]; do i=$((i+1)); sleep 0.1; done; echo "size $(stty size)"';
      await makeContainer("c-tty", ["sh", "-c", script], { terminal: true });
      const f = await fifos("c-tty", { terminal: true });
      assert.equal(f.io.stderr, "", "a terminal has no stderr fifo");
      const out = readOutput(f.stdout!);
      await startTask("c-tty", f);
      await tasks.resizePty("c-tty", { width: 101, height: 33 });
      assert.equal((await tasks.wait("c-tty")).exitStatus, 0);
      assert.match((await out).text, /size 33 101\r?\n/);
      await tasks.delete("c-tty");
      await removeContainer("c-tty");
    });

    test("stdout and stderr to a file:// log instead of fifos", { timeout: 30_000 }, async () => {
      await makeContainer("c-log", ["sh", "-c", "echo to-out; echo to-err >&2"]);
      const path = join(fifoParent, "c-log.log");
      await startTask("c-log", { stdout: fileLogUri(path), stderr: fileLogUri(path) });
      try {
        assert.equal((await tasks.wait("c-log")).exitStatus, 0);
        await tasks.delete("c-log");
        // The shim copies each stream into the file on its own: the last line may land a moment
        // after the exit.
        const lines = () => readFileSync(path, "utf8").split("\n").filter(Boolean).sort();
        for (let i = 0; i < 50 && lines().length < 2; i++) await new Promise((r) => setTimeout(r, 100));
        if (name === "berth-containerd") assert.deepEqual(lines(), ["to-err", "to-out"]);
        else {
          // containerd-shim-runc-v2 (1.6) sometimes loses the stderr line of a file:// log
          // (stdout's line always lands; seen in about 1 run of 3 on a loaded machine): the
          // reference's behaviour, recorded here rather than required of it.
          assert.ok(lines().includes("to-out"), `${lines()}`);
          assert.ok(
            lines().every((l) => l === "to-out" || l === "to-err"),
            `${lines()}`,
          );
        }
      } finally {
        await tasks.delete("c-log").catch(() => {});
        await rm(path, { force: true });
        await removeContainer("c-log");
      }
    });

    test("an OOM kill: the oom event and the exit with 137", { timeout: 60_000 }, async () => {
      await makeContainer("c-oom", ["sh", "-c", "x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done"], {
        memoryLimit: 32 << 20,
      });
      await startTask("c-oom", await fifos("c-oom"));
      assert.equal((await tasks.wait("c-oom")).exitStatus, 137);
      // containerd-shim-runc-v2 publishes the oom from its own watcher: it may come after the exit.
      await log.waitFor("oom", (e) => e.type === "oom" && e.containerId === "c-oom");
      await log.waitFor("exit 137", (e) => e.type === "exit" && e.containerId === "c-oom" && e.exitStatus === 137);
      await tasks.delete("c-oom");
      await removeContainer("c-oom");
    });

    test("unknown ids, duplicate ids and an oversized spec are refused with typed errors", {
      timeout: 30_000,
    }, async () => {
      await assert.rejects(
        containers.get("c-nope"),
        (e: Error) => e instanceof NotFoundError && /c-nope/.test(e.message),
      );
      await assert.rejects(
        tasks.start("c-nope"),
        (e: Error) => e instanceof NotFoundError && /task c-nope/.test(e.message),
      );
      await assert.rejects(
        tasks.kill("c-nope", 9),
        (e: Error) => e instanceof NotFoundError && /c-nope/.test(e.message),
      );
      await assert.rejects(
        tasks.delete("c-nope"),
        (e: Error) => e instanceof NotFoundError && /c-nope/.test(e.message),
      );
      await assert.rejects(containers.delete("c-nope"), (e: Error) => e instanceof NotFoundError);

      await makeContainer("c-dup", ["true"]);
      await assert.rejects(
        containers.create({ id: "c-dup", runtime: d.runtime, spec: {} }),
        (e: Error) => e instanceof AlreadyExistsError && /container c-dup/.test(e.message),
      );
      await assert.rejects(
        conn.newContainer({ id: "c-dup", image: BUSYBOX_IMAGE, runtime: d.runtime, spec: {}, snapshotKey: "c-dup-2" }),
        AlreadyExistsError,
      );
      assert.equal(await snapshots.exists("c-dup-2"), false, "the refused container's snapshot is removed");
      await assert.rejects(
        conn.newContainer({ id: "c-noimage", image: "no/such:image", runtime: d.runtime, spec: {} }),
        (e: Error) => e instanceof NotFoundError && /image no\/such:image/.test(e.message),
      );
      await removeContainer("c-dup");

      const huge = {
        ...taskSpec({ args: ["true"], hostname: "h", cgroupsPath: "/x" }),
        pad: "x".repeat(MAX_SPEC_BYTES),
      };
      await assert.rejects(
        containers.create({ id: "c-huge", runtime: d.runtime, spec: huge }),
        (e: Error) => e instanceof InvalidArgumentError && /container c-huge: spec/.test(e.message),
      );
      await assert.rejects(containers.get("c-huge"), NotFoundError);
      await assert.rejects(tasks.exec({ containerId: "c-nope", execId: "x", process: huge }), InvalidArgumentError);
    });

    test("nothing is left: containers, tasks, snapshots, mounts, fifos", async () => {
      assert.deepEqual(await containers.list(), []);
      assert.deepEqual(await tasks.list(), []);
      for (const key of keys) assert.equal(await snapshots.exists(key), false, `snapshot ${key} is gone`);
      const mounts = readFileSync("/proc/self/mountinfo", "utf8")
        .split("\n")
        .filter((l) => l.includes(d.dir));
      assert.deepEqual(mounts, [], "no container rootfs is mounted");
      for (const f of fifoSets) await f.close();
      assert.deepEqual(readdirSync(fifoParent), [], "every fifo set is removed");
    });

    test("the event subscription ends with an UnavailableError when the daemon goes away", {
      timeout: 30_000,
    }, async () => {
      assert.equal(log.ended, undefined, "the subscription was open");
      await d.goAway();
      await Promise.race([log.done, sleep(15_000)]);
      const ended: unknown = log.ended;
      assert.ok(ended instanceof UnavailableError, `ended with ${String(ended)}`);
      assert.match(ended.message, /^events: /);
    });
  });
}
