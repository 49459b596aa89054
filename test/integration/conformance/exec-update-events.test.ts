// exec, update and events --stats, compared between runc and berth-runc on running containers.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type ConformanceCase,
  conformance,
  contains,
  formatFailure,
  formatResult,
  type Half,
  waitForText,
} from "./harness.ts";

// A stable process set (sh and one sleep): counts of processes must not race a loop.
const IDLE = "echo ready; sleep 1000 & wait";

/** A running container whose cgroup is private to the case; returns after it printed "ready". */
async function running(h: Half): Promise<void> {
  const b = await h.bundle({
    args: ["sh", "-c", IDLE],
    spec: (s) => {
      s.linux!.cgroupsPath = `/berth-conformance-${h.id}`;
      s.process!.env = [...(s.process!.env ?? []), "FROM_SPEC=1"];
    },
  });
  const c = await h.rt.createContainer(h.id, b.dir);
  if (c.result.code !== 0) throw new Error(`create failed: ${c.result.stderr}`);
  h.defer(() => h.rt.delete(h.id, { force: true }));
  await h.rt.start(h.id);
  await waitForText(async () => (await c.output.read()).stdout, "ready");
}

const exec = (h: Half, args: string[]) => h.rt.exec(["exec", ...args]);

const cases: ConformanceCase[] = [
  {
    name: "exec: output, exit codes, namespaces shared with the init",
    async run(h) {
      await running(h);
      let out = `echo ${formatResult(await exec(h, [h.id, "echo", "hi"]))}`;
      out += `exit 3 ${formatResult(await exec(h, [h.id, "sh", "-c", "exit 3"]))}`;
      out += `pid ns ${formatResult(await exec(h, [h.id, "sh", "-c", "[ -d /proc/1 ] && cat /proc/1/cmdline | tr '\\0' ' '; echo"]))}`;
      out += `hostname ${formatResult(await exec(h, [h.id, "hostname"]))}`;
      out += `missing ${formatFailure(await exec(h, [h.id, "/no/such/binary"]))}\n`;
      out += `no args ${formatFailure(await exec(h, [h.id]))}\n`;
      out += `unknown container ${formatFailure(await exec(h, ["nope-" + h.id, "true"]))}\n`;
      return out;
    },
    check: contains("echo exit=0\nhi", "exit 3 exit=3", "sh -c echo ready; sleep 1000", "missing exit="),
  },
  {
    name: "exec: env, cwd, user and the spec's environment",
    async run(h) {
      await running(h);
      let out = `env ${formatResult(await exec(h, ["--env", "X=1", h.id, "sh", "-c", "echo X=$X FROM_SPEC=$FROM_SPEC"]))}`;
      out += `cwd ${formatResult(await exec(h, ["--cwd", "/tmp", h.id, "pwd"]))}`;
      out += `user ${formatResult(await exec(h, ["--user", "1000:1000", h.id, "id"]))}`;
      out += `caps ${formatResult(await exec(h, [h.id, "sh", "-c", "grep -E 'Cap(Eff|Bnd)' /proc/self/status"]))}`;
      return out;
    },
    check: contains("X=1 FROM_SPEC=1", "cwd exit=0\n/tmp", "uid=1000"),
  },
  {
    name: "exec --process process.json and --detach with --pid-file",
    async run(h) {
      await running(h);
      const proc = join(h.scratch, "process.json");
      await writeFile(
        proc,
        JSON.stringify({
          args: ["sh", "-c", "echo from process.json; exit 4"],
          cwd: "/",
          user: { uid: 0, gid: 0 },
          env: ["PATH=/bin"],
        }),
      );
      let out = `process.json ${formatResult(await exec(h, ["--process", proc, h.id]))}`;
      const pidFile = join(h.scratch, "exec.pid");
      out += `detach ${formatResult(await exec(h, ["--detach", "--pid-file", pidFile, h.id, "sleep", "30"]))}`;
      const ps = await h.rt.exec(["ps", "--format", "json", h.id]);
      out += `ps after detach: ${(JSON.parse(ps.stdout) as number[]).length} pids\n`;
      return out;
    },
    check: contains("from process.json", "process.json exit=4", "detach exit=0"),
  },
  {
    name: "update: memory, pids and cpu limits reach the cgroup",
    async run(h) {
      await running(h);
      let out = `update ${formatFailure(await h.rt.exec(["update", "--memory", "67108864", "--pids-limit", "50", "--cpu-quota", "50000", "--cpu-period", "100000", h.id]))}\n`;
      const read =
        "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max";
      out += `inside ${formatResult(await exec(h, [h.id, "sh", "-c", read]))}`;
      const r = join(h.scratch, "resources.json");
      await writeFile(r, JSON.stringify({ memory: { limit: 134217728 }, pids: { limit: 60 } }));
      out += `update -r ${formatFailure(await h.rt.exec(["update", "--resources", r, h.id]))}\n`;
      out += `inside ${formatResult(await exec(h, [h.id, "sh", "-c", read]))}`;
      out += `bad value ${formatFailure(await h.rt.exec(["update", "--memory", "lots", h.id]))}\n`;
      return out;
    },
    check: contains("67108864", "50\n", "134217728", "60\n"),
  },
  {
    name: "events --stats: one stats event with the cgroup's numbers",
    async run(h) {
      await running(h);
      await h.rt.exec(["update", "--pids-limit", "77", h.id]);
      const r = await h.rt.exec(["events", "--stats", h.id]);
      const ev = JSON.parse(r.stdout) as { type: string; id: string; data: Record<string, Record<string, unknown>> };
      const memory = ev.data.memory as { usage?: { usage?: number } } | undefined;
      return [
        `exit=${r.code} type=${ev.type} id=${ev.id === h.id ? "<ID>" : ev.id}`,
        `sections: ${Object.keys(ev.data).sort().join(",")}`,
        `pids: ${JSON.stringify(ev.data.pids)}`,
        `memory usage > 0: ${(memory?.usage?.usage ?? 0) > 0}`,
        `cpu usage keys: ${Object.keys((ev.data.cpu as { usage: object }).usage)
          .sort()
          .join(",")}`,
      ].join("\n");
    },
    check: contains("type=stats", '"limit":77'),
  },
];

