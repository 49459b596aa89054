// berth commit CONTAINER [REPOSITORY[:TAG]]: POST /commit (container, repo, tag, author, comment,
// a changes= per -c, pause=0 only with -p=false, as docker sends them); the new image's id printed.
import { UsageError } from "../errors.ts";
import { bool, type Command, list, str } from "./command.ts";
import { referenceProblem } from "./image-ref.ts";

/** The repository and tag docker's commit sends for a reference (refused in docker 28's words, exit 1). */
export function commitTarget(ref: string): { repo: string; tag: string } {
  const problem = referenceProblem(ref);
  if (problem !== undefined) throw new UsageError(problem, 1);
  if (ref.includes("@")) throw new UsageError("refusing to create a tag with a digest reference", 1);
  const colon = ref.lastIndexOf(":");
  return colon > ref.lastIndexOf("/")
    ? { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) }
    : { repo: ref, tag: "" };
}

const command: Command = {
  usage: "commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
  summary: "Create a new image from a container's changes",
  aliases: "berth container commit, berth commit",
  flags: [
    { long: "author", short: "a", kind: "string", help: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' },
    {
      long: "change",
      short: "c",
      kind: "strings",
      type: "list",
      help: "Apply Dockerfile instruction to the created image",
    },
    { long: "message", short: "m", kind: "string", help: "Commit message" },
    { long: "pause", short: "p", kind: "bool", default: true, help: "Pause container during commit" },
  ],
  args: { min: 1, max: 2, range: true },
  async run(io, p) {
    const [container, ref] = p.args as [string, string | undefined];
    const target = ref === undefined || ref === "" ? { repo: "", tag: "" } : commitTarget(ref);
    const query = new URLSearchParams({
      author: str(p, "author") ?? "",
      comment: str(p, "message") ?? "",
      container,
      repo: target.repo,
      tag: target.tag,
    });
    for (const c of list(p, "change")) query.append("changes", c);
    if (!bool(p, "pause")) query.set("pause", "0");
    const r = await io.client().json<{ Id?: unknown }>("POST", `/commit?${query.toString()}`, { body: null });
    io.out.write(`${typeof r?.Id === "string" ? r.Id : ""}\n`);
  },
};
export default command;
