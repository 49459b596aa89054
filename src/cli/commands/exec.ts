// berth exec: POST /containers/{id}/exec, then /exec/{id}/start — detached (-d), or hijacked with
// the local stdin (-i) and terminal (-t: raw mode, resize) — and the exec's exit code (GET
// /exec/{id}/json) as berth's own.
import { CliError, CliExit } from "../errors.ts";
import { readKvFiles, readSettingsFile } from "../run/kv-files.ts";
import { attachedSession, daemonDetachKeys, detachKeysOf } from "./attach-session.ts";
import type { Command } from "./command.ts";
import { bool, list, str } from "./command.ts";
import { parseDetachKeys } from "./detach-keys.ts";

/** -e NAME=value, or a bare NAME taken from berth's environment (left bare when unset). */
export function execEnv(values: readonly string[], env: Readonly<Record<string, string | undefined>>): string[] {
  return values.map((v) => {
    if (v.includes("=")) return v;
    const have = env[v];
    return have === undefined ? v : `${v}=${have}`;
  });
}

const command: Command = {
  usage: "exec [OPTIONS] CONTAINER COMMAND [ARG...]",
  summary: "Execute a command in a running container",
  aliases: "berth container exec, berth exec",
  interspersed: false,
  flags: [
    { long: "detach", short: "d", kind: "bool", help: "Detached mode: run command in the background" },
    { long: "detach-keys", kind: "string", help: "Override the key sequence for detaching a container" },
    { long: "env", short: "e", kind: "strings", help: "Set environment variables", minApi: "1.25" },
    { long: "env-file", kind: "strings", help: "Read environment variables from a file", minApi: "1.25" },
    { long: "interactive", short: "i", kind: "bool", help: "Keep STDIN open even if not attached" },
    { long: "privileged", kind: "bool", help: "Give extended privileges to the command" },
    { long: "tty", short: "t", kind: "bool", help: "Allocate a pseudo-TTY" },
    { long: "user", short: "u", kind: "string", help: "Username or UID (format: <name|uid>[:<group|gid>])" },
    { long: "workdir", short: "w", kind: "string", help: "Working directory inside the container", minApi: "1.35" },
  ],
  args: { min: 2 },
  async run(io, p) {
    const [container, ...cmd] = p.args as [string, ...string[]];
    const detach = bool(p, "detach");
    const tty = bool(p, "tty");
    const interactive = bool(p, "interactive");
    const keys = detachKeysOf(io, str(p, "detach-keys"));
    parseDetachKeys(keys);
    // As run reads them: the files' lines first, then -e; a bad file is refused before anything is sent.
    const fromFiles = readKvFiles(list(p, "env-file"), readSettingsFile, (k) => process.env[k]);
    if ("problem" in fromFiles) throw new CliError(fromFiles.problem);
    const out = process.stdout;
    const size = tty && out.isTTY && out.rows && out.columns ? [out.rows, out.columns] : null;
    const client = io.client();
    const created = await client.json<{ Id: string }>("POST", `/containers/${encodeURIComponent(container)}/exec`, {
      body: {
        User: str(p, "user") ?? "",
        Privileged: bool(p, "privileged"),
        Tty: tty,
        ConsoleSize: size,
        AttachStdin: interactive && !detach,
        AttachStderr: !detach,
        AttachStdout: !detach,
        DetachKeys: daemonDetachKeys(io, str(p, "detach-keys")) ?? "",
        Env: [...fromFiles, ...execEnv(list(p, "env"), process.env)],
        WorkingDir: str(p, "workdir") ?? "",
        Cmd: cmd,
      },
    });
    const path = `/exec/${encodeURIComponent(created.Id)}`;
    if (detach) {
      await client.request("POST", `${path}/start`, { body: { Detach: true, Tty: tty, ConsoleSize: size } });
      return;
    }
    const { socket } = await client.hijack("POST", `${path}/start`, {
      body: { Detach: false, Tty: tty, ConsoleSize: size },
    });
    const detached = await attachedSession(io, socket, {
      tty,
      stdin: interactive,
      detachKeys: keys,
      resize: (h, w) => client.request("POST", `${path}/resize`, { query: { h, w } }),
    });
    // docker's exec, as its attach, ends a detached session with this error (exit 1).
    if (detached) throw new CliError("read escape sequence");
    const info = await client.json<{ ExitCode?: number | null }>("GET", `${path}/json`);
    const code = info?.ExitCode ?? 0;
    if (code !== 0) throw new CliExit(code);
  },
};
export default command;
