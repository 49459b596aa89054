// One user's walk with `berth` (issue 15, Done means 1): every command berth has, run on Debian's
// dockerd 20.10 and on berthd, each step compared with what the real docker CLI prints for the
// same state. The same state: two worlds walk in step, each a dockerd and a berthd of its own
// (engine-pair.ts); in one the docker CLI types each command, in the other berth does, so a step
// that changes things (run -d --name web, rename, rm) changes both worlds alike. On each daemon,
// berth's exit code, stdout and stderr must be docker's once the step's normaliser has made ids,
// times, sizes and each program's own name comparable; some steps also assert the value, so two
// equal wrong answers fail. A command berth does not have yet (not in its command registry) makes
// its step todo, naming the command; in berth's world the docker CLI stands in for that step, so
// the state the next steps find is the same in both worlds.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { lookup } from "../../src/cli/commands/registry.ts";
import { writeImageArchive } from "../fixtures/oci-image.ts";
import { DOCKER_CLI, DOCKER_CLI_20, NEEDS_CLI_28 } from "../helpers/berthd.ts";
import {
  ago,
  assertStep,
  type Client,
  type Ctx,
  columns,
  compose,
  describeArgs,
  dockerClient,
  progress,
  runStep,
  type Step,
  sizes,
  sorted,
  times,
} from "../helpers/cli-scenario.ts";
import { type Engine, type EnginePair, pairSkip, startEnginePair, unixNow } from "../helpers/engine-pair.ts";
import { type LocalRegistry, seedImage, startRegistry } from "../helpers/local-registry.ts";
import * as shared from "../helpers/scenario-steps.ts";

/** dist/berth.mjs as users run it (BERTH_CLI names another entry, e.g. src/cli/main.ts). */
const BERTH = process.env.BERTH_CLI ?? join(import.meta.dirname, "..", "..", "dist", "berth.mjs");
const skip = pairSkip(["/usr/bin/docker-registry", "/usr/bin/htpasswd", "/usr/bin/script", "/usr/bin/skopeo", BERTH]);

/** berth pointed at the engine, with the docker client's config dir; with docker 20.10 as the reference it speaks 1.41 too. */
const berthClient: Client = {
  program: "berth",
  command: (e, args) => ({
    argv: [process.execPath, BERTH, "-H", `unix://${e.socket}`, ...args],
    env: {
      ...process.env,
      DOCKER_CONFIG: join(e.dir, "client-config-pair"),
      DOCKER_API_VERSION: DOCKER_CLI === DOCKER_CLI_20 ? "1.41" : "",
    },
  }),
};

interface CliStep extends Step {
  /** docker 20.10's client prints something else (a newer flag or format): compared only with CLI 28. */
  cli28?: boolean;
}

// ---- what legitimately differs between the docker CLI's and berth's answers

