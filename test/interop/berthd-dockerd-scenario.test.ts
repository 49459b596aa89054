// One user's walk-through with the real docker CLI, step by step, on berthd and on Debian's
// dockerd 20.10 side by side (issue 14, Done means 1): log in to a registry on loopback, push,
// pull, look at images, run containers with the flags people use (and `-it` through a
// pseudo-terminal), watch them (ps, logs, attach, exec, top, stats, events), copy files both
// ways, change them (update, rename, pause, stop, start, restart, kill), commit one and run the
// result, save/load, export/import, prune, and ask the daemon about itself. Each step is a docker
// command run on both engines at once; what users see — exit code, stdout, stderr — must be the
// same once the step's normaliser has made ids, times, generated names and sizes comparable.
// The whole walk runs once with each docker client the machine has (CLI 28 and Debian's 20.10).
// The other berthd-dockerd-*.test.ts files check each area in detail; this file is the user's path.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DOCKER_CLI_20, DOCKER_CLI_28 } from "../helpers/berthd.ts";
import {
  ago,
  assertStep,
  type Ctx,
  columns,
  compose,
  describeArgs,
  dockerClient,
  jsonKeys,
  progress,
  runStep,
  type Step,
  sorted,
} from "../helpers/cli-scenario.ts";
import { type Engine, type EnginePair, pairSkip, startEnginePair, unixNow } from "../helpers/engine-pair.ts";
import { type LocalRegistry, startRegistry } from "../helpers/local-registry.ts";
import * as shared from "../helpers/scenario-steps.ts";

const CLIENTS = [DOCKER_CLI_28, DOCKER_CLI_20].filter((c) => existsSync(c));
const skip = pairSkip(["/usr/bin/docker-registry", "/usr/bin/htpasswd", "/usr/bin/script"]);

// ---- where berthd and dockerd 20.10 legitimately show different things, and why

/**
 * dockerd 20.10 keeps the digest reference a push or pull made as a name of its own and reports
 * untagging it with the repository's last tag; berthd, like dockerd's containerd image store,
 * derives RepoDigests from the tags' targets and has no such name to untag.
 */
const digestNames = (s: string) => s.replace(/^Untagged: \S+@sha256:<id>\n/gm, "");
/**
 * dockerd 20.10 says nothing of the layers of an image whose config it already has (it skips
 * them); berthd reports each as "Already exists", as dockerd does for any other layer it has.
 */
const knownLayers = (s: string) => s.replace(/^<short>: Already exists\n/gm, "");
/** The runtime's own words around "executable file not found" (runc's through containerd's, berth-runc's). */
const notFound = (s: string) =>
  s.replace(
    /Error response from daemon: .*(exec: "[^"]*": executable file not found in \$PATH).*?(\.?)$/gm,
    "Error response from daemon: $1$2",
  );
/** dockerd 20.10's 404 for an image says it twice ("no such image: X: No such image: X"); berthd as dockerd 23+. */
const noSuchImage = (s: string) => s.replace(/no such image: (\S+): No such image: \1/g, "No such image: $1");
// ---- the walk

