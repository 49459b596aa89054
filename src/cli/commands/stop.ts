// berth stop: POST /containers/{id}/stop, each name printed once stopped.
import { perContainer, STOP_FLAGS, stopQuery } from "./lifecycle.ts";

export default perContainer({
  usage: "stop [OPTIONS] CONTAINER [CONTAINER...]",
  summary: "Stop one or more running containers",
  aliases: "berth container stop, berth stop",
  flags: STOP_FLAGS,
  method: "POST",
  action: "/stop",
  query: stopQuery,
});
