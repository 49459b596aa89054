// The process of a container: its argv, environment and working directory, merged from the
// request and the image exactly as dockerd merges them (at create: daemon's config merge; at
// start: its daemon environment). Pure.
import { InvalidArgumentError } from "../../../common/errors.ts";
import type { ContainerConfig, ImageConfig } from "./types.ts";

/** The PATH a container gets when neither the image nor the request sets one (dockerd's). */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const envKey = (e: string) => e.split("=")[0]!;

/**
 * Config.Env after create: the request's entries first, then the image's whose key the request
 * does not name ("FOO" without "=" names FOO too, so it drops the image's FOO).
 */
export function mergeEnv(image: readonly string[], request: readonly string[]): string[] {
  if (request.length === 0) return [...image];
  const keys = new Set(request.map(envKey));
  return [...request, ...image.filter((e) => !keys.has(envKey(e)))];
}

/**
 * `overrides` laid over `defaults` as dockerd does: KEY=V replaces the entry of the same key in
 * place or is appended; a bare KEY removes a default of that key. Keys appended here are not
 * looked up again (a later duplicate is appended too, as in dockerd).
 */
export function replaceOrAppendEnv(defaults: readonly string[], overrides: readonly string[]): string[] {
  const out: (string | undefined)[] = [...defaults];
  const index = new Map<string, number>();
  defaults.forEach((e, i) => {
    index.set(envKey(e), i);
  });
  for (const v of overrides) {
    const eq = v.indexOf("=");
    if (eq < 0) {
      const i = index.get(v);
      if (i !== undefined) out[i] = undefined;
      continue;
    }
    const i = index.get(v.slice(0, eq));
    if (i !== undefined) out[i] = v;
    else out.push(v);
  }
  return out.filter((e): e is string => e !== undefined && e !== "");
}

/** The process environment at start: PATH, HOSTNAME, TERM with a terminal, then Config.Env. */
export function processEnv(configEnv: readonly string[], hostname: string, tty: boolean): string[] {
  const base = [`PATH=${DEFAULT_PATH}`, `HOSTNAME=${hostname}`];
  if (tty) base.push("TERM=xterm");
  return replaceOrAppendEnv(base, configEnv);
}

export interface Command {
  entrypoint: string[];
  cmd: string[];
}

/**
 * Entrypoint and Cmd after create. An Entrypoint in the request (even [""], the CLI's
 * `--entrypoint ""`) replaces the image's and drops the image's Cmd; an absent one keeps the
 * image's, and the image's Cmd is used when the request has none.
 */
export function mergeCommand(request: Pick<ContainerConfig, "Entrypoint" | "Cmd">, image: ImageConfig): Command {
  let entrypoint = request.Entrypoint;
  let cmd = request.Cmd ?? [];
  if (entrypoint === undefined || entrypoint.length === 0) {
    if (cmd.length === 0) cmd = image.Cmd ?? [];
    if (entrypoint === undefined) entrypoint = image.Entrypoint;
  }
  return { entrypoint: entrypoint ?? [], cmd };
}

/** The argv: Entrypoint then Cmd, a lone "" Entrypoint being no entrypoint. */
export function processArgs(command: Command): string[] {
  const ep = command.entrypoint.length === 1 && command.entrypoint[0] === "" ? [] : command.entrypoint;
  const args = [...ep, ...command.cmd];
  if (args.length === 0) throw new InvalidArgumentError("No command specified");
  return args;
}

/** Config.WorkingDir, else the image's, else "/"; a relative one is refused as dockerd refuses it. */
export function workingDir(request: string, image: ImageConfig): string {
  if (request !== "" && !request.startsWith("/")) {
    throw new InvalidArgumentError(`the working directory '${request}' is invalid, it needs to be an absolute path`);
  }
  const dir = request !== "" ? request : (image.WorkingDir ?? "");
  return dir === "" ? "/" : dir;
}