const WALK: [string, Step[]][] = [
  [
    "a registry: login, push, pull",
    [
      ...shared.login,
      ...shared.tagAndPush,
      { args: (c) => ["rmi", `${c.reg}/scn-${c.e.name}:1`], norm: digestNames, expect: { stdout: /Untagged/ } },
      {
        args: (c) => ["pull", `${c.reg}/scn-${c.e.name}:1`],
        norm: compose(progress, knownLayers),
        expect: { status: 0, stdout: /Status: Downloaded newer image/ },
      },
      { args: (c) => ["image", "inspect", "-f", "{{json .RepoTags}}", `${c.reg}/scn-${c.e.name}:1`] },
      { args: (c) => ["rmi", `${c.reg}/scn-${c.e.name}:1`], norm: digestNames },
      {
        args: ["pull", "127.0.0.1:1/nothing:here"],
        norm: shared.unreachable,
        expect: { status: 1, stderr: /unreachable/ },
      },
    ],
  ],
  [
    "images: list, tag, history, inspect",
    [
      { args: ["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"], norm: sorted },
      { args: ["tag", "busybox", "scn:1"] },
      {
        args: ["images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", "reference=scn"],
        expect: { stdout: "scn:1\n" },
      },
      shared.historyCreatedBy,
      {
        args: [
          "image",
          "inspect",
          "-f",
          "{{.Id}} {{json .RepoTags}} {{json .Config.Cmd}} {{.Os}}/{{.Architecture}}",
          "scn:1",
        ],
      },
      { args: ["image", "inspect", "nosuch:1"], norm: noSuchImage, expect: { status: 1 } },
    ],
  ],
  [
    "run: the flags people use",
    [
      shared.runHello,
      { args: ["run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3"], expect: { status: 3 } },
      shared.runEnvWorkdirUser,
      shared.runBind,
      ...shared.runReadOnlyInit,
      {
        args: [
          "run",
          "-d",
          "--name",
          "limits",
          "--memory",
          "64m",
          "--pids-limit",
          "64",
          "--restart",
          "on-failure:2",
          "-l",
          "app=scn",
          "busybox",
          "sleep",
          "600",
        ],
      },
      {
        args: [
          "inspect",
          "-f",
          "{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} {{json .HostConfig.RestartPolicy}} {{json .Config.Labels}}",
          "limits",
        ],
      },
      ...shared.runHealthy,
      { args: ["run", "--rm", "busybox", "no-such-command"], norm: notFound, expect: { status: 127 } },
      shared.runUnreachable,
    ],
  ],
  [
    "run -it: a shell at a terminal",
    [
      {
        args: ["run", "-it", "--rm", "busybox", "sh"],
        pty: [
          { expect: /# $/, send: "echo $((6 * 7)); tty\r" },
          { expect: /42\s+\/dev\/pts\/0\s+\/ # $/, send: "exit 3\r" },
        ],
        expect: { status: 3, stdout: /42\n\/dev\/pts\/0\n/ },
      },
    ],
  ],
  [
    "a service: ps, logs, attach, exec, top, stats",
    [
      ...shared.startService,
      { args: ["ps", "--format", "{{.Names}} {{.Image}} {{.Command}} {{.Status}}"], norm: compose(ago, sorted) },
      ...shared.psFilters,
      { args: ["ps", "-a", "--filter", "status=exited", "--format", "{{.Names}}"] },
      {
        args: ["exec", "web", "sh", "-c", "echo via-exec; echo to-err >&2; exit 4"],
        expect: { status: 4, stdout: "via-exec\n" },
      },
      ...shared.execEnvInput,
      { args: ["exec", "web", "sh", "-c", "echo one; echo two; echo three"] },
      shared.topLimits,
      shared.statsWeb,
      ...shared.attachAndLogs,
      { args: ["logs", "--since", "10m", "lg"], expect: { stdout: /line 1\n/ } },
      shared.logsFollowExited,
      { args: ["create", "--name", "later", "-e", "WHO=created", "busybox", "sh", "-c", "echo $WHO; exit 2"] },
      shared.startAttached,
      shared.rmLater,
      { args: () => ["logs", "--since", String(Math.floor(Date.now() / 1000) + 1), "lg"], expect: { stdout: "" } },
    ],
  ],
  [
    "files: cp both ways, diff, export and import",
    [
      { args: (c) => ["cp", join(c.dir, "bind", "on-host"), "web:/tmp/copied-in"] },
      ...shared.cpAndDiff,
      { args: (c) => ["export", "-o", join(c.dir, "web.tar"), "web"] },
      ...shared.importAndRun,
    ],
  ],
  [
    "changes: update, rename, pause, stop, start, restart, kill, wait, rm",
    [
      shared.updateWeb,
      {
        args: [
          "inspect",
          "-f",
          "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.RestartPolicy.Name}}",
          "web",
        ],
      },
      { args: ["rename", "web", "web2"] },
      shared.pauseWeb2,
      { args: ["ps", "--filter", "status=paused", "--format", "{{.Names}} {{.Status}}"], norm: ago },
      shared.execPaused,
      { args: ["unpause", "web2"] },
      ...shared.stopWeb2,
      { args: ["start", "web2"] },
      { args: ["restart", "-t", "5", "web2"] },
      ...shared.restartedWeb2,
      { args: ["kill", "-s", "USR1", "web2"] },
      ...shared.killAndWait,
      ...shared.rmWeb2,
    ],
  ],
  [
    "images from containers: commit, save, load, rmi, prune",
    [
      ...shared.commitAndRun,
      {
        args: ["image", "inspect", "-f", "{{json .Config.Cmd}} {{.Comment}} {{len .RootFS.Layers}}", "made:1"],
        expect: { stdout: '["cat","/made"] by the scenario 2\n' },
      },
      ...shared.saveLoadRmi,
      ...shared.prune,
      { args: ["ps", "-a", "--format", "{{.Names}}"], norm: sorted, expect: { stdout: "\n" } },
      { args: ["rmi", "made:1", "imported:1", "scn:1"], norm: shared.releasedLayers },
      { args: ["images", "-q"], expect: { stdout: "" } },
    ],
  ],
  [
    "the daemon: version, info, events, system df",
    [
      { args: ["version", "--format", "{{.Server.Os}}/{{.Server.Arch}}"] },
      { args: ["version", "--format", "{{json .Server}}"], norm: jsonKeys },
      {
        args: [
          "info",
          "--format",
          "{{.OSType}} {{.Architecture}} {{.CgroupDriver}} {{.CgroupVersion}} {{.NCPU}} {{.MemTotal}}",
        ],
      },
      {
        args: [
          "info",
          "--format",
          "{{.Containers}} {{.ContainersRunning}} {{.ContainersPaused}} {{.ContainersStopped}}",
        ],
      },
      shared.eventsOfLg,
      {
        args: (c) => [
          "events",
          "--since",
          c.t0,
          "--until",
          unixNow(),
          "--filter",
          "container=web2",
          "--filter",
          "event=kill",
          "--format",
          "{{.Action}} {{.Actor.Attributes.signal}}",
        ],
      },
      { args: ["system", "df"], norm: columns(0, 1, 2) },
    ],
  ],
];

// The walks of the two clients run at the same time, each on a pair of its own: the file's wall
// time is one walk's, not two.
describe("a user's walk: berthd beside dockerd 20.10", { skip, concurrency: true }, () => {
  for (const cli of CLIENTS) {
    describe(`with docker ${cli}`, { concurrency: false }, () => {
      let pair: EnginePair;
      let registry: LocalRegistry;
      const ctx = new Map<Engine, Ctx>();

      before(async () => {
        pair = await startEnginePair(cli);
        registry = await startRegistry({ auth: "htpasswd" });
        const t0 = unixNow();
        for (const e of pair.engines) {
          const dir = join(e.dir, "walk");
          mkdirSync(join(dir, "bind"), { recursive: true });
          writeFileSync(join(dir, "bind", "on-host"), "from the host\n");
          ctx.set(e, { e, dir, reg: registry.host, password: registry.password, t0 });
        }
      });
      after(async () => {
        await registry?.stop();
        await pair?.cleanup();
      });

      for (const [chapter, steps] of WALK) {
        describe(chapter, { concurrency: false }, () => {
          for (const s of steps) {
            const title = describeArgs(s);
            test(title, { todo: s.todo }, async () => {
              const client = dockerClient(cli);
              const [ref, ours] = await Promise.all(pair.engines.map((e) => runStep(s, ctx.get(e)!, client)));
              assertStep(s, ours!, ref!, `docker ${title}`);
              for (const e of pair.engines) s.check?.(ctx.get(e)!);
            });
          }
        });
      }
    });
  }
});
