// berth cp: GET /containers/{id}/archive (container -> host, or a tar to stdout with "-") and PUT
// /containers/{id}/archive (host -> container, or a tar from stdin with "-"), with docker's path
// rules (cp/paths.ts): HEAD .../archive's X-Docker-Container-Path-Stat says what the container's
// path is, a trailing "/" or "/." asserts a directory, a missing destination takes the source's
// place under its own name. Extraction on the host is cp/untar.ts (never outside the destination).
import { lstatSync, readlinkSync, realpathSync, statSync } from "node:fs";
import { resolve as resolvePath } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  decodePathStat,
  GO_MODE,
  hasModeBit,
  PATH_STAT_HEADER,
  type PathStat,
} from "../../common/archive/path-stat.ts";
import type { EngineClient } from "../api/client.ts";
import {
  COPY_ERRORS,
  type CopyInfo,
  getRebaseName,
  goBase,
  goDir,
  goJoin,
  hasTrailingSeparator,
  prepareArchiveCopy,
  preserveTrailingDotOrSeparator,
  rebaseName,
  splitCpArg,
  splitPathDirEntry,
} from "../cp/paths.ts";
import { tarHost } from "../cp/tar-host.ts";
import { untar } from "../cp/untar.ts";
import { CliError, DaemonError } from "../errors.ts";
import { humanSize } from "../format/units.ts";
import { bool, type Command, type Io } from "./command.ts";

interface CpConfig {
  container: string;
  source: string;
  dest: string;
  followLink: boolean;
  copyUIDGID: boolean;
  quiet: boolean;
}

/** A Node fs error as Go's os package words it: "lstat /x: no such file or directory". */
function goError(e: unknown): CliError {
  const err = e as NodeJS.ErrnoException;
  if (err.code && err.syscall) {
    const words: Record<string, string> = {
      ENOENT: "no such file or directory",
      ENOTDIR: "not a directory",
      EACCES: "permission denied",
      ELOOP: "too many levels of symbolic links",
    };
    const why = words[err.code] ?? err.message.replace(/^[A-Z]+: /, "").replace(/, \w+ '.*'$/, "");
    return new CliError(`${err.syscall} ${err.path ?? ""}: ${why}`);
  }
  return e instanceof CliError ? e : new CliError((e as Error).message);
}

/** An absolute local path with the typed trailing "/" or "/." kept. */
function resolveLocalPath(p: string): string {
  return preserveTrailingDotOrSeparator(resolvePath(p), p);
}

/** HEAD /containers/{id}/archive?path=: the stat header, or undefined when the daemon says no. */
async function statPath(client: EngineClient, container: string, path: string): Promise<PathStat | undefined> {
  try {
    const a = await client.request("HEAD", `/containers/${encodeURIComponent(container)}/archive`, { query: { path } });
    const h = a.headers[PATH_STAT_HEADER.toLowerCase()];
    return decodePathStat(Array.isArray(h) ? h[0] : h);
  } catch (e) {
    if (e instanceof DaemonError) return undefined;
    throw e;
  }
}

/** docker's ValidateOutputPath for a local destination. */
function validateOutputPath(path: string): void {
  const dir = goDir(goJoin(path));
  if (dir !== "" && dir !== ".") {
    try {
      statSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT")
        throw new CliError(`invalid output path: directory "${dir}" does not exist`);
    }
  }
  let st: ReturnType<typeof statSync> | undefined;
  try {
    st = statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw goError(e);
  }
  if (st.isDirectory() || st.isFile()) return;
  const what = st.isCharacterDevice() || st.isBlockDevice() ? "got a device" : "got an irregular file";
  throw new CliError(`invalid output path: "${path}" must be a directory or a regular file: ${what}`);
}

/** moby's CopyInfoDestinationPath: the destination with its symlinks followed (10 at most). */
function destinationInfo(path: string): CopyInfo {
  let p = path;
  let st: ReturnType<typeof lstatSync> | undefined;
  const look = () => {
    try {
      return lstatSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw goError(e);
    }
  };
  st = look();
  for (let n = 0; st?.isSymbolicLink(); n++) {
    if (n > 10) throw new CliError(`too many symlinks in ${path}`);
    let target = readlinkSync(p);
    if (!target.startsWith("/")) target = goJoin(splitPathDirEntry(p).dir, target);
    p = target;
    st = look();
  }
  if (st === undefined) {
    const parent = splitPathDirEntry(p).dir;
    let pst: ReturnType<typeof statSync>;
    try {
      pst = statSync(parent);
    } catch (e) {
      throw goError(e);
    }
    if (!pst.isDirectory()) throw new CliError(COPY_ERRORS.notDirectory);
    return { path: p, exists: false, isDir: false, rebaseName: "" };
  }
  return { path: p, exists: true, isDir: st.isDirectory(), rebaseName: "" };
}