/** Each program names itself: "See 'docker run --help'.", "docker: Error ...", "Usage:  docker ...". */
const program = (s: string) =>
  s
    .replace(/(^|'|"|Usage:\s+|unknown command: )(docker|berth)(?![\w-])/gm, "$1<cli>")
    .replace(/\b(docker|berth) ([\w-]+ )?--help/g, "<cli> $2--help");
/**
 * The hint after a usage or run error: docker 28 adds a blank line, the usage line and "Run 'docker
 * run --help' for more information"; docker 20.10 ends the message with a period and "See 'docker
 * run --help'."; berth writes 20.10's hint after flag errors. What is wrong and the exit code are compared.
 */
const hint = (s: string) =>
  s.replace(/\.?\n(\nUsage: {2}.*\n)?\n?(Run|See) '<cli> ([\w-]+ )?--help'(\.| for more information)\n/g, "\n<hint>\n");
/** A missing argument: docker 28 says "docker: 'docker logs' requires 1 argument" and the usage, 20.10 '"docker logs" requires exactly 1 argument.' and the usage last. */
const argCount = (s: string) =>
  s.replace(
    /^(?:<cli>: )?['"]<cli> ([\w ]+)['"] requires (exactly |at least )?(\d+) arguments?\.?\n[\s\S]*$/m,
    "<cli> $1 requires $3 argument(s)\n",
  );
/** A table's cells are padded to the widest; once ages and sizes are normalised, the padding is not compared. */
const spaces = (s: string) => s.replace(/ {2,}/g, "  ").replace(/ +\n/g, "\n");
const table = compose(ago, sizes, spaces);
/** The fixture's layer was created at time 0: docker 28 and berth say N/A, docker 20.10 its age. */
const epoch = (s: string) => s.replace(/\b5\d years ago\b/g, "N/A");
/** ps --format json's CreatedAt ("2026-12-05 22:16:58 +0000 UTC"): each world made its container at its moment. */
const createdAt = (s: string) => s.replace(/"CreatedAt":"[^"]*"/g, '"CreatedAt":"<time>"');
/** Inspect JSON: times and the container's host pid (each run's own). */
const inspectJson = (s: string) => times(s).replace(/"Pid": \d+/g, '"Pid": <pid>');
/**
 * Where docker 20.10's client (a fresh machine's) prints other words than docker 28 (the
 * reference here), which berth follows: its own 404 words ("Error: No such container: x", "Error:
 * No such container:path: c:/p") where 28 prints the daemon's answer (dockerd 20.10's says an
 * image's name twice); a start's error ending in a period and no hint; "Invalid hostPort" and
 * "invalid size: '12q'" where 28 says "invalid hostPort" and "invalid suffix: 'q'"; the warning
 * about an unencrypted password after every login.
 */
const client20 = (s: string) =>
  DOCKER_CLI === DOCKER_CLI_20
    ? s
        .replace(/Error response from daemon: no such image: (\S+): No such image: \1/g, "Error: No such image: $1")
        .replaceAll("Error response from daemon: No such ", "Error: No such ")
        .replace(/^Error: No such container:path: .*$/gm, "<no such path>")
        .replace(/^Error response from daemon: Could not find the file .* in container .*$/gm, "<no such path>")
        .replace(/^(<cli>: Error response from daemon: .*?)\.?\n(<hint>\n)?/gm, "$1\n")
        .replace(/\b[Ii]nvalid hostPort\b/g, "invalid hostPort")
        .replace(/invalid (size|suffix): '[^']*'/g, "invalid size")
        .replace(/^WARNING! Your password will be stored unencrypted[\s\S]*?credentials-store\n\n/m, "")
    : s;
/** A shell's prompt redrawn on each SIGWINCH (how many times depends on when the resizes land). */
const prompts = (s: string) => s.replace(/(\/ # )+/g, "/ # ");

/** A command's --help: its usage line and its flags' names (the words around them differ between docker 28 and 20.10). */
const helpFlags = (s: string) =>
  `${s
    .split("\n")
    .filter((l) => /^Usage:|^\s+(-\w, )?--[a-z]/.test(l))
    .map((l) => l.replace(/^\s+((-\w, )?--[a-z-]+).*$/, "$1").replace(/ {2,}/g, " "))
    .join("\n")}\n`;

const WALK: [string, CliStep[]][] = [
  [
    "help: each command's usage and flags",
    [
      ...["ps", "logs", "start", "rm", "inspect", "attach", "events", "container ls"].map(
        (c): CliStep => ({
          args: [...c.split(" "), "--help"],
          norm: helpFlags,
          expect: { status: 0, stdout: /^Usage:/ },
        }),
      ),
      // docker hides the flags the daemon's API version does not have (--annotation before 1.43,
      // --health-start-interval before 1.44) and the Windows-only ones for a Linux daemon; so does berth.
      // berth has docker 28's run/create flags (20.10 lacks --use-api-socket, --annotation, ...).
      { args: ["run", "--help"], norm: helpFlags, cli28: true },
      { args: ["create", "--help"], norm: helpFlags, cli28: true },
      { args: ["exec", "--help"], norm: helpFlags },
      // docker 28 calls stop's flag --timeout (-t), 20.10 --time.
      { args: ["stop", "--help"], norm: helpFlags, cli28: true },
      // docker 28 shows images --tree (API 1.47) and rmi --platform (1.50) on berthd, not on dockerd 20.10.
      ...["images", "rmi", "image rm"].map((c): CliStep => ({ args: [...c.split(" "), "--help"], norm: helpFlags })),
    ],
  ],
  [
    "images: list, tag, history, inspect",
    [
      { args: ["images"], norm: table, expect: { stdout: /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\nbusybox/ } },
      {
        args: ["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"],
        expect: { stdout: "busybox:latest <short>\n" },
      },
      { args: ["images", "-q"], expect: { stdout: "<short>\n" } },
      { args: ["images", "--digests"], norm: table },
      { args: ["images", "--no-trunc"], norm: table },
      { args: ["tag", "busybox", "scn:1"], expect: { stdout: "" } },
      { args: ["image", "tag", "busybox", "scn:2"] },
      {
        args: ["images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", "reference=scn"],
        norm: sorted,
        expect: { stdout: "scn:1\nscn:2\n" },
      },
      // Three names of one image, one created time: docker sorts by it unstably, and the CLI walks
      // an image's repositories from a Go map, so in any order.
      { args: ["image", "ls", "--format", "table {{.Repository}}\t{{.Tag}}"], norm: compose(spaces, sorted) },
      { args: ["images", "--format", "json"], norm: compose(ago, sizes, sorted), cli28: true },
      { args: ["image", "rm", "scn:2"], expect: { stdout: "Untagged: scn:2\n" } },
      { args: ["history", "scn:1"], norm: compose(epoch, table) },
      { args: ["history", "-q", "scn:1"] },
      shared.historyCreatedBy,
      { args: ["image", "history", "--no-trunc", "scn:1"], norm: compose(epoch, table) },
      { args: ["image", "inspect", "scn:1"], norm: inspectJson },
      {
        args: ["inspect", "--type", "image", "-f", "{{.Id}} {{json .RepoTags}} {{json .Config.Cmd}} {{.Os}}", "scn:1"],
        expect: { stdout: /^sha256:<id> \["busybox:latest","scn:1"\] \["sh"\] linux\n$/ },
      },
      { args: ["image", "inspect", "nosuch:1"], expect: { status: 1 } },
      {
        args: ["inspect", "--type", "image", "-f", "{{.Id}}", "nosuch:1", "scn:1"],
        expect: { status: 1, stdout: /^sha256:<id>\n$/ },
      },
      { args: ["inspect", "nosuch"], expect: { status: 1, stderr: /^Error: No such object: nosuch\n$/ } },
      { args: ["rmi", "nosuch:1"], expect: { status: 1, stderr: /No such image: nosuch:1/ } },
    ],
  ],
  [
    "a registry: login, pull, push, logout",
    [
      ...shared.login,
      // Seeded by skopeo; the client config carries the credentials (written before the walk).
      {
        args: (c) => ["pull", `${c.reg}/tools/bb:1`],
        norm: progress,
        expect: { status: 0, stdout: /Status: Downloaded newer image for .*tools\/bb:1\n.*tools\/bb:1\n$/ },
      },
      { args: (c) => ["pull", `${c.reg}/tools/bb:1`], expect: { stdout: /Status: Image is up to date/ } },
      { args: (c) => ["pull", "-q", `${c.reg}/tools/bb:1`], expect: { stdout: /^127\.0\.0\.1:\d+\/tools\/bb:1\n$/ } },
      { args: (c) => ["pull", `${c.reg}/tools/nosuch:1`], expect: { status: 1 } },
      { args: (c) => ["image", "pull", "--all-tags", `${c.reg}/tools/bb:1`], expect: { status: 1 } },
      ...shared.tagAndPush,
      { args: (c) => ["rmi", `${c.reg}/scn-${c.e.name}:1`, `${c.reg}/tools/bb:1`], expect: { stdout: /Untagged/ } },
      { args: (c) => ["logout", c.reg], expect: { stdout: /Removing login credentials/ } },
    ],
  ],
  [
    "run: the flags people use, and bad input",
    [
      shared.runHello,
      {
        args: ["run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3"],
        expect: { status: 3, stdout: "out\n", stderr: /^err\n$/ },
      },
      shared.runEnvWorkdirUser,
      {
        args: (c) => [
          "run",
          "--rm",
          "--env-file",
          join(c.dir, "env"),
          "-l",
          "a=b",
          "busybox",
          "sh",
          "-c",
          "echo $FROM_FILE",
        ],
        expect: { stdout: "env-file\n" },
      },
      shared.runBind,
      {
        args: (c) => [
          "run",
          "--rm",
          "--mount",
          `type=bind,src=${c.dir}/bind,dst=/m,readonly`,
          "busybox",
          "sh",
          "-c",
          "cat /m/on-host; touch /m/x",
        ],
        expect: { status: 1, stdout: "from the host\n", stderr: /Read-only file system/ },
      },
      ...shared.runReadOnlyInit,
      {
        args: [
          "run",
          "--rm",
          "--ulimit",
          "nofile=512:1024",
          "--pids-limit",
          "32",
          "busybox",
          "sh",
          "-c",
          "ulimit -n; ulimit -Hn",
        ],
        expect: { stdout: "512\n1024\n" },
      },
      {
        args: [
          "run",
          "-d",
          "--name",
          "limits",
          "--memory",
          "64m",
          "--cpus",
          "0.5",
          "--pids-limit",
          "64",
          "--restart",
          "on-failure:2",
          "--stop-signal",
          "USR1",
          "-l",
          "app=scn",
          "busybox",
          "sleep",
          "600",
        ],
        expect: { stdout: "<id>\n" },
      },
      {
        args: [
          "inspect",
          "-f",
          "{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} {{json .HostConfig.RestartPolicy}} {{.Config.StopSignal}} {{json .Config.Labels}}",
          "limits",
        ],
        expect: { stdout: '67108864 64 {"Name":"on-failure","MaximumRetryCount":2} USR1 {"app":"scn"}\n' },
      },
      // NanoCpus is the JSON name (docker's Go field is NanoCPUs): docker's typed view fails and it
      // runs the template again on the raw JSON, where it is found.
      { args: ["inspect", "-f", "{{.HostConfig.NanoCpus}}", "limits"], expect: { stdout: "500000000\n" } },
      // docker 20.10 prints the inspect it decoded (null for an empty list), 28 the daemon's JSON.
      { args: ["container", "inspect", "limits"], norm: inspectJson, cli28: true },
      { args: ["inspect", "-f", "{{.State.Status", "limits"], expect: { status: 64, stderr: /unclosed action/ } },
      { args: ["inspect", "-f", "{{.Nope}}", "limits"], expect: { status: 1 } },
      ...shared.runHealthy,
      { args: ["run", "--rm", "busybox", "no-such-command"], expect: { status: 127 } },
      {
        args: ["run", "--rm", "busybox", "/etc"],
        expect: { status: 126 },
      },
      { args: ["run", "--rm", "--pull", "never", "nosuch:1"], expect: { status: 125 } },
      shared.runUnreachable,
      // Refused by the client before anything is sent: docker's words, 125.
      { args: ["run", "--nosuch", "busybox"], expect: { status: 125, stderr: /unknown flag: --nosuch/ } },
      { args: ["run", "--memory", "12q", "busybox"], expect: { status: 125 } },
      { args: ["run", "-p", "99999:1", "busybox"], expect: { status: 125 } },
      { args: ["run", "--cpus", "abc", "busybox"], expect: { status: 125 } },
      { args: ["run"], expect: { status: 1, stderr: /^<cli> run requires 1 argument\(s\)\n$/ } },
      { args: ["logs"], expect: { status: 1, stderr: /^<cli> logs requires 1 argument\(s\)\n$/ } },
      { args: ["nosuchcommand"], expect: { status: 1 }, cli28: true },
    ],
  ],
  [
    "run -it: a shell at a terminal",
    [
      {
        args: ["run", "-it", "--name", "tty", "busybox", "sh"],
        ptySize: [30, 100],
        // The pauses let a resize reach the container before the shell is asked its size (the
        // client sends it after the start, and after the SIGWINCH).
        pty: [
          { expect: /# $/, pause: 500, send: "stty size\r" },
          { expect: /30 100\s+\/ # $/, resize: [40, 120], pause: 1000, send: "stty size\r" },
          // ctrl-p ctrl-q: docker's run detaches without a word, exit 0.
          { expect: /40 120\s+\/ # $/, pause: 300, send: "\x10\x11" },
        ],
        expect: { status: 0, stdout: /30 100\n[\s\S]*40 120\n\/ # $/ },
      },
      {
        args: ["ps", "--filter", "name=tty", "--format", "{{.Names}} {{.State}}"],
        expect: { stdout: "tty running\n" },
      },
      {
        args: ["attach", "tty"],
        ptySize: [40, 120],
        pty: [
          // docker resizes the terminal one row and column up and back on attach, so the shell
          // redraws its prompt (with nothing to redraw, attach would show nothing until a key).
          { expect: /# $/, pause: 300, send: "echo back-$((40+2))\r" },
          { expect: /back-42\s+\/ # $/, send: "exit 3\r" },
        ],
        expect: { status: 3, stdout: /back-42\n/ },
      },
      { args: ["run", "-dit", "--name", "tty2", "busybox", "sh"], expect: { stdout: "<id>\n" } },
      // docker's attach (and exec) end a detach with "read escape sequence", exit 1.
      {
        args: ["attach", "tty2"],
        ptySize: [30, 100],
        pty: [{ expect: /# $/, pause: 300, send: "\x10\x11" }],
        expect: { status: 1, stdout: /read escape sequence\n$/ },
      },
      {
        args: ["exec", "-it", "tty2", "sh"],
        pty: [{ expect: /# $/, pause: 300, send: "\x10\x11" }],
        expect: { status: 1, stdout: /read escape sequence\n$/ },
      },
      { args: ["rm", "-f", "tty2"], expect: { stdout: "tty2\n" } },
      { args: ["wait", "tty"], expect: { stdout: "3\n" } },
      {
        args: ["run", "--rm", "-t", "busybox", "sh", "-c", "tty; exit 4"],
        pty: [],
        expect: { status: 4, stdout: "/dev/pts/0\n" },
      },
      { args: ["rm", "tty"], expect: { stdout: "tty\n" } },
    ],
  ],
  [
    "a service: ps, logs, attach, exec, top, port, stats",
    [
      ...shared.startService,
      { args: ["ps"], norm: table },
      { args: ["ps", "-a"], norm: table },
      { args: ["ps", "-a", "-q"] },
      { args: ["ps", "-a", "-s"], norm: table },
      { args: ["ps", "-n", "2"], norm: table },
      { args: ["ps", "-l", "--no-trunc"], norm: table },
      {
        args: ["container", "ls", "--format", "{{.Names}} {{.Image}} {{.Command}} {{.Status}}"],
        norm: compose(ago, sorted),
      },
      ...shared.psFilters,
      { args: ["ps", "-a", "--format", "table {{.Names}}\t{{.Status}}"], norm: compose(table, sorted) },
      {
        args: [
          "ps",
          "--filter",
          "name=web",
          "--format",
          '{{json .Names}} {{upper .State}} {{join (split .Names "e") "-"}}',
        ],
      },
      { args: ["ps", "--filter", "name=web", "--format", "json"], norm: compose(ago, sizes, createdAt), cli28: true },
      { args: ["ps", "--filter", "nosuch=1"], expect: { status: 1 } },
      {
        args: ["exec", "web", "sh", "-c", "echo via-exec; echo to-err >&2; exit 4"],
        expect: { status: 4, stdout: "via-exec\n", stderr: /^to-err\n$/ },
      },
      ...shared.execEnvInput,
      { args: ["exec", "-d", "web", "touch", "/tmp/from-d"], expect: { stdout: "" } },
      {
        args: ["exec", "-it", "web", "sh"],
        pty: [{ expect: /# $/, send: "tty; exit 6\r" }],
        expect: { status: 6, stdout: /\/dev\/pts\/\d+\n/ },
      },
      { args: ["exec", "web", "nosuch"], expect: { status: 126 } },
      { args: ["exec", "nosuch", "true"], expect: { status: 1 } },
      shared.topLimits,
      { args: ["top", "limits", "-o", "pid,comm"], norm: columns(1) },
      { args: ["port", "web"], expect: { stdout: "" } },
      {
        args: ["port", "web", "80"],
        expect: { status: 1, stderr: /^Error: No public port '80' published for web\n$/ },
        cli28: true,
      },
      { args: ["port", "web", "80/udp"], expect: { status: 1 } },
      { args: ["port", "web", "99999"], expect: { status: 1, stderr: /invalid port \(99999\)/ }, cli28: true },
      shared.statsWeb,
      { args: ["stats", "--no-stream", "--format", "{{.Name}}", "web", "limits"], expect: { stdout: "web\nlimits\n" } },
      ...shared.attachAndLogs,
      // Two seconds ahead: a duration goes as whole seconds (docker's GetTimestamp), so `0s` would
      // leave out the lines lg wrote in this second.
      { args: ["logs", "--since", "10m", "--until=-2s", "lg"], expect: { stdout: /line 1\n/ } },
      shared.logsFollowExited,
      { args: ["logs", "--until", "nonsense", "lg"], expect: { status: 1, stderr: /^invalid value for "until"/ } },
      { args: ["logs", "nosuch"], expect: { status: 1 } },
      {
        args: ["create", "--name", "later", "-e", "WHO=created", "busybox", "sh", "-c", "echo $WHO; exit 2"],
        expect: { stdout: "<id>\n" },
      },
      shared.startAttached,
      { args: ["container", "start", "later"], expect: { stdout: "later\n" } },
      { args: ["wait", "later", "lg"], expect: { stdout: "2\n0\n" } },
      shared.rmLater,
    ],
  ],
  [
    "files: cp both ways, diff, export and import",
    [
      { args: (c) => ["cp", join(c.dir, "bind", "on-host"), "web:/tmp/copied-in"], expect: { stdout: "" } },
      ...shared.cpAndDiff,
      { args: ["container", "diff", "nosuch"], expect: { status: 1 } },
      { args: (c) => ["export", "-o", join(c.dir, "web.tar"), "web"], expect: { stdout: "" } },
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
        expect: { stdout: "134217728 268435456 unless-stopped\n" },
      },
      { args: ["rename", "web", "web2"], expect: { stdout: "" } },
      { args: ["rename", "nosuch", "web3"], expect: { status: 1 } },
      shared.pauseWeb2,
      {
        args: ["ps", "--filter", "status=paused", "--format", "{{.Names}} {{.Status}}"],
        norm: ago,
        expect: { stdout: "web2 Up <ago> (Paused)\n" },
      },
      shared.execPaused,
      { args: ["unpause", "web2"], expect: { stdout: "web2\n" } },
      ...shared.stopWeb2,
      { args: ["start", "web2"], expect: { stdout: "web2\n" } },
      { args: ["restart", "-t", "5", "web2"], expect: { stdout: "web2\n" } },
      ...shared.restartedWeb2,
      { args: ["kill", "-s", "USR1", "web2"], expect: { stdout: "web2\n" } },
      ...shared.killAndWait,
      { args: ["stop", "nosuch", "limits"], expect: { status: 1, stdout: "limits\n" } },
      ...shared.rmWeb2,
      { args: ["pause", "limits"], expect: { status: 1 } },
    ],
  ],
  [
    "images from containers: commit, save, load, rmi, prune",
    [
      ...shared.commitAndRun,
      ...shared.saveLoadRmi,
      ...shared.prune,
      { args: ["ps", "-a", "--format", "{{.Names}}"], expect: { stdout: "" } },
      { args: ["rmi", "-f", "made:1", "imported:1"], norm: shared.releasedLayers },
      { args: ["images", "--format", "{{.Repository}}:{{.Tag}}"], expect: { stdout: "scn:1\n" } },
    ],
  ],
  [
    "the daemon: version, info, events, system df and prune",
    [
      { args: ["version", "--format", "{{.Server.Os}}/{{.Server.Arch}} {{.Server.Version}}"] },
      {
        args: ["version", "--format", "{{.Server.APIVersion}} {{.Client.APIVersion}}"],
      },
      {
        args: ["version", "--format", "{{json .Server.Components}}"],
      },
      { args: ["info", "--format", "{{.OSType}} {{.Architecture}} {{.CgroupDriver}} {{.NCPU}} {{.MemTotal}}"] },
      {
        args: [
          "info",
          "--format",
          "{{.Containers}} {{.ContainersRunning}} {{.ContainersPaused}} {{.ContainersStopped}} {{.Images}}",
        ],
      },
      { args: ["system", "info", "--format", "{{json .Plugins.Volume}}"] },
      shared.eventsOfLg,
      {
        args: (c) => [
          "system",
          "events",
          "--since",
          c.t0,
          "--until",
          unixNow(),
          "--filter",
          "event=kill",
          // Not tty: docker 28's run -it passes its own SIGWINCH on as a kill (28) when the
          // terminal is resized; berth, as docker documents --sig-proxy, passes none with a tty.
          ...["hc", "tty2", "web2", "limits"].flatMap((n) => ["--filter", `container=${n}`]),
          "--format",
          "{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.signal}}",
        ],
        expect: { stdout: "kill hc 9\nkill tty2 9\nkill web2 15\nkill web2 15\nkill web2 10\nkill limits 9\n" },
      },
      { args: ["events", "--since", "nonsense"], expect: { status: 1 } },
      { args: ["system", "df"], norm: compose(table, columns(0, 1, 2)) },
      { args: ["system", "df", "--format", "{{.Type}} {{.TotalCount}} {{.Active}}"] },
      { args: ["run", "--name", "left", "scn:1", "true"] },
      { args: ["system", "prune", "-f"], norm: sizes, expect: { stdout: /Deleted Containers:\n<id>\n/ } },
      // berthd has no volume or network routes yet: 404 "page not found" to docker and berth alike.
      { args: ["volume", "prune", "-f"], norm: sizes },
      { args: ["network", "prune", "-f"] },
    ],
  ],
];

/** The command of the step's words when berth lacks it, as "berth has no X yet", or undefined. */
function missing(s: CliStep, c: Ctx): string | undefined {
  const args = typeof s.args === "function" ? s.args(c) : s.args;
  if (args[0] === "nosuchcommand" || lookup(args) !== undefined) return undefined;
  const groups = ["container", "image", "system", "volume", "network"];
  return `berth has no ${groups.includes(args[0]!) ? args.slice(0, 2).join(" ") : args[0]} yet`;
}

/** The worlds: the docker CLI's and berth's, each a dockerd and a berthd. */
describe("a user's walk with berth, beside the docker CLI, on dockerd 20.10 and on berthd", { skip }, () => {
  let worlds: { docker: EnginePair; berth: EnginePair };
  let registry: LocalRegistry;
  const ctx = new Map<Engine, Ctx>();

  before(async () => {
    registry = await startRegistry({ auth: "htpasswd" });
    const [d, b] = await Promise.all([startEnginePair(DOCKER_CLI), startEnginePair(DOCKER_CLI)]);
    worlds = { docker: d, berth: b };
    const seed = join(d.berthd.dir, "bb.tar");
    await writeImageArchive(seed, { name: "docker.io/library/bb:1" });
    await seedImage(registry, seed, "tools/bb:1");
    const t0 = unixNow();
    const auth = Buffer.from(`${registry.username}:${registry.password}`).toString("base64");
    for (const e of [...d.engines, ...b.engines]) {
      const dir = join(e.dir, "walk");
      mkdirSync(join(dir, "bind"), { recursive: true });
      writeFileSync(join(dir, "bind", "on-host"), "from the host\n");
      writeFileSync(join(dir, "env"), "FROM_FILE=env-file\n");
      const config = join(e.dir, "client-config-pair");
      mkdirSync(config, { recursive: true });
      writeFileSync(join(config, "config.json"), JSON.stringify({ auths: { [registry.host]: { auth } } }));
      ctx.set(e, { e, dir, reg: registry.host, password: registry.password, t0 });
    }
  });
  after(async () => {
    await registry?.stop();
    await Promise.all([worlds?.docker.cleanup(), worlds?.berth.cleanup()]);
  });

  const docker = dockerClient(DOCKER_CLI);
  for (const [chapter, steps] of WALK) {
    describe(chapter, { concurrency: false }, () => {
      for (const s of steps) {
        const title = describeArgs(s);
        const sample = { e: { name: "berthd" } as Engine, dir: "<dir>", reg: "<registry>", password: "", t0: "0" };
        const lacking = missing(s, sample);
        // In berth's world the docker CLI stands in for a command berth lacks: the state stays the same.
        const client = lacking ? docker : berthClient;
        test(title, { todo: s.todo ?? lacking, skip: s.cli28 ? NEEDS_CLI_28 : undefined }, async () => {
          const { docker: dw, berth: bw } = worlds;
          const norm = (t: string) => {
            const named = program(s.pty ? prompts(t) : t);
            return client20(argCount(hint(s.norm ? s.norm(named) : named)));
          };
          const step = { ...s, norm };
          const [wantD, wantB, gotD, gotB] = await Promise.all([
            runStep(step, ctx.get(dw.ref)!, docker),
            runStep(step, ctx.get(dw.ours)!, docker),
            runStep(step, ctx.get(bw.ref)!, client),
            runStep(step, ctx.get(bw.ours)!, client),
          ]);
          assertStep(s, gotD!, wantD!, `berth ${title} on dockerd`);
          assertStep(s, gotB!, wantB!, `berth ${title} on berthd`);
          for (const e of bw.engines) s.check?.(ctx.get(e)!);
        });
      }
    });
  }
});
