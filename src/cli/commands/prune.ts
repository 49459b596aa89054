// container, image, volume, network and system prune: docker's warning and y/N question (unless -f), the call, and
// the report of what went and the space it freed.
import { createInterface } from "node:readline/promises";
import type { Query } from "../api/client.ts";
import { humanSize } from "../format/units.ts";
import type { Io } from "./command.ts";

/** docker's question; true only for y/Y. stdin that is not a terminal answers from its first line. */
export async function confirm(io: Io, warning: string): Promise<boolean> {
  io.out.write(`${warning}\nAre you sure you want to continue? [y/N] `);
  const rl = createInterface({ input: process.stdin, terminal: false });
  try {
    const answer = await Promise.race([rl.question(""), new Promise<string>((r) => rl.once("close", () => r("")))]);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** One prune call's report: "<heading>\n<line>...\n" and a blank line (nothing when nothing went), and the space it freed. */
export async function pruneSection(
  io: Io,
  path: string,
  query: Query,
  heading: string,
  lines: (r: Record<string, unknown>) => string[],
): Promise<{ text: string; space: number }> {
  const r = await io.client().json<Record<string, unknown>>("POST", path, { query });
  const deleted = lines(r ?? {});
  const space = Number(r?.SpaceReclaimed ?? 0);
  return {
    text: deleted.length > 0 ? `${heading}\n${deleted.join("\n")}\n\n` : "",
    space: Number.isFinite(space) && space > 0 ? space : 0,
  };
}

/** The deleted names of a prune answer's list field (a daemon's non-strings dropped). */
export function namesIn(r: Record<string, unknown>, field: string): string[] {
  const v = r[field];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

export async function prune(
  io: Io,
  what: "containers" | "images" | "volumes",
  query: Query,
  heading: string,
  lines: (r: Record<string, unknown>) => string[],
): Promise<void> {
  const { text, space } = await pruneSection(io, `/${what}/prune`, query, heading, lines);
  io.out.write(`${text}Total reclaimed space: ${humanSize(space)}\n`);
}
