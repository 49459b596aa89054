// berth rm: DELETE /containers/{id} (-f kills a running one first, -v takes its anonymous volumes).
import { bool } from "./command.ts";
import { perContainer } from "./lifecycle.ts";

export default perContainer({
  usage: "rm [OPTIONS] CONTAINER [CONTAINER...]",
  summary: "Remove one or more containers",
  aliases: "berth container rm, berth container remove, berth rm",
  flags: [
    { long: "force", short: "f", kind: "bool", help: "Force the removal of a running container (uses SIGKILL)" },
    { long: "link", short: "l", kind: "bool", help: "Remove the specified link" },
    { long: "volumes", short: "v", kind: "bool", help: "Remove anonymous volumes associated with the container" },
  ],
  method: "DELETE",
  action: "",
  query: (p) => ({
    force: bool(p, "force") || undefined,
    v: bool(p, "volumes") || undefined,
    link: bool(p, "link") || undefined,
  }),
});
