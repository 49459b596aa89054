// berth run: docker run's call sequence — create (pulling a missing image), attach before start
// unless -d, wait (next-exit, or removed with --rm) before start, start, the terminal's size with
// -t, signals passed on (--sig-proxy), the id printed with -d — and the container's exit code as
// berth's own.
import { CliError, CliExit, EXIT } from "../errors.ts";
import { RUN_FLAGS } from "../run/flags.ts";
import { attachedSession, daemonDetachKeys, detachKeysOf } from "./attach-session.ts";
import type { Command } from "./command.ts";
import { bool, list, str } from "./command.ts";
import { as125, createContainer, createRequestOf } from "./create-flow.ts";
import { runFailure, waitStatus } from "./run-exit.ts";

const command: Command = {
  usage: "run [OPTIONS] IMAGE [COMMAND] [ARG...]",
  summary: "Create and run a new container from an image",
  aliases: "berth container run, berth run",
  flags: [...RUN_FLAGS],
  interspersed: false,
  args: { min: 1 },
  async run(io, p) {
    const req = createRequestOf(p, "run", io.context.host);
    const detach = bool(p, "detach");
    const tty = bool(p, "tty");
    const interactive = bool(p, "interactive");
    // Not checked here: docker creates the container, then the daemon refuses keys it cannot read
    // on the attach (run -d never sends them); the local watcher falls back to the default.
    const keys = detachKeysOf(io, str(p, "detach-keys"));
    if (!detach && tty && interactive && !process.stdin.isTTY) {
      throw new CliError("the input device is not a TTY", EXIT.failure);
    }
    const client = io.client();
    const id = await createContainer(io, p, req).catch((e) => Promise.reject(runFailure(e, "run")));
    const path = `/containers/${encodeURIComponent(id)}`;
    const streams = list(p, "attach").map((s) => s.toLowerCase());
    const want = (s: string) => (streams.length === 0 ? s !== "stdin" || interactive : streams.includes(s));

    let conn: Awaited<ReturnType<typeof client.hijack>>["socket"] | undefined;
    let waiting: Awaited<ReturnType<typeof client.stream>> | undefined;
    try {
      if (!detach) {
        // The attach and the wait need only the id, not each other: both are sent at once (docker
        // sends one after the other), and start only once both are in place, as docker's.
        const condition = bool(p, "rm") ? "removed" : "next-exit";
        const [attached, waited] = await Promise.allSettled([
          client.hijack("POST", `${path}/attach`, {
            query: {
              stream: 1,
              stdin: want("stdin"),
              stdout: want("stdout"),
              stderr: want("stderr"),
              detachKeys: daemonDetachKeys(io, str(p, "detach-keys")),
            },
          }),
          client.stream("POST", `${path}/wait`, { query: { condition } }),
        ]);
        if (attached.status === "fulfilled") conn = attached.value.socket;
        if (waited.status === "fulfilled") waiting = waited.value;
        // docker run returns an attach error as it is (exit 1), not as its create errors (125);
        // the attach's error comes first, as it would in docker's order.
        if (attached.status === "rejected") {
          waiting?.destroy();
          throw attached.reason;
        }
        if (waited.status === "rejected") throw as125(waited.reason);
      }
      try {
        await client.request("POST", `${path}/start`);
      } catch (e) {
        waiting?.destroy();
        throw runFailure(e, "run");
      }
      if (detach || !conn || !waiting) {
        io.out.write(`${id}\n`);
        return;
      }
      const detached = await attachedSession(io, conn, {
        tty,
        stdin: want("stdin"),
        detachKeys: keys,
        resize: (h, w) => client.request("POST", `${path}/resize`, { query: { h, w } }),
        proxy: bool(p, "sig-proxy")
          ? (signal) => client.request("POST", `${path}/kill`, { query: { signal } })
          : undefined,
      });
      if (detached) {
        waiting.destroy();
        return;
      }
      const code = await waitStatus(waiting);
      if (code !== 0) throw new CliExit(code);
    } finally {
      // Whatever failed before the session: the attach is not left open.
      conn?.destroy();
    }
  },
};
export default command;