conformance("exec, update, events", cases);

const moreCases: ConformanceCase[] = [
  {
    name: "events --interval: a stats event per interval until the container stops",
    async run(h) {
      await running(h);
      const out = join(h.scratch, "events.out");
      const { spawn } = await import("node:child_process");
      const { openSync, closeSync, readFileSync } = await import("node:fs");
      const fd = openSync(out, "w");
      const ev = spawn(h.rt.bin, ["--root", h.rt.root, "events", "--interval", "100ms", h.id], {
        stdio: ["ignore", fd, "ignore"],
      });
      const exited = new Promise<number | null>((resolve) => ev.on("exit", resolve));
      await new Promise((r) => setTimeout(r, 700));
      await h.rt.kill(h.id, "KILL");
      const code = await Promise.race([
        exited,
        new Promise<string>((r) => setTimeout(() => r("still running"), 2_000)),
      ]);
      if (code === "still running") ev.kill("SIGKILL");
      closeSync(fd);
      const lines = readFileSync(out, "utf8").trim().split("\n").filter(Boolean);
      const types = new Set(lines.map((l) => (JSON.parse(l) as { type: string }).type));
      // Whether the loop ends by itself is not compared: runc 1.1's keeps polling a stopped
      // container; berth-runc's ends once the container has stopped.
      void code;
      return `at least 3 events: ${lines.length >= 3}\ntypes: ${[...types].join(",")}\n`;
    },
    check: contains("at least 3 events: true", "types: stats"),
  },
  {
    name: "--no-pivot and --no-new-keyring",
    async run(h) {
      const show = (r: { code: number; stdout: string }) => `exit=${r.code} ${r.stdout.trim().split("\n").join(" | ")}`;
      let out = "";
      for (const [label, suffix, flags] of [
        ["default", "a", []],
        ["no-pivot", "b", ["--no-pivot"]],
        ["no-new-keyring", "c", ["--no-new-keyring"]],
      ] as const) {
        const id = `${h.id}-${suffix}`;
        const b = await h.bundle({
          // Its own session keyring, found by exact name (a new one is named after the container;
          // keyrings of finished containers linger until the kernel collects them), and whether "/" is
          // the bundle's rootfs (mountinfo shows the path inside its filesystem, which varies).
          args: [
            "sh",
            "-c",
            `echo "own keyring: $(grep -c '_ses\\.${id}:' /proc/keys)"; awk '$5 == "/" {print ($4 ~ /\\/rootfs$/) ? "root: the bundle rootfs" : "root: " $4}' /proc/self/mountinfo`,
          ],
          spec: (s) => {
            // /proc/keys is masked by default.
            s.linux!.maskedPaths = (s.linux!.maskedPaths ?? []).filter((p) => p !== "/proc/keys");
          },
        });
        out += `${label}: ${show(await h.rt.run(id, b.dir, { extraArgs: [...flags] }))}\n`;
      }
      return out;
    },
    check: contains(
      "default: exit=0 own keyring: 1",
      "no-pivot: exit=0 own keyring: 1",
      "no-new-keyring: exit=0 own keyring: 0",
    ),
  },
];

conformance("events loop, pivot and keyring flags", moreCases);
