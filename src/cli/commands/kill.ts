// berth kill: POST /containers/{id}/kill (SIGKILL unless -s), each name printed.
import { str } from "./command.ts";
import { perContainer } from "./lifecycle.ts";

export default perContainer({
  usage: "kill [OPTIONS] CONTAINER [CONTAINER...]",
  summary: "Kill one or more running containers",
  aliases: "berth container kill, berth kill",
  flags: [{ long: "signal", short: "s", kind: "string", help: "Signal to send to the container" }],
  method: "POST",
  action: "/kill",
  query: (p) => ({ signal: str(p, "signal") || undefined }),
});
