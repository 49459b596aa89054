// --env-file and --label-file: lines of KEY=value, read the way the docker CLI reads them (leading
// blanks and #-comments skipped, a UTF-8 BOM dropped, a bare KEY taken from the environment for
// env files and dropped otherwise, the value passed through untrimmed). run, create and exec share it.
import { closeSync, openSync, readSync } from "node:fs";

/** A file larger than this is refused: an env file is lines of settings, not data. */
export const MAX_KV_FILE_BYTES = 4 * 1024 * 1024;
/** bufio.Scanner's line limit, which docker's reader has too. */
const MAX_LINE = 64 * 1024;

export function parseKvFile(
  name: string,
  text: string,
  lookup: ((key: string) => string | undefined) | undefined,
): string[] | { problem: string } {
  const out: string[] = [];
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  for (let i = 0; i < lines.length; i++) {
    let raw = lines[i]!.replace(/\r$/, "");
    if (Buffer.byteLength(raw) > MAX_LINE) return { problem: "bufio.Scanner: token too long" };
    if (raw.includes("\ufffd")) return { problem: `env file ${name} contains invalid utf8 bytes at line ${i + 1}` };
    if (i === 0) raw = raw.replace(/^\ufeff/, "");
    const line = raw.replace(/^\s+/u, "");
    if (line === "" || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    const variable = (eq < 0 ? line : line.slice(0, eq)).replace(/^[ \t]+/, "");
    if (/[ \t]/.test(variable))
      return { problem: `poorly formatted environment: variable '${variable}' contains whitespaces` };
    if (variable === "") return { problem: `poorly formatted environment: no variable name on line '${line}'` };
    if (eq >= 0) out.push(`${variable}=${line.slice(eq + 1)}`);
    else {
      const value = lookup?.(line);
      if (value !== undefined) out.push(`${variable.trim()}=${value}`);
    }
  }
  return out;
}

/**
 * A file's text, refused past MAX_KV_FILE_BYTES by what is read, not by its stat: /dev/zero, a FIFO
 * or /dev/stdin has size 0 and no end (docker's reader stops at its line bound too).
 */
export function readSettingsFile(path: string): string {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(MAX_KV_FILE_BYTES + 1);
    let n = 0;
    while (n < buf.length) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
    }
    if (n > MAX_KV_FILE_BYTES) throw new Error(`larger than ${MAX_KV_FILE_BYTES} bytes`);
    return buf.toString("utf8", 0, n);
  } finally {
    closeSync(fd);
  }
}

/** The lines of several files in order; a file that cannot be read is refused in docker's words. */
export function readKvFiles(
  files: readonly string[],
  readFile: (path: string) => string,
  lookup: ((key: string) => string | undefined) | undefined,
): string[] | { problem: string } {
  const out: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFile(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return {
        problem:
          code === "ENOENT" ? `open ${file}: no such file or directory` : `open ${file}: ${(err as Error).message}`,
      };
    }
    const r = parseKvFile(file, text, lookup);
    if ("problem" in r) return r;
    out.push(...r);
  }
  return out;
}
