// config.json read for a change and written back the way docker writes it: the whole document
// kept (keys berth does not know survive), a new file beside the real one (a symlinked
// config.json is followed, as docker's atomic writer does), mode 0600, renamed over it once whole.
// A file that does not parse is never overwritten: it may hold what its owner wants to keep.
import { closeSync, fsyncSync, mkdirSync, openSync, realpathSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { CliError } from "../errors.ts";
import { readSmall } from "./read-small.ts";
import { MAX_CONFIG_BYTES } from "./resolve.ts";

export type ConfigDoc = Record<string, unknown>;

/** The config file's path in `configDir`. */
export function configPath(configDir: string): string {
  return join(configDir, "config.json");
}

/** The document as it is on disk now ({} when there is none); a file that does not parse is an error. */
export function loadConfigDoc(configDir: string): ConfigDoc {
  const path = configPath(configDir);
  let text: string;
  try {
    text = readSmall(path, MAX_CONFIG_BYTES);
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return {};
    throw new CliError(`${(err as Error).message}: not overwritten`);
  }
  if (text.trim() === "") return {};
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${path} is not valid JSON (${(err as Error).message}): not overwritten`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    throw new CliError(`${path} is not a JSON object: not overwritten`);
  return doc as ConfigDoc;
}

/** Writes `doc` as config.json (tab-indented, as docker does), atomically, mode 0600. */
export function saveConfigDoc(configDir: string, doc: ConfigDoc): void {
  const path = configPath(configDir);
  mkdirSync(configDir, { recursive: true, mode: 0o700 });
  let target = path;
  try {
    target = realpathSync(path);
  } catch {}
  const tmp = join(dirname(target), `.config.json.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tmp, "wx", 0o600);
  try {
    writeSync(fd, JSON.stringify(doc, null, "\t"));
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, target);
  } catch (err) {
    try {
      closeSync(fd);
    } catch {}
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Reads, changes and writes back config.json; what `change` returns is returned. */
export function updateConfig<T>(configDir: string, change: (doc: ConfigDoc) => T): T {
  const doc = loadConfigDoc(configDir);
  const result = change(doc);
  saveConfigDoc(configDir, doc);
  return result;
}
