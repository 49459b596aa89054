// A scripted user's walk: steps, each one command line run by a client (the docker CLI or berth)
// against an engine of engine-pair.ts, optionally typed on stdin or held as a conversation in a
// pseudo-terminal (script -qfec), its result made comparable by the step's normaliser. The two
// walks that use it: interop/berthd-dockerd-scenario (the docker CLI on berthd beside dockerd,
// issue 14) and interop/berth-cli-scenario (berth beside the docker CLI on each daemon, issue 15).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, readlinkSync } from "node:fs";
import { outputOf } from "./berth-containerd.ts";
import type { CommandResult } from "./berthd.ts";
import { type Engine, normalize } from "./engine-pair.ts";

/** What a step sees of the engine it runs on. */
export interface Ctx {
  e: Engine;
  /** A host dir of this engine's walk (bind sources, cp and save targets). */
  dir: string;
  /** The loopback registry ("127.0.0.1:PORT"), htpasswd-protected. */
  reg: string;
  password: string;
  /** When the walk began (Unix seconds), for events --since. */
  t0: string;
}

/** One exchange at a terminal: wait until the screen matches, then resize it and/or type. */
export interface Exchange {
  expect: RegExp;
  /** The terminal's new size (rows, columns): the client gets SIGWINCH from the kernel. */
  resize?: [number, number];
  /** Milliseconds to wait before typing (a resize on its way to the container). */
  pause?: number;
  send?: string;
}

export interface Step {
  args: string[] | ((c: Ctx) => string[]);
  /** Typed on stdin. */
  input?: string | ((c: Ctx) => string);
  /** Run inside script(1)'s pseudo-terminal, with this conversation. */
  pty?: Exchange[];
  /** The pseudo-terminal's size (rows, columns) before the command starts. */
  ptySize?: [number, number];
  /** Makes what legitimately differs comparable (applied to stdout and stderr after ids). */
  norm?: (s: string) => string;
  /** Retried (every 200 ms, 20 s at most) on each engine until its stdout satisfies this. */
  until?: (stdout: string) => boolean;
  /** What the client under test must show besides agreeing with the reference (so two equal wrong answers fail). */
  expect?: { status?: number; stdout?: string | RegExp; stderr?: RegExp };
  /** A check of the host side after the step (files cp or save wrote). */
  check?: (c: Ctx) => void;
  /** A known difference not fixed yet: the step is reported as todo with the reason. */
  todo?: string;
}

/** A command-line client pointed at an engine: the argv and environment a step's words run with. */
export interface Client {
  /** "docker" or "berth", as the program names itself. */
  program: string;
  command(e: Engine, args: string[]): { argv: string[]; env: NodeJS.ProcessEnv };
}

/** The docker CLI `cli` as the engine's docker() runs it. */
export const dockerClient = (cli: string): Client => ({
  program: "docker",
  command: (e, args) => e.command(args, { cli }),
});

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---- normalisers: each says what legitimately differs between two runs of the same step

/** "Up 3 seconds", "Exited (0) 2 seconds ago", "Created": a duration is not what is compared. */
export const ago = (s: string) =>
  s
    .replace(/\b(Up|Exited \(\d+\)) (Less than a second|About an? \w+|\d+ \w+)( ago)?/g, "$1 <ago>")
    .replace(/\b(Less than a second|About an? \w+|\d+ \w+) ago\b/g, "<ago>");
/** Sizes: dockerd counts files, berthd's snapshotter blocks; two runs' writable layers differ by a few bytes. */
export const sizes = (s: string) => s.replace(/\b\d+(\.\d+)?\s?(B|kB|KB|MB|GB|KiB|MiB|GiB)\b/g, "<size>");
/** RFC 3339 times (logs -t, inspect). */
export const times = (s: string) => s.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)/g, "<time>");
/** Lines in any order (both stream lines, a listing of equal times). */
export const sorted = (s: string) => `${s.split("\n").filter(Boolean).sort().join("\n")}\n`;
/** A table's columns `keep` (cells two spaces or more apart). */
export const columns =
  (...keep: number[]) =>
  (s: string) =>
    `${s
      .split("\n")
      .filter(Boolean)
      .map((l) => {
        const cells = l.trim().split(/\s{2,}/);
        return keep.map((i) => cells[i] ?? "").join("|");
      })
      .join("\n")}\n`;
/** Only the lines a pull or push ends with per layer, and its summary (progress lines come as they come). */
export const progress = (s: string) =>
  `${s
    .split("\n")
    .filter(
      (l) =>
        !/: (Preparing|Waiting|Pushing|Pulling fs layer|Downloading|Verifying Checksum|Download complete|Extracting)\b/.test(
          l,
        ),
    )
    .map((l) => l.replace(/size: \d+/, "size: <n>"))
    .filter(Boolean)
    .join("\n")}\n`;
/** A JSON object's keys, sorted. */
export const jsonKeys = (s: string) => (s.trim() === "" ? s : `${Object.keys(JSON.parse(s)).sort().join(",")}\n`);
export const compose =
  (...fs: ((s: string) => string)[]) =>
  (s: string) =>
    fs.reduce((v, f) => f(v), s);

// ---- the pseudo-terminal

/** A shell word for script -c. */
const shq = (a: string) => `'${a.replace(/'/g, "'\\''")}'`;

/** What a terminal shows, as text: carriage returns and escape sequences out. */
export const terminalText = (s: string) => s.replace(/\r/g, "").replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");

