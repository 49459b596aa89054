// The steps both scripted walks take word for word (interop/berthd-dockerd-scenario: the docker CLI
// on berthd beside dockerd; interop/berth-cli-scenario: berth beside the docker CLI), in the order
// the walks take them. Each walk spreads these groups into its own chapters between its own steps;
// a step one walk words or checks differently stays in that walk's file. A group assumes the state
// the steps before it leave in both walks (busybox pulled, the containers "web", "limits" made).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { columns, progress, type Step, sizes, sorted, times } from "./cli-scenario.ts";
import { unixNow } from "./engine-pair.ts";

/** A container that runs until told: traps USR1 (exit 7) and TERM (exit 0), as a service would. */
export const SERVICE = [
  "sh",
  "-c",
  "trap 'exit 7' USR1; trap 'exit 0' TERM; echo started; while :; do sleep 0.1; done",
];

// ---- normalisers both walks need

/**
 * A registry that cannot be reached: Go's net errors and Node's word it differently ("dial tcp
 * ...: connect: connection refused" vs "connect ECONNREFUSED"), and in berth's walk the two worlds'
 * daemons are two even where both clients print one daemon's words; that the daemon says so is compared.
 */
export const unreachable = (s: string) =>
  s.replace(
    /Error response from daemon: .*(refused|REFUSED).*?(\.?)$/gm,
    "Error response from daemon: <registry unreachable>$2",
  );
/**
 * dockerd 20.10 lists each layer of its layer store that a removed image released ("Deleted:
 * <chain id>") after the image, as many as nothing else holds; berthd's layers are containerd
 * snapshots, collected with the image and not listed (as with dockerd's containerd image store).
 */
export const releasedLayers = (s: string) => s.replace(/(Deleted: sha256:<id>\n)+/g, "Deleted: sha256:<id>\n");

// ---- a registry

/** The daemon checks the credentials against the registry (a wrong password, then the right one); the client keeps them. */
export const login: Step[] = [
  {
    args: (c) => ["login", "-u", "berth", "--password-stdin", c.reg],
    input: "wrong\n",
    expect: { status: 1, stderr: /401 Unauthorized/ },
  },
  {
    args: (c) => ["login", "-u", "berth", "--password-stdin", c.reg],
    input: (c) => `${c.password}\n`,
    expect: { status: 0, stdout: /Login Succeeded/ },
  },
];

/**
 * Each engine pushes to a repository of its own (scn-dockerd, scn-berthd), so neither finds the
 * other's blobs there: both push every layer.
 */
export const tagAndPush: Step[] = [
  { args: (c) => ["tag", "busybox", `${c.reg}/scn-${c.e.name}:1`] },
  { args: (c) => ["push", `${c.reg}/scn-${c.e.name}:1`], norm: progress, expect: { stdout: /Pushed/ } },
];

// ---- images

export const historyCreatedBy: Step = { args: ["history", "--format", "{{.CreatedBy}}|{{.Comment}}", "scn:1"] };

// ---- run

export const runHello: Step = { args: ["run", "--rm", "busybox", "echo", "hello"], expect: { stdout: "hello\n" } };

export const runEnvWorkdirUser: Step = {
  args: [
    "run",
    "--rm",
    "-e",
    "GREETING=hi",
    "-w",
    "/tmp",
    "-u",
    "1000:1000",
    "busybox",
    "sh",
    "-c",
    'echo "$GREETING"; pwd; id',
  ],
  expect: { stdout: "hi\n/tmp\nuid=1000(user) gid=1000(user) groups=1000(user)\n" },
};

/** A bind mount read from and written to (the walk's dir/bind holds "on-host"). */
export const runBind: Step = {
  args: (c) => [
    "run",
    "--rm",
    "-v",
    `${c.dir}/bind:/bind`,
    "busybox",
    "sh",
    "-c",
    "cat /bind/on-host; echo from-container > /bind/back",
  ],
  expect: { stdout: "from the host\n" },
  check: (c) => assert.equal(readFileSync(join(c.dir, "bind", "back"), "utf8"), "from-container\n"),
};

export const runReadOnlyInit: Step[] = [
  {
    args: [
      "run",
      "--rm",
      "--read-only",
      "--tmpfs",
      "/scratch",
      "--cap-drop",
      "NET_RAW",
      "--cap-drop",
      "CHOWN",
      "busybox",
      "sh",
      "-c",
      "touch /scratch/ok && echo tmpfs-ok; grep ^CapBnd /proc/self/status; touch /nope",
    ],
    expect: { status: 1, stdout: /^tmpfs-ok\nCapBnd:\t00000000a80405fa\n$/, stderr: /Read-only file system/ },
  },
  // tini as docker-init is PID 1, the entrypoint its child.
  {
    args: ["run", "--rm", "--init", "--entrypoint", "cat", "busybox", "/proc/1/comm"],
    expect: { stdout: "docker-init\n" },
  },
];