/** moby's CopyInfoSourcePath: the local source, its parent's symlinks (or all, with -L) resolved. */
function sourceInfo(path: string, followLink: boolean): CopyInfo {
  let resolved: string;
  let rebase = "";
  try {
    if (followLink) {
      const r = getRebaseName(path, realpathSync(path));
      resolved = r.resolved;
      rebase = r.rebaseName;
    } else {
      const cut = path.lastIndexOf("/") + 1;
      const dir = path.slice(0, cut);
      const base = path.slice(cut);
      resolved = `${realpathSync(dir === "" ? "." : dir)}/${base}`.replace(/^\/\//, "/");
      if (hasTrailingSeparator(path) && goBase(path) !== goBase(resolved)) rebase = goBase(path);
    }
    const st = lstatSync(resolved);
    return { path: resolved, exists: true, isDir: st.isDirectory(), rebaseName: rebase };
  } catch (e) {
    throw goError(e);
  }
}

function doneLine(io: Io, cfg: CpConfig, bytes: number, where: string): void {
  if (!cfg.quiet) io.err.write(`Successfully copied ${humanSize(bytes)} to ${where}\n`);
}

/** Counts what passes through. */
async function* counted(src: AsyncIterable<Buffer>, total: { n: number }): AsyncGenerator<Buffer> {
  for await (const c of src) {
    total.n += c.length;
    yield c;
  }
}

async function copyFromContainer(io: Io, cfg: CpConfig): Promise<void> {
  let dst = cfg.dest;
  let src = cfg.source;
  if (dst !== "-") dst = resolveLocalPath(dst);
  validateOutputPath(dst);
  const client = io.client();
  let rebase = "";
  if (cfg.followLink) {
    const st = await statPath(client, cfg.container, src);
    if (st !== undefined && hasModeBit(st.mode, GO_MODE.symlink)) {
      let target = st.linkTarget;
      if (!target.startsWith("/")) target = goJoin(splitPathDirEntry(src).dir, target);
      const r = getRebaseName(src, target);
      src = r.resolved;
      rebase = r.rebaseName;
    }
  }
  const body = await client.stream("GET", `/containers/${encodeURIComponent(cfg.container)}/archive`, {
    query: { path: src },
  });
  if (dst === "-") {
    await pipeline(body, io.out);
    return;
  }
  const header = body.headers[PATH_STAT_HEADER.toLowerCase()];
  const stat = decodePathStat(Array.isArray(header) ? header[0] : header);
  const srcInfo: CopyInfo = {
    path: src,
    exists: true,
    isDir: stat !== undefined && hasModeBit(stat.mode, GO_MODE.dir),
    rebaseName: rebase,
  };
  const dstInfo = destinationInfo(dst);
  const plan = prepareArchiveCopy(srcInfo, dstInfo);
  if ("error" in plan) {
    body.destroy();
    throw new CliError(plan.error);
  }
  const renames: { from: string; to: string }[] = [];
  if (rebase !== "") renames.push({ from: splitPathDirEntry(src).base, to: rebase });
  // prepareArchiveCopy already uses the rebased name as its source base.
  if (plan.rebase) renames.push(plan.rebase);
  const total = { n: 0 };
  await untar(counted(body, total), plan.dstDir, {
    rename: (name) => renames.reduce((n, r) => rebaseName(n, r.from, r.to), name),
  });
  doneLine(io, cfg, total.n, dst);
}

async function copyToContainer(io: Io, cfg: CpConfig): Promise<void> {
  let src = cfg.source;
  const dstPath = cfg.dest;
  if (src !== "-") src = resolveLocalPath(src);
  const client = io.client();
  const dstInfo: CopyInfo = { path: dstPath, exists: false, isDir: false, rebaseName: "" };
  let st = await statPath(client, cfg.container, dstPath);
  if (st !== undefined && hasModeBit(st.mode, GO_MODE.symlink)) {
    let target = st.linkTarget;
    if (!target.startsWith("/")) target = goJoin(splitPathDirEntry(dstPath).dir, target);
    dstInfo.path = target;
    st = await statPath(client, cfg.container, target);
  }
  if (st !== undefined && hasModeBit(st.mode, GO_MODE.device))
    throw new CliError(`destination "${cfg.container}:${dstPath}" must be a directory or a regular file: got a device`);
  if (st !== undefined) {
    dstInfo.exists = true;
    dstInfo.isDir = hasModeBit(st.mode, GO_MODE.dir);
  }
  let content: AsyncIterable<Buffer>;
  let dstDir: string;
  if (src === "-") {
    if (!dstInfo.isDir) throw new CliError(`destination "${cfg.container}:${dstPath}" must be a directory`);
    content = process.stdin;
    dstDir = dstInfo.path;
  } else {
    const srcInfo = sourceInfo(src, cfg.followLink);
    const { dir, base } = splitPathDirEntry(srcInfo.path);
    const plan = prepareArchiveCopy(srcInfo, dstInfo);
    if ("error" in plan) throw new CliError(plan.error);
    dstDir = plan.dstDir;
    // TarResource names the source's entry by its RebaseName, then PrepareArchiveCopy renames
    // that to the destination's base: one rename of the first name, done as the tar is written.
    content = tarHost(dir, base, plan.rebase ? plan.rebase.to : srcInfo.rebaseName);
  }
  const total = { n: 0 };
  // A local read failing mid-way ends the upload (the daemon refuses the cut archive) and is
  // what berth reports: a stream erroring into the request would leave it waiting.
  let failed: unknown;
  async function* guarded(): AsyncGenerator<Buffer> {
    try {
      yield* counted(content, total);
    } catch (e) {
      failed = e;
    }
  }
  let sent: unknown;
  try {
    await client.request("PUT", `/containers/${encodeURIComponent(cfg.container)}/archive`, {
      // As docker's client words them ("true"; a daemon reads 1 as well).
      query: { path: dstDir, noOverwriteDirNonDir: "true", copyUIDGID: cfg.copyUIDGID ? "true" : undefined },
      body: Readable.from(guarded()),
      headers: { "Content-Type": "application/x-tar" },
    });
  } catch (e) {
    sent = e;
  }
  if (failed !== undefined) throw goError(failed);
  // A daemon that refuses at once (no such container) answers before the body is sent: the
  // client keeps that answer (api/early-answer.ts).
  if (sent !== undefined) throw sent;
  doneLine(io, cfg, total.n, `${cfg.container}:${dstInfo.path}`);
}

const command: Command = {
  usage: "cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
  summary: "Copy files/folders between a container and the local filesystem",
  aliases: "berth container cp, berth cp",
  flags: [
    { long: "archive", short: "a", kind: "bool", help: "Archive mode (copy all uid/gid information)" },
    { long: "follow-link", short: "L", kind: "bool", help: "Always follow symbol link in SRC_PATH" },
    {
      long: "quiet",
      short: "q",
      kind: "bool",
      help: "Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached",
    },
  ],
  args: { min: 2, max: 2 },
  async run(io, p) {
    const [source, dest] = p.args as [string, string];
    if (source === "") throw new CliError("source can not be empty");
    if (dest === "") throw new CliError("destination can not be empty");
    const from = splitCpArg(source);
    const to = splitCpArg(dest);
    const cfg: CpConfig = {
      container: "",
      source: from.path,
      dest: to.path,
      followLink: bool(p, "follow-link"),
      copyUIDGID: bool(p, "archive"),
      // docker 28: quiet unless asked otherwise and stdout is a terminal.
      quiet: p.set.has("quiet") ? bool(p, "quiet") : io.out.isTTY !== true,
    };
    if (from.container !== "" && to.container !== "") throw new CliError("copying between containers is not supported");
    if (from.container === "" && to.container === "") throw new CliError("must specify at least one container source");
    cfg.container = from.container || to.container;
    try {
      if (from.container !== "") await copyFromContainer(io, cfg);
      else await copyToContainer(io, cfg);
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw goError(e);
    }
  },
};
export default command;
