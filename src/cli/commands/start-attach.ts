// berth start with -a/-i: docker's attached start (attach, wait, start, resize, the session, the
// container's exit code); without them the plain start (start.ts) for each name.
import { CliError, CliExit, EXIT } from "../errors.ts";
import { attachedSession, daemonDetachKeys, detachKeysOf } from "./attach-session.ts";
import type { Command } from "./command.ts";
import { bool, str } from "./command.ts";
import { parseDetachKeys } from "./detach-keys.ts";
import { runFailure, waitStatus } from "./run-exit.ts";
import plain from "./start.ts";

interface ContainerState {
  Id: string;
  Config?: { Tty?: boolean; OpenStdin?: boolean };
  HostConfig?: { AutoRemove?: boolean };
}

const command: Command = {
  ...plain,
  flags: [
    { long: "attach", short: "a", kind: "bool", help: "Attach STDOUT/STDERR and forward signals" },
    { long: "detach-keys", kind: "string", help: "Override the key sequence for detaching a container" },
    { long: "interactive", short: "i", kind: "bool", help: "Attach container's STDIN" },
  ],
  async run(io, p) {
    const attach = bool(p, "attach");
    const interactive = bool(p, "interactive");
    if (!attach && !interactive) return plain.run(io, p);
    if (p.args.length > 1) throw new CliError("you cannot start and attach multiple containers at once");
    const keys = detachKeysOf(io, str(p, "detach-keys"));
    parseDetachKeys(keys);
    const client = io.client();
    const c = await client.json<ContainerState>("GET", `/containers/${encodeURIComponent(p.args[0] as string)}/json`);
    const tty = c.Config?.Tty === true;
    const stdin = interactive && c.Config?.OpenStdin === true;
    const path = `/containers/${encodeURIComponent(c.Id)}`;
    const { socket } = await client.hijack("POST", `${path}/attach`, {
      query: { stream: 1, stdin, stdout: 1, stderr: 1, detachKeys: daemonDetachKeys(io, str(p, "detach-keys")) },
    });
    const condition = c.HostConfig?.AutoRemove ? "removed" : "next-exit";
    const waiting = await client.stream("POST", `${path}/wait`, { query: { condition } });
    try {
      await client.request("POST", `${path}/start`);
    } catch (e) {
      waiting.destroy();
      socket.destroy();
      const failure = runFailure(e, "start");
      throw failure instanceof CliError ? new CliError(failure.message, EXIT.failure) : failure;
    }
    const detached = await attachedSession(io, socket, {
      tty,
      stdin,
      detachKeys: keys,
      resize: (h, w) => client.request("POST", `${path}/resize`, { query: { h, w } }),
      // docker start -a passes signals on whenever there is no tty.
      proxy: (signal) => client.request("POST", `${path}/kill`, { query: { signal } }),
    });
    if (detached) {
      waiting.destroy();
      return;
    }
    const code = await waitStatus(waiting);
    if (code !== 0) throw new CliExit(code);
  },
};
export default command;
