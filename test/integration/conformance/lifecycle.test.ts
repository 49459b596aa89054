// Lifecycle: state after create/start/pause/exit/delete, kill by signal name and number, exit
// codes through `run`, delete of a running container, list and ps output, and bad inputs (exit
// code, a non-empty message, and nothing left in the state root).

import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type ConformanceCase,
  conformance,
  contains,
  formatFailure,
  formatResult,
  type Half,
  normalizeStateJson,
  waitForText,
} from "./harness.ts";

// Busy-waits in the shell so a TERM is handled promptly; pid 1 only gets signals it has handlers for.
const SERVER = `trap 'echo got TERM; exit 143' TERM; trap 'echo got USR1' USR1; echo ready; while :; do sleep 0.05; done`;

async function stateLine(h: Half, label: string): Promise<string> {
  const r = await h.rt.stateRaw(h.id);
  return `${label}: ${r.code === 0 ? normalizeStateJson(r.stdout) : formatFailure(r)}\n`;
}

async function leftInRoot(h: Half): Promise<string> {
  return `left in root: ${(await h.rt.ids()).join(",") || "nothing"}\n`;
}

/** Foreground `run` of SERVER, a `kill` with `signal` once it is ready, and run's exit code. */
function killCase(signal: string): ConformanceCase {
  return {
    name: `kill ${signal} during run`,
    async run(h) {
      const b = await h.bundle({ args: ["sh", "-c", SERVER] });
      const files = h.rt.outputFiles("run");
      const running = h.rt.run(h.id, b.dir, { files });
      await waitForText(async () => (await files.read()).stdout, "ready");
      const k = await h.rt.kill(h.id, signal);
      const r = await running;
      return `kill ${formatFailure(k)}\nrun ${formatResult(r)}${await leftInRoot(h)}`;
    },
  };
}

function exitCase(script: string, expected: number): ConformanceCase {
  return {
    name: `run propagates the exit code of: ${script}`,
    async run(h) {
      const b = await h.bundle({ args: ["sh", "-c", script] });
      return formatResult(await h.rt.run(h.id, b.dir));
    },
    check: contains(`exit=${expected}\n`),
  };
}

/** A bundle whose config.json is then replaced by `edit` (raw text, or deleted). */
function badBundleCase(name: string, edit: (configPath: string, h: Half) => Promise<void>): ConformanceCase {
  return {
    name: `bad input: ${name}`,
    async run(h) {
      const b = await h.bundle({ args: ["true"] });
      await edit(b.configPath, h);
      const c = await h.rt.createContainer(h.id, b.dir);
      return `create ${formatFailure(c.result)}\n${await stateLine(h, "state")}${await leftInRoot(h)}`;
    },
    check: contains("create exit=1 stderr=non-empty", "left in root: nothing"),
  };
}

