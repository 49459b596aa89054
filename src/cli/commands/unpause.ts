// berth unpause: POST /containers/{id}/unpause, each name printed.
import { perContainer } from "./lifecycle.ts";

export default perContainer({
  usage: "unpause CONTAINER [CONTAINER...]",
  summary: "Unpause all processes within one or more containers",
  aliases: "berth container unpause, berth unpause",
  flags: [],
  method: "POST",
  action: "/unpause",
  query: () => ({}),
});
