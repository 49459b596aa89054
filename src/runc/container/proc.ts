// Facts about host processes read from /proc.
import { readFileSync } from "node:fs";

export interface ProcStat {
  state: string;
  startTime: string;
}

/** /proc/<pid>/stat; the command name may hold spaces and parentheses, so parse from the last ')'. */
export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // rest[0] is field 3 (state); field 22 (starttime) is rest[19].
  return { state: rest[0] ?? "", startTime: rest[19] ?? "" };
}

/** Alive and the same process as recorded (not a zombie, not a recycled pid). */
export function isSameLiveProcess(pid: number, startTime: string): boolean {
  const st = readProcStat(pid);
  return st !== undefined && st.startTime === startTime && st.state !== "Z" && st.state !== "X";
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