const cases: ConformanceCase[] = [
  {
    name: "state through create, start, pause, resume, kill, delete",
    async run(h) {
      const b = await h.bundle({ args: ["sh", "-c", SERVER] });
      const c = await h.rt.createContainer(h.id, b.dir);
      let out = `create ${formatFailure(c.result)}\n${await stateLine(h, "after create")}`;
      out += `start ${formatFailure(await h.rt.start(h.id))}\n`;
      await waitForText(async () => (await c.output.read()).stdout, "ready");
      out += await stateLine(h, "after start");
      out += `start again ${formatFailure(await h.rt.start(h.id))}\n`;
      out += `pause ${formatFailure(await h.rt.exec(["pause", h.id]))}\n${await stateLine(h, "after pause")}`;
      out += `resume ${formatFailure(await h.rt.exec(["resume", h.id]))}\n${await stateLine(h, "after resume")}`;
      out += `kill USR1 ${formatFailure(await h.rt.kill(h.id, "USR1"))}\n`;
      await waitForText(async () => (await c.output.read()).stdout, "got USR1");
      out += `kill ${formatFailure(await h.rt.kill(h.id))}\n`;
      await h.rt.waitStatus(h.id, "stopped");
      out += await stateLine(h, "after exit");
      out += `kill stopped ${formatFailure(await h.rt.kill(h.id, "KILL"))}\n`;
      out += `delete ${formatFailure(await h.rt.delete(h.id))}\n${await stateLine(h, "after delete")}`;
      out += `output: ${JSON.stringify(await c.output.read())}\n${await leftInRoot(h)}`;
      return out;
    },
    check: contains('"status":"created"', '"status":"running"', '"status":"paused"', '"status":"stopped"', "got TERM"),
  },
  ...["KILL", "9", "SIGKILL", "TERM", "15", "SIGTERM"].map(killCase),
  exitCase("exit 7", 7),
  exitCase("exit 0", 0),
  exitCase("exit 255", 255),
  exitCase("sh -c 'kill -9 $$'; exit $?", 137),
  exitCase("/nonexistent-binary", 127),
  {
    name: "run of a missing binary (exec fails)",
    async run(h) {
      const b = await h.bundle({ args: ["/no/such/binary"] });
      return `${formatFailure(await h.rt.run(h.id, b.dir))}\n${await leftInRoot(h)}`;
    },
  },
  {
    name: "delete of a running container fails without --force",
    async run(h) {
      const b = await h.bundle({ args: ["sh", "-c", SERVER] });
      // runc deletes a created (not yet started) container without --force.
      await h.rt.createContainer(h.id, b.dir);
      let out = `delete created ${formatFailure(await h.rt.delete(h.id))}\n${await stateLine(h, "state")}`;
      const c = await h.rt.createContainer(h.id, b.dir);
      out += `create again ${formatFailure(c.result)}\n`;
      await h.rt.start(h.id);
      await waitForText(async () => (await c.output.read()).stdout, "ready");
      out += `delete running ${formatFailure(await h.rt.delete(h.id))}\n${await stateLine(h, "state")}`;
      out += `delete --force ${formatFailure(await h.rt.delete(h.id, { force: true }))}\n`;
      out += `${await stateLine(h, "state")}${await leftInRoot(h)}`;
      return out;
    },
  },
  {
    name: "list and ps",
    async run(h) {
      // A stable set of processes (sh and two sleeps): a loop of short sleeps would make the
      // ps row count a race.
      const b = await h.bundle({ args: ["sh", "-c", "sleep 100 & sleep 100 & echo ready; wait"] });
      const c = await h.rt.createContainer(h.id, b.dir);
      await h.rt.start(h.id);
      await waitForText(async () => (await c.output.read()).stdout, "ready");
      const list = await h.rt.exec(["list", "--format", "json"]);
      const entries = (JSON.parse(list.stdout) as Record<string, unknown>[]).map((e) =>
        normalizeStateJson(JSON.stringify(e)),
      );
      let out = `list ${formatFailure(list)}\n${entries.join("\n")}\n`;
      const table = await h.rt.exec(["list"]);
      out += `list table header: ${table.stdout.split("\n")[0]?.split(/\s+/).join(" ")}\n`;
      out += `list -q: ${(await h.rt.exec(["list", "-q"])).stdout}`;
      const ps = await h.rt.exec(["ps", "--format", "json", h.id]);
      out += `ps json ${formatFailure(ps)}: ${ps.code === 0 ? `${(JSON.parse(ps.stdout) as number[]).length} pids` : ""}\n`;
      const pst = await h.rt.exec(["ps", h.id]);
      out += `ps table header: ${pst.stdout.split("\n")[0]?.trim().split(/\s+/).join(" ")} rows=${pst.stdout.trim().split("\n").length - 1}\n`;
      await h.rt.kill(h.id, "KILL");
      await h.rt.waitStatus(h.id, "stopped");
      out += `ps stopped ${formatFailure(await h.rt.exec(["ps", "--format", "json", h.id]))}\n`;
      await h.rt.delete(h.id);
      out += `list empty: ${JSON.stringify((await h.rt.exec(["list", "--format", "json"])).stdout.trim())}\n`;
      return out;
    },
    check: contains('"status":"running"', "ps json exit=0 stderr=empty: 3 pids"),
  },
  badBundleCase("missing config.json", (p) => rm(p)),
  badBundleCase("invalid JSON", (p) => writeFile(p, "{ not json")),
  badBundleCase("unknown namespace type", async (p) => {
    const spec = JSON.parse(await readFile(p, "utf8")) as { linux: { namespaces: { type: string }[] } };
    spec.linux.namespaces.push({ type: "bogus" });
    await writeFile(p, JSON.stringify(spec));
  }),
  badBundleCase("missing rootfs", async (p) => {
    await rm(join(p, "../rootfs"), { recursive: true });
  }),
  badBundleCase("process.args empty", async (p) => {
    const spec = JSON.parse(await readFile(p, "utf8")) as { process: { args: string[] } };
    spec.process.args = [];
    await writeFile(p, JSON.stringify(spec));
  }),
  {
    name: "bad input: duplicate id on create",
    async run(h) {
      const b = await h.bundle({ args: ["true"] });
      const first = await h.rt.createContainer(h.id, b.dir);
      const second = await h.rt.createContainer(h.id, b.dir);
      let out = `first ${formatFailure(first.result)}\nsecond ${formatFailure(second.result)}\n`;
      out += `${await stateLine(h, "state")}${await leftInRoot(h)}`;
      return out;
    },
    check: contains("first exit=0", "second exit=1 stderr=non-empty", '"status":"created"'),
  },
  {
    name: "bad input: commands on a container that does not exist",
    async run(h) {
      let out = "";
      for (const args of [
        ["state"],
        ["start"],
        ["kill"],
        ["kill", "--all"],
        ["delete"],
        ["pause"],
        ["resume"],
        ["ps"],
      ]) {
        const r = await h.rt.exec([...args, h.id]);
        out += `${args.join(" ")}: ${formatFailure(r)}\n`;
      }
      out += `delete --force: ${formatFailure(await h.rt.delete(h.id, { force: true }))}\n`;
      return out + (await leftInRoot(h));
    },
  },
  {
    name: "bad input: invalid container ids and signals",
    async run(h) {
      const b = await h.bundle({ args: ["sh", "-c", SERVER] });
      let out = "";
      for (const id of ["../escape", "a/b", ""]) {
        out += `create ${JSON.stringify(id)}: ${formatFailure((await h.rt.createContainer(id, b.dir)).result)}\n`;
      }
      const c = await h.rt.createContainer(h.id, b.dir);
      out += `create ok: ${formatFailure(c.result)}\n`;
      for (const sig of ["NOTASIGNAL", "SIGNOPE", "-1", "99"]) {
        out += `kill ${sig}: ${formatFailure(await h.rt.kill(h.id, sig))}\n`;
      }
      await h.rt.delete(h.id, { force: true });
      return out + (await leftInRoot(h));
    },
  },
  {
    name: "create with --pid-file",
    async run(h) {
      const b = await h.bundle({ args: ["true"] });
      const pidFile = join(h.scratch, "pid");
      await mkdir(h.scratch, { recursive: true });
      const c = await h.rt.createContainer(h.id, b.dir, { extraArgs: ["--pid-file", pidFile] });
      const st = await h.rt.state(h.id);
      const pid = await readFile(pidFile, "utf8").catch(() => "missing");
      await h.rt.delete(h.id, { force: true });
      return `create ${formatFailure(c.result)}\npid file matches state: ${String(st?.pid) === pid.trim()}\n`;
    },
    check: contains("pid file matches state: true"),
  },
];

conformance("lifecycle", cases);
