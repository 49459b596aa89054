// What berthd's side holds (bench/README.md "engine-run" measures how much): idle, only berthd and
// its berth-containerd run, with no berth-shim ahead of the first container (a spare shim is a
// whole Node process, ~18 MiB, that only buys the first `docker run` a started shim); the first
// container starts the namespace's shim and later ones join it. Both daemons run without V8's
// TurboFan, and berthd does not load Node's own undici, which an ES import of node:http would
// (scripts/build.mjs says why).
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type Berthd, berthdWithBusybox } from "../../helpers/berthd.ts";
import { pidsWithArgument } from "../../helpers/peers.ts";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const isRoot = process.getuid?.() === 0;

describe("berthd's footprint", { skip: isRoot ? false : "berthd runs as root" }, () => {
  let d: Berthd;
  let probeDir: string;
  let probe: string;
  before(async () => {
    // Each Node process of the side writes the builtins it loaded to <probe>.<pid> a second after
    // start-up (NODE_OPTIONS reaches berthd, its berth-containerd and their shims).
    probeDir = mkdtempSync(join(tmpdir(), "berth-footprint-"));
    probe = join(probeDir, "loaded");
    writeFileSync(
      `${probe}.mjs`,
      `import { writeFileSync } from "node:fs";\nsetTimeout(() => writeFileSync(\`${probe}.\${process.pid}\`, process.moduleLoadList.join("\\n")), 1000).unref();\n`,
    );
    const before = process.env.NODE_OPTIONS;
    process.env.NODE_OPTIONS = `--import ${probe}.mjs`;
    try {
      d = await berthdWithBusybox();
    } finally {
      if (before === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = before;
    }
  });
  after(async () => {
    await d?.cleanup();
    if (probeDir) rmSync(probeDir, { recursive: true, force: true });
  });

  /** The berth-shims of d's berth-containerd (their argv holds its address; so does its own). */
  const shims = () =>
    pidsWithArgument(join(d.execRoot, "containerd", "containerd.sock")).filter((pid) => pid !== d.containerdPid());

  test("no berth-shim runs before the first container; the first starts one, the next joins it", async () => {
    // A spare was started right after the daemon's start-up: give one the time it would take.
    await sleep(2000);
    assert.deepEqual(shims(), [], "a berth-shim runs with no container yet");

    const first = await d.docker(["run", "--rm", "--network", "none", "busybox", "echo", "first"]);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.stdout, "first\n");
    const warm = shims();
    assert.equal(warm.length, 1, `shims after the first container: ${warm}`);

    const second = await d.docker(["run", "--rm", "--network", "none", "busybox", "echo", "second"]);
    assert.equal(second.status, 0, second.stderr);
    assert.equal(second.stdout, "second\n");
    assert.deepEqual(shims(), warm, "the second container did not join the warm shim (or a spare was started)");
  });

  test("berthd and its berth-containerd run without TurboFan, with a 1 MiB young generation", () => {
    const argv = (pid: number | undefined) => readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    for (const [name, pid] of [
      ["berthd", d.pid],
      ["berth-containerd", d.containerdPid()],
    ] as const) {
      const a = argv(pid);
      assert.ok(a.includes("--no-turbofan"), `${name}: ${a.join(" ")}`);
      assert.ok(a.includes("--max-semi-space-size=1"), `${name}: ${a.join(" ")}`);
    }
  });

  test("berthd does not load Node's own undici (node:http is required, not imported)", () => {
    const loaded = readFileSync(`${probe}.${d.pid}`, "utf8").split("\n");
    assert.ok(loaded.includes("NativeModule http"), "the probe saw no node:http: it did not run in berthd");
    assert.ok(!loaded.includes("NativeModule internal/deps/undici/undici"), "berthd loaded Node's undici");
  });
});
