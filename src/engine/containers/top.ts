// `docker top`: the host's ps, its rows kept for the container's processes, as dockerd answers
// GET /containers/{id}/top: {"Titles": [...], "Processes": [[...], ...]}. The parsing is pure;
// the ps arguments a client sends are checked to be ps options, nothing else.
import { InvalidArgumentError } from "../../common/errors.ts";

/** ps options as clients send them ("-ef", "aux", "-o pid,comm"). */
const PS_ARG = /^[-a-zA-Z0-9,=:%]{1,64}$/;
export const MAX_PS_ARGS = 16;

export function psArgs(raw: string | null): string[] {
  const args = (raw === null || raw.trim() === "" ? "-ef" : raw).trim().split(/\s+/);
  if (args.length > MAX_PS_ARGS || !args.every((a) => PS_ARG.test(a))) {
    throw new InvalidArgumentError(`invalid ps arguments: ${JSON.stringify(raw?.slice(0, 100))}`);
  }
  return args;
}

export interface TopBody {
  Titles: string[];
  Processes: string[][];
}

/**
 * ps's output reduced to `pids`: the header's titles, and for each row the columns split as many
 * times as there are titles (the last, the command, keeps its spaces).
 */
export function parsePs(output: string, pids: ReadonlySet<number>): TopBody {
  const lines = output.split("\n").filter((l) => l.trim() !== "");
  const titles = (lines[0] ?? "").trim().split(/\s+/);
  const pidCol = titles.indexOf("PID");
  if (pidCol < 0) throw new InvalidArgumentError(`Couldn't find PID field in ps output`);
  const processes: string[][] = [];
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/);
    const row = [...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(" ")];
    if (pids.has(Number(row[pidCol]))) processes.push(row);
  }
  return { Titles: titles, Processes: processes };
}