/** The pseudo-terminal script(1) runs its command on (its child's stdin), or undefined before there is one. */
function ptyOf(scriptPid: number): string | undefined {
  try {
    const kids = readFileSync(`/proc/${scriptPid}/task/${scriptPid}/children`, "utf8").trim().split(/\s+/);
    for (const kid of kids.filter(Boolean)) {
      const tty = readlinkSync(`/proc/${kid}/fd/0`);
      if (tty.startsWith("/dev/pts/")) return tty;
    }
  } catch {
    // gone already: no terminal to resize
  }
  return undefined;
}

/** Sets a terminal's size; the kernel signals SIGWINCH to its foreground process group. */
async function resize(tty: string, [rows, cols]: [number, number]): Promise<void> {
  const child = spawn("stty", ["-F", tty, "rows", String(rows), "cols", String(cols)], { stdio: "ignore" });
  const r = await outputOf(child);
  assert.equal(r.status, 0, `stty -F ${tty}`);
}

/** `argv` in a pseudo-terminal (script -qfec), of `size` if given, the conversation held, its result. */
export async function inPty(
  argv: string[],
  env: NodeJS.ProcessEnv,
  talk: Exchange[],
  size?: [number, number],
  who = argv[0],
): Promise<CommandResult> {
  // Without a size the terminal has none (0 0), and the docker CLI sends no resize.
  const line = `${size ? `stty rows ${size[0]} cols ${size[1]}; ` : ""}exec ${argv.map(shq).join(" ")}`;
  const child = spawn("script", ["-qfec", line, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"], env });
  const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  let screen = "";
  child.stdout!.on("data", (b: Buffer) => {
    screen += b.toString();
  });
  const result = outputOf(child);
  try {
    let from = 0;
    const shown = () => terminalText(screen.slice(from));
    for (const x of talk) {
      for (let i = 0; i < 400 && !x.expect.test(shown()); i++) await sleep(50);
      assert.match(shown(), x.expect, `${who}: the terminal showed ${JSON.stringify(screen)}`);
      from = screen.length;
      if (x.resize) {
        const tty = ptyOf(child.pid!);
        assert.ok(tty, `${who}: no terminal to resize`);
        await resize(tty, x.resize);
      }
      if (x.pause) await sleep(x.pause);
      if (x.send !== undefined) child.stdin!.write(x.send);
    }
    const r = await result;
    child.stdin!.end();
    return r;
  } finally {
    clearTimeout(killer);
    // A conversation that failed midway (no prompt came) must not leave script, the client under
    // it and its container running.
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}

// ---- running a step

export const argsOf = (s: Step, c: Ctx) => (typeof s.args === "function" ? s.args(c) : s.args);

/** A command run with stdin `input` (closed after; /dev/null without it). */
function runCommand(argv: string[], env: NodeJS.ProcessEnv, input?: string): Promise<CommandResult> {
  const child = spawn(argv[0]!, argv.slice(1), {
    stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    env,
    timeout: 60_000,
  });
  if (input !== undefined) child.stdin?.end(input);
  return outputOf(child);
}

/** The step run by `client` on the context's engine (retried while `until` says no), normalised. */
export async function runStep(s: Step, c: Ctx, client: Client): Promise<CommandResult> {
  const args = argsOf(s, c);
  const input = typeof s.input === "function" ? s.input(c) : s.input;
  const { argv, env } = client.command(c.e, args);
  let r: CommandResult;
  for (let i = 0; ; i++) {
    r = s.pty
      ? await inPty(argv, env, s.pty, s.ptySize, `${client.program} on ${c.e.name}`)
      : await runCommand(argv, env, input);
    if (!s.until || s.until(r.stdout) || i >= 100) break;
    await sleep(200);
  }
  // The engine's own dir and name appear where a path or a per-engine repository does.
  const own = (t: string) =>
    normalize(t.split(c.dir).join("<dir>").split(c.e.dir).join("<engine-dir>")).replace(
      new RegExp(`\\b${c.e.name}\\b`, "g"),
      "<engine>",
    );
  const n = (t: string) => (s.norm ? s.norm(own(s.pty ? terminalText(t) : t)) : own(s.pty ? terminalText(t) : t));
  return { status: r.status, stdout: n(r.stdout), stderr: n(r.stderr) };
}

/** `got` (the side under test) must be `want` (the reference), and show what the step expects. */
export function assertStep(s: Step, got: CommandResult, want: CommandResult, title: string): void {
  assert.deepEqual(got, want, title);
  if (s.expect?.status !== undefined) assert.equal(got.status, s.expect.status, JSON.stringify(got));
  if (typeof s.expect?.stdout === "string") assert.equal(got.stdout, s.expect.stdout);
  else if (s.expect?.stdout) assert.match(got.stdout, s.expect.stdout);
  if (s.expect?.stderr) assert.match(got.stderr, s.expect.stderr);
}

/** A step's title: its command, with what depends on the engine spelled generically. */
export function describeArgs(s: Step): string {
  if (typeof s.args !== "function") return `${s.pty ? "(pty) " : ""}${s.args.join(" ")}`;
  const sample: Ctx = {
    e: { name: "berthd" } as Engine,
    dir: "<dir>",
    reg: "<registry>",
    password: "<pw>",
    t0: "<t0>",
  };
  return `${s.pty ? "(pty) " : ""}${s
    .args(sample)
    .join(" ")
    .replace(/berthd/g, "<engine>")
    .replace(/\d{10}\.\d+/g, "<now>")}`;
}