/** A health check until healthy and its container removed; then run --rm --name x (125 on both engines). */
export const runHealthy: Step[] = [
  {
    args: ["run", "-d", "--name", "hc", "--health-cmd", "true", "--health-interval", "1s", "busybox", "sleep", "600"],
  },
  {
    args: ["inspect", "-f", "{{.State.Health.Status}}", "hc"],
    until: (o) => o.trim() === "healthy",
    expect: { stdout: "healthy\n" },
  },
  // Gone once healthy: its check's exec events every second would push the walk's other
  // events out of dockerd's event log (it keeps the last 256) before the events step reads them.
  { args: ["rm", "-f", "hc"], expect: { stdout: "hc\n" } },
  { args: ["run", "--rm", "--name", "x", "busybox", "true"], expect: { status: 125 } },
];

/** Not found here, so pulled: from a registry that is not there (nothing leaves the machine). */
export const runUnreachable: Step = {
  args: ["run", "--rm", "127.0.0.1:1/nosuch:1"],
  norm: unreachable,
  expect: { status: 125 },
};

// ---- a service: ps, logs, attach, exec, top, stats

export const startService: Step[] = [
  { args: ["run", "-d", "--name", "web", "-l", "app=scn", ...["busybox", ...SERVICE]] },
  { args: ["logs", "web"], until: (o) => o.includes("started"), expect: { stdout: "started\n" } },
];

export const psFilters: Step[] = [
  { args: ["ps", "-a", "--filter", "label=app=scn", "--format", "{{.Names}} {{.Labels}}"], norm: sorted },
  { args: ["ps", "-q", "--filter", "name=web"], expect: { stdout: "<short>\n" } },
];

export const execEnvInput: Step[] = [
  {
    args: ["exec", "-e", "X=1", "-u", "1000", "-w", "/tmp", "web", "sh", "-c", "echo $X $(id -u) $(pwd)"],
    expect: { stdout: "1 1000 /tmp\n" },
  },
  {
    args: ["exec", "-i", "web", "sh", "-c", "read line; echo got: $line"],
    input: "typed\n",
    expect: { stdout: "got: typed\n" },
  },
];

/**
 * top's PIDs and times are the host's: the user and the command are compared (of a container with
 * one process: web's loop has a sleep child only now and then).
 */
export const topLimits: Step = {
  args: ["top", "limits"],
  norm: columns(0, 7),
  expect: { stdout: "UID|CMD\nroot|sleep 600\n" },
};

/** The table's header, the name and the PIDs (the rest is load, compared in exec-stats). */
export const statsWeb: Step = {
  args: ["stats", "--no-stream", "web"],
  norm: columns(0, 1, 7),
  expect: { stdout: /^CONTAINER ID\|NAME\|PIDS\n<short>\|web\|\d+\n$/ },
};

/** attach to a container until it exits, then "lg"'s five lines: wait, logs, --tail, -t. */
export const attachAndLogs: Step[] = [
  { args: ["run", "-d", "--name", "att", "busybox", "sh", "-c", "sleep 4; echo late; echo later >&2; exit 5"] },
  { args: ["attach", "att"], expect: { status: 5, stdout: "late\n", stderr: /later/ } },
  { args: ["run", "-d", "--name", "lg", "busybox", "sh", "-c", "for i in 1 2 3 4 5; do echo line $i; done"] },
  { args: ["wait", "lg"], expect: { stdout: "0\n" } },
  { args: ["logs", "lg"], expect: { stdout: "line 1\nline 2\nline 3\nline 4\nline 5\n" } },
  { args: ["logs", "--tail", "2", "lg"], expect: { stdout: "line 4\nline 5\n" } },
  { args: ["logs", "-t", "--tail", "1", "lg"], norm: times, expect: { stdout: "<time> line 5\n" } },
];

/** -f of a container that has exited: what there is, then the end. */
export const logsFollowExited: Step = { args: ["logs", "-f", "--tail", "1", "lg"], expect: { stdout: "line 5\n" } };

export const startAttached: Step = { args: ["start", "-a", "later"], expect: { status: 2, stdout: "created\n" } };
export const rmLater: Step = { args: ["rm", "later"], expect: { stdout: "later\n" } };

// ---- files

/** After a cp into web: read it there, make a dir inside, cp it out, a path that is not there, diff. */
export const cpAndDiff: Step[] = [
  { args: ["exec", "web", "cat", "/tmp/copied-in"], expect: { stdout: "from the host\n" } },
  {
    args: [
      "exec",
      "web",
      "sh",
      "-c",
      "mkdir -p /srv/out && echo made inside > /srv/out/f && rm /etc/motd 2>/dev/null; true",
    ],
  },
  {
    args: (c) => ["cp", "web:/srv/out", join(c.dir, "out")],
    check: (c) => assert.equal(readFileSync(join(c.dir, "out", "f"), "utf8"), "made inside\n"),
  },
  { args: ["cp", "web:/nope", "/tmp"], expect: { status: 1 } },
  { args: ["diff", "web"], norm: sorted, expect: { stdout: /A \/srv\/out\/f/ } },
];

