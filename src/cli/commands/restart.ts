// berth restart: POST /containers/{id}/restart, each name printed once restarted.
import { perContainer, STOP_FLAGS, stopQuery } from "./lifecycle.ts";

export default perContainer({
  usage: "restart [OPTIONS] CONTAINER [CONTAINER...]",
  summary: "Restart one or more containers",
  aliases: "berth container restart, berth restart",
  flags: STOP_FLAGS,
  method: "POST",
  action: "/restart",
  query: stopQuery,
});
