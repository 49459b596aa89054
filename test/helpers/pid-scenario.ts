// Building blocks for security tests about pids: they run inside a private pid namespace
// (`unshare --pid --fork --mount-proc`), where the test process is pid 1 and nothing else makes
// processes, so writing ns_last_pid decides exactly which pid the next process gets; and a keeper
// whose main process exited before the pid file naming it is read.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { closeSync, constants, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { shimSys } from "../../src/common/sys.ts";
import { type ExitEvent, Keeper, type RanEvent } from "../../src/shim/keeper.ts";

/** Set in the environment of the test file re-run as the scenario. */
export const SCENARIO_ENV = "BERTH_PID_SCENARIO";

/** The first line a shell printed, once it has exited. */
function printedPid(child: ChildProcess): Promise<number> {
  let out = "";
  child.stdout?.on("data", (b: Buffer) => {
    out += b.toString();
  });
  return new Promise((resolve) => child.stdout?.once("close", () => resolve(Number(out.trim().split("\n")[0]))));
}

/** Makes the next process of this pid namespace get `pid`. */
function nextPidIs(pid: number): void {
  writeFileSync("/proc/sys/kernel/ns_last_pid", String(pid - 1));
}

export interface Spawned {
  child: ChildProcess;
  /** The shell's own child (`sh -c 'x; :'` forks x), if it has one. */
  pidOfChild: number;
  /** What the shell printed first, when asked for. */
  printed: number;
}

/** Runs `sh -c script` as pid `pid`. */
export async function spawnAtPid(pid: number, script: string, o: { printsPid?: boolean } = {}): Promise<Spawned> {
  nextPidIs(pid);
  const child = spawn("sh", ["-c", script], { stdio: ["ignore", o.printsPid ? "pipe" : "ignore", "ignore"] });
  if (child.pid !== pid) throw new Error(`spawned pid ${child.pid}, wanted ${pid}`);
  const printed = o.printsPid ? await printedPid(child) : 0;
  let pidOfChild = 0;
  for (let i = 0; i < 100 && !pidOfChild; i++) {
    await new Promise((r) => setTimeout(r, 10));
    try {
      pidOfChild = Number(readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(" ")[0]) || 0;
    } catch {
      break;
    }
  }
  return { child, pidOfChild, printed };
}

/** `p`'s result, or "timeout" (a hang is the failure these tests look for). */
export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | "timeout"> {
  return Promise.race([p, new Promise<"timeout">((r) => setTimeout(() => r("timeout"), ms).unref())]);
}

/**
 * Re-runs `file` (a test file) as the scenario, as pid 1 of a private pid namespace with its own
 * /proc; resolves the last line it printed, parsed. Everything it started dies with it.
 */
export function runScenario<T>(file: string, timeoutMs: number): T {
  const env: NodeJS.ProcessEnv = { ...process.env, [SCENARIO_ENV]: "1" };
  delete env.NODE_TEST_CONTEXT; // not a test runner's child: it prints a result, not TAP
  const r = spawnSync("unshare", ["--pid", "--fork", "--mount-proc", process.execPath, file], {
    encoding: "utf8",
    env,
    timeout: timeoutMs,
  });
  if (r.status !== 0) throw new Error(`scenario exited ${r.status ?? r.signal}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as T;
}

/** A keeper whose spawned "runtime" started a main process that has exited already. */
export interface ExitedMain {
  keeper: Keeper;
  /** The SPAWN's RAN (once the spawned shell has exited). */
  ran: Promise<RanEvent>;
  /** The main process's pid, as the pid file names it. */
  main: number;
  /** The first EXIT the keeper reports. */
  exited: Promise<ExitEvent>;
  /** Lets the spawned shell go on with what follows `read x` in its script. */
  release(): void;
  /** Ends the keeper and removes the bundle. */
  end(): Promise<void>;
}

/**
 * Starts a keeper in a fresh bundle and SPAWNs `init`, a shell that starts the main process as an
 * orphan (the keeper's from the start) exiting with `status`, names it in init.pid, and waits for
 * release() before it runs `after` and exits 0. Resolves once the main process has exited and the
 * keeper has reaped it: its exit is kept, as the spawn still runs.
 */
export async function keeperWithExitedMain(status: number, after = ""): Promise<ExitedMain> {
  const dir = mkdtempSync(join(tmpdir(), "berth-keeper-scenario-"));
  const keeper = await Keeper.start(dir);
  const exited = new Promise<ExitEvent>((r) => keeper.onExit(r));
  const [stdin, release] = shimSys().pipe();
  const devNull = openSync("/dev/null", constants.O_RDWR);
  const script = [
    // The main process exits only once it is the keeper's (its parent field in /proc names the
    // keeper, the init shell's parent): before that, the subshell (dash) could reap it, and no
    // keeper could know its status.
    `export K=$PPID; (sh -c 'until read -r _ _ _ p _ < /proc/$$/stat; [ "$p" = "$K" ]; do :; done; exit ${status}' </dev/null >/dev/null 2>&1 & echo $! > init.pid.tmp)`,
    "mv init.pid.tmp init.pid",
    "read x",
    after,
    "exit 0",
  ].filter(Boolean);
  const s = await keeper.spawn(
    "init",
    { pidFile: "init.pid", exitFile: "init.exit" },
    ["/bin/sh", "-c", script.join("; ")],
    ["PATH=/usr/bin:/bin"],
    [stdin, devNull, devNull],
  );
  closeSync(stdin);
  closeSync(devNull);
  const pidFile = join(dir, "init.pid");
  for (let i = 0; i < 500 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 10));
  const main = Number(readFileSync(pidFile, "utf8"));
  for (let i = 0; i < 500 && existsSync(`/proc/${main}`); i++) await new Promise((r) => setTimeout(r, 10));
  return {
    keeper,
    ran: s.ran,
    main,
    exited,
    release: () => closeSync(release),
    end: async () => {
      await keeper.quit();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The end of a scenario process: runs `body` with `t`, which fills in the result; the keeper ends
 * whatever happened; the result is printed (runScenario reads it) and the process exits.
 */
export async function reportScenario(
  t: ExitedMain,
  body: (out: Record<string, unknown>) => Promise<void>,
): Promise<never> {
  const out: Record<string, unknown> = {};
  try {
    await body(out);
  } finally {
    await t.end();
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
  process.exit(0);
}

/** The status of the first EXIT `t`'s keeper reports within `ms`, or "timeout". */
export async function exitStatusOf(t: ExitedMain, ms: number): Promise<number | "timeout"> {
  const e = await withTimeout(t.exited, ms);
  return e === "timeout" ? e : e.status;
}
