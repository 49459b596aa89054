// berth logs: GET /containers/{id}/logs; a TTY container's log is raw, any other is docker's
// multiplexed stream, split back into stdout and stderr.
import { Demuxer } from "../api/client.ts";
import { bool, type Command, str } from "./command.ts";
import { timeArg } from "./times.ts";

const command: Command = {
  usage: "logs [OPTIONS] CONTAINER",
  summary: "Fetch the logs of a container",
  aliases: "berth container logs, berth logs",
  flags: [
    { long: "details", kind: "bool", help: "Show extra details provided to logs" },
    { long: "follow", short: "f", kind: "bool", help: "Follow log output" },
    {
      long: "since",
      kind: "string",
      help: 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)',
    },
    {
      long: "tail",
      short: "n",
      kind: "string",
      default: "all",
      help: "Number of lines to show from the end of the logs",
    },
    { long: "timestamps", short: "t", kind: "bool", help: "Show timestamps" },
    {
      long: "until",
      kind: "string",
      help: 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)',
      minApi: "1.35",
    },
  ],
  args: { min: 1, max: 1 },
  async run(io, p) {
    const name = encodeURIComponent(p.args[0] as string);
    const client = io.client();
    const c = await client.json<{ Config?: { Tty?: boolean } }>("GET", `/containers/${name}/json`);
    const since = str(p, "since");
    const until = str(p, "until");
    const body = await client.stream("GET", `/containers/${name}/logs`, {
      query: {
        stdout: true,
        stderr: true,
        follow: bool(p, "follow") || undefined,
        tail: str(p, "tail") ?? "all",
        since: since ? timeArg(since, Date.now(), "since") : undefined,
        until: until ? timeArg(until, Date.now(), "until") : undefined,
        timestamps: bool(p, "timestamps") || undefined,
        details: bool(p, "details") || undefined,
      },
    });
    const tty = c?.Config?.Tty === true;
    const demux = new Demuxer((stream, data) => (stream === 2 ? io.err : io.out).write(data));
    for await (const chunk of body) {
      if (tty) io.out.write(chunk as Buffer);
      else demux.push(chunk as Buffer);
    }
  },
};
export default command;
