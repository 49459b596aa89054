// docker-py (the Python Docker SDK) against berthd: clients/docker_py_scenario.py, a user's session
// of 78 checks (ping/version/info; images list/get/tag/remove; containers run detached, list
// with filters, get, inspect's shapes, logs plain, streamed, followed, with timestamps and tail,
// exec_run with exit codes, demux, workdir, env, user and streaming, top, pause, stop, wait,
// remove, run --rm, ContainerError, create+start, rename, kill, prune, commit), with every docker-py this machine
// has: the machine's python3 (docker 7.1 from pip where the image ships it) and Debian's
// python3-docker 5.0 (/usr/bin/python3, installed by scripts/setup.sh). The same script passes
// against Debian's dockerd 20.10 first, so a check that berthd fails is berthd's difference, not
// the script's. Nothing is pulled; afterwards neither daemon has a container left.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, test } from "node:test";
import { outputOf } from "../helpers/berth-containerd.ts";
import { httpOn } from "../helpers/berthd.ts";
import { bothDaemons, containersLeft, dockerdSkipReason, IMAGE, skipReason, type Target } from "./clients/daemons.ts";

const SCRIPT = join(import.meta.dirname, "clients", "docker_py_scenario.py");

/** The pythons that can import docker, one per interpreter, with docker-py's version. */
function pythonsWithDockerPy(): { python: string; version: string }[] {
  const seen = new Map<string, { python: string; version: string }>();
  for (const python of ["python3", "/usr/bin/python3"]) {
    const r = spawnSync(
      python,
      ["-c", "import docker, os, sys; print(docker.__version__, os.path.realpath(sys.executable))"],
      {
        encoding: "utf8",
      },
    );
    if (r.status !== 0) continue;
    const [version, exe] = r.stdout.trim().split(" ");
    if (!seen.has(exe!)) seen.set(exe!, { python, version: version! });
  }
  return [...seen.values()];
}

const pythons = pythonsWithDockerPy();
const skip =
  skipReason ??
  (pythons.length === 0 ? "no python3 with docker-py (scripts/setup.sh installs python3-docker)" : undefined);

interface Summary {
  docker_py: string;
  api: string;
  checks: number;
}

async function scenario(python: string, target: Target, prefix: string): Promise<Summary> {
  const child = spawn(python, [SCRIPT, target.socket, IMAGE, prefix], {
    stdio: ["ignore", "pipe", "pipe"],
    // No user's docker config or DOCKER_HOST steers the client: it gets the socket it is given.
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: target.dir,
      DOCKER_CONFIG: join(target.dir, "client-config"),
    },
    timeout: 180_000,
  });
  const r = await outputOf(child);
  assert.equal(r.status, 0, `${python} against ${target.name}:\n${r.stdout.slice(-2000)}\n${r.stderr}`);
  const last = r.stdout.trim().split("\n").at(-1)!;
  return JSON.parse(last) as Summary;
}

describe("docker-py drives berthd as it drives dockerd", { skip }, () => {
  const daemons = bothDaemons();
  const expected = new Map<string, number>();

  for (const { python, version } of pythons) {
    test(`docker-py ${version} (${python}) against dockerd 20.10: the scenario itself holds`, {
      skip: dockerdSkipReason,
    }, async () => {
      const s = await scenario(python, daemons.dockerd()!, "dpy-ref");
      assert.equal(s.api, "1.41", "docker-py took dockerd's API version");
      expected.set(python, s.checks);
      assert.deepEqual(await containersLeft(daemons.dockerd()!), []);
    });

    test(`docker-py ${version} (${python}) against berthd`, async () => {
      const s = await scenario(python, daemons.berthd(), "dpy");
      assert.equal(s.docker_py, version);
      const ours = JSON.parse((await httpOn(daemons.berthd().socket, "GET", "/version")).body) as {
        ApiVersion: string;
      };
      assert.equal(s.api, ours.ApiVersion, "docker-py negotiated berthd's API version");
      if (expected.has(python)) assert.equal(s.checks, expected.get(python), "as many checks as against dockerd");
      assert.ok(s.checks >= 60, `${s.checks} checks`);
      assert.deepEqual(await containersLeft(daemons.berthd()), [], "nothing left");
    });
  }
});
