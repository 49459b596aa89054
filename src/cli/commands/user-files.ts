// Files the user names for a command's input or output. Input (load -i, import FILE) is opened
// once, its errors in Go's words as docker prints them. Output is docker's CopyToFile (save -o,
// export -o): the path checked first (its directory must exist), the stream written to a new file
// beside it (mode 0600, created exclusively) and renamed over it once whole. A failed copy leaves
// what was there; a symlink at the path is replaced, not written through.
import { createReadStream, createWriteStream, openSync, type ReadStream, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { CliError } from "../errors.ts";

/** Go's os error text for a Node fs error: "stat /x: no such file or directory". */
export function goError(op: string, path: string, err: unknown): string {
  const code = (err as { code?: string }).code;
  const why =
    code === "ENOENT"
      ? "no such file or directory"
      : code === "EACCES"
        ? "permission denied"
        : code === "ENOTDIR"
          ? "not a directory"
          : (err as Error).message;
  return `${op} ${path}: ${why}`;
}

/** docker's ValidateOutputPath: the directory must be there; `failure` prefixes the error ("failed to save image"). */
export function checkOutputPath(path: string, failure: string): void {
  const dir = dirname(resolve(path));
  try {
    statSync(dir);
  } catch (err) {
    throw new CliError(`${failure}: invalid output path: ${goError("stat", dirname(path), err)}`);
  }
}

/** Copies `body` to `path` as docker's CopyToFile does; `failure` prefixes an error. */
export async function copyToFile(body: NodeJS.ReadableStream, path: string, failure: string): Promise<void> {
  const tmp = join(dirname(path), `.docker_temp_${process.pid}_${Date.now()}`);
  try {
    await pipeline(body, createWriteStream(tmp, { mode: 0o600, flags: "wx" }));
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new CliError(`${failure}: ${(e as Error).message}`);
  }
}

/** The file `path` opened once for reading (docker's os.Open: "open x: no such file or directory"). */
export function openInput(path: string): ReadStream {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (err) {
    throw new CliError(goError("open", path, err));
  }
  return createReadStream(path, { fd });
}
