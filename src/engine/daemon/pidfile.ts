// berthd's pid file: the guard against two daemons on one data root. As dockerd: a pid file that
// names a live berthd stops the start; one left by a berthd that died (or whose pid another
// program has since taken) is replaced. It is written whole (temp + rename) and removed at exit
// only while it still names this process.
import { readFileSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { writeFileAtomic } from "../../common/atomic-write.ts";
import { errnoCode, FailedPreconditionError } from "../../common/errors.ts";
import { makeDir } from "../../common/secure-fs.ts";

/** The pid a pid file names, if it names one (bounded read: a pid is a few digits). */
export function readPid(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path).subarray(0, 64).toString("utf8").trim();
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return undefined;
    throw err;
  }
  if (!/^\d{1,10}$/.test(text)) return undefined;
  const pid = Number(text);
  return pid > 0 && pid <= 0x3fffffff ? pid : undefined;
}

/** The process's argv, or undefined when there is no such process. */
export function cmdlineOf(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`)
      .subarray(0, 64 << 10)
      .toString("utf8")
      .split("\0")
      .filter(Boolean);
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` is a live process whose command line shows `program`: its argv[0], or its script,
 * the first argument that is not an interpreter's flag (the commands' shebangs give node V8 flags
 * before the script: scripts/build.mjs).
 */
export function isLiveProgram(pid: number, program: string): boolean {
  const argv = cmdlineOf(pid);
  if (!argv) return false;
  const script = argv.slice(1).find((a) => !a.startsWith("-"));
  return [argv[0], script].some(
    (a) => a !== undefined && (a === program || a.endsWith(`/${program}`) || a.endsWith(`/${program}.mjs`)),
  );
}

/** Writes this process's pid to `path`, refusing when a live berthd holds it. */
export function claimPidfile(path: string, pid = process.pid): void {
  const held = readPid(path);
  if (held !== undefined && held !== pid && isLiveProgram(held, "berthd")) {
    throw new FailedPreconditionError(
      `pid file found, ensure berthd is not running or delete ${path} (it names pid ${held}, a running berthd)`,
    );
  }
  makeDir(dirname(path), 0o755);
  writeFileAtomic(path, `${pid}\n`, { mode: 0o644 });
}

/** Removes the pid file if it still names `pid`. */
export function releasePidfile(path: string, pid = process.pid): void {
  if (readPid(path) === pid) rmSync(path, { force: true });
}