/** web's filesystem (exported to the walk's web.tar) as an image of its own, and run. */
export const importAndRun: Step[] = [
  {
    args: (c) => ["import", "-c", 'CMD ["cat", "/srv/out/f"]', join(c.dir, "web.tar"), "imported:1"],
    expect: { stdout: /^sha256:<id>\n$/ },
  },
  { args: ["run", "--rm", "imported:1"], expect: { stdout: "made inside\n" } },
];

// ---- changes

export const updateWeb: Step = {
  args: ["update", "--memory", "128m", "--memory-swap", "256m", "--restart", "unless-stopped", "web"],
  expect: { stdout: "web\n" },
};
export const pauseWeb2: Step = { args: ["pause", "web2"], expect: { stdout: "web2\n" } };
/** No exec in a paused container. */
export const execPaused: Step = { args: ["exec", "web2", "true"], expect: { status: 1 } };

export const stopWeb2: Step[] = [
  { args: ["stop", "-t", "5", "web2"], expect: { stdout: "web2\n" } },
  {
    args: ["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.State.Running}}", "web2"],
    expect: { stdout: "exited 0 false\n" },
  },
];

/** After restart: running, no restart counted, and its log has the three starts. */
export const restartedWeb2: Step[] = [
  { args: ["inspect", "-f", "{{.State.Status}} {{.RestartCount}}", "web2"], expect: { stdout: "running 0\n" } },
  {
    args: ["logs", "web2"],
    until: (o) => o.split("started").length > 3,
    expect: { stdout: "started\nstarted\nstarted\n" },
  },
];

/** After kill -s USR1: web2's trap exits 7; limits killed (137), and a second kill refused. */
export const killAndWait: Step[] = [
  { args: ["wait", "web2"], expect: { stdout: "7\n" } },
  { args: ["kill", "limits"] },
  { args: ["wait", "limits"], expect: { stdout: "137\n" } },
  { args: ["kill", "limits"], expect: { status: 1 } },
];

export const rmWeb2: Step[] = [
  { args: ["rm", "web2"], expect: { stdout: "web2\n" } },
  { args: ["rm", "nosuch"], expect: { status: 1 } },
];

// ---- images from containers

export const commitAndRun: Step[] = [
  { args: ["run", "--name", "maker", "busybox", "sh", "-c", "echo committed > /made"] },
  {
    args: ["commit", "-c", 'CMD ["cat", "/made"]', "-m", "by the scenario", "maker", "made:1"],
    expect: { stdout: /^sha256:<id>\n$/ },
  },
  { args: ["run", "--rm", "made:1"], expect: { stdout: "committed\n" } },
];

/** made:1's history, saved, removed, loaded back and looked at; then busybox's and scn:1's names removed. */
export const saveLoadRmi: Step[] = [
  { args: ["history", "--format", "{{.Comment}}", "made:1"] },
  {
    args: (c) => ["save", "-o", join(c.dir, "made.tar"), "made:1"],
    check: (c) => assert.ok(readFileSync(join(c.dir, "made.tar")).length > 1024),
  },
  { args: ["rmi", "made:1"], norm: releasedLayers, expect: { status: 0 } },
  { args: (c) => ["load", "-i", join(c.dir, "made.tar")], expect: { stdout: "Loaded image: made:1\n" } },
  { args: ["image", "inspect", "-f", "{{json .Config.Cmd}} {{.Comment}}", "made:1"] },
  { args: ["rmi", "busybox"], expect: { stdout: "Untagged: busybox:latest\n" } },
  // Its last name, and the stopped "maker" was made from it.
  { args: ["rmi", "scn:1"], expect: { status: 1, stderr: /conflict: unable to remove repository reference/ } },
];

/** Committed again: the first made:1 loses its name and is dangling, which image prune removes. */
export const prune: Step[] = [
  { args: ["commit", "maker", "made:1"] },
  {
    args: ["images", "--filter", "dangling=true", "--format", "{{.Repository}}:{{.Tag}}"],
    expect: { stdout: "<none>:<none>\n" },
  },
  { args: ["image", "prune", "-f"], norm: sizes, expect: { stdout: /Total reclaimed space/ } },
  { args: ["images", "--filter", "dangling=true", "-q"], expect: { stdout: "" } },
  { args: ["container", "prune", "-f"], norm: sizes, expect: { stdout: /Deleted Containers:\n<id>\n/ } },
];

// ---- the daemon

/** lg's events since the walk began, until now. */
export const eventsOfLg: Step = {
  args: (c) => [
    "events",
    "--since",
    c.t0,
    "--until",
    unixNow(),
    "--filter",
    "type=container",
    "--filter",
    "container=lg",
    "--format",
    "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}",
  ],
  expect: { stdout: /container start lg\n/ },
};
