// berth attach: the local terminal to a running container's stdio (its own tty or its
// multiplexed streams), until the container stops (its exit code is berth's) or the detach keys
// are typed ("read escape sequence", exit 1 as docker's, the container keeps running).
import { CliError, CliExit } from "../errors.ts";
import { attachedSession, daemonDetachKeys, detachKeysOf } from "./attach-session.ts";
import type { Command } from "./command.ts";
import { bool, str } from "./command.ts";
import { parseDetachKeys } from "./detach-keys.ts";
import { waitStatus } from "./run-exit.ts";

interface ContainerState {
  Id: string;
  Config?: { Tty?: boolean; OpenStdin?: boolean };
  State?: { Running?: boolean; Paused?: boolean; Restarting?: boolean };
}

const command: Command = {
  usage: "attach [OPTIONS] CONTAINER",
  summary: "Attach local standard input, output, and error streams to a running container",
  aliases: "berth container attach, berth attach",
  flags: [
    { long: "detach-keys", kind: "string", help: "Override the key sequence for detaching a container" },
    { long: "no-stdin", kind: "bool", help: "Do not attach STDIN" },
    { long: "sig-proxy", kind: "bool", default: true, help: "Proxy all received signals to the process" },
  ],
  args: { min: 1, max: 1 },
  async run(io, p) {
    const name = p.args[0] as string;
    const keys = detachKeysOf(io, str(p, "detach-keys"));
    parseDetachKeys(keys);
    const client = io.client();
    const c = await client.json<ContainerState>("GET", `/containers/${encodeURIComponent(name)}/json`);
    if (!c.State?.Running) throw new CliError("You cannot attach to a stopped container, start it first");
    if (c.State.Paused) throw new CliError("You cannot attach to a paused container, unpause it first");
    if (c.State.Restarting) throw new CliError("You cannot attach to a restarting container, wait until it is running");
    const tty = c.Config?.Tty === true;
    const stdin = c.Config?.OpenStdin === true && !bool(p, "no-stdin");
    const path = `/containers/${encodeURIComponent(c.Id)}`;
    const { socket } = await client.hijack("POST", `${path}/attach`, {
      query: { stream: 1, stdin, stdout: 1, stderr: 1, detachKeys: daemonDetachKeys(io, str(p, "detach-keys")) },
    });
    if (tty && process.stdout.isTTY) {
      // As docker: the tty one row and column bigger first (the session then sends the real size),
      // so the shell redraws its prompt; a second attach would show nothing until a key is typed.
      const [h, w] = [(process.stdout.rows ?? 0) + 1, (process.stdout.columns ?? 0) + 1];
      await client.request("POST", `${path}/resize`, { query: { h, w } }).catch(() => {});
    }
    const detached = await attachedSession(io, socket, {
      tty,
      stdin,
      detachKeys: keys,
      resize: (h, w) => client.request("POST", `${path}/resize`, { query: { h, w } }),
      proxy: bool(p, "sig-proxy")
        ? (signal) => client.request("POST", `${path}/kill`, { query: { signal } })
        : undefined,
    });
    if (detached) throw new CliError("read escape sequence");
    const code = await waitStatus(await client.stream("POST", `${path}/wait`));
    if (code !== 0) throw new CliExit(code);
  },
};
export default command;
