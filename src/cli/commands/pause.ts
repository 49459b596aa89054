// berth pause: POST /containers/{id}/pause, each name printed.
import { perContainer } from "./lifecycle.ts";

export default perContainer({
  usage: "pause CONTAINER [CONTAINER...]",
  summary: "Pause all processes within one or more containers",
  aliases: "berth container pause, berth pause",
  flags: [],
  method: "POST",
  action: "/pause",
  query: () => ({}),
});
