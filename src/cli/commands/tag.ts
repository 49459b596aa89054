// berth tag SOURCE TARGET: POST /images/{source}/tag?repo=&tag= (the tag "latest" when none).
import { UsageError } from "../errors.ts";
import type { Command } from "./command.ts";

/** "reg:5000/a/b:v1" as repo "reg:5000/a/b" and tag "v1"; a digest reference cannot be a target. */
export function splitTarget(ref: string): { repo: string; tag: string } {
  if (ref.includes("@"))
    throw new UsageError(
      `Error parsing reference: "${ref}" is not a valid repository/tag: refusing to create a tag with a digest reference`,
      1,
    );
  const slash = ref.lastIndexOf("/");
  const colon = ref.lastIndexOf(":");
  if (colon > slash) return { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repo: ref, tag: "latest" };
}

const command: Command = {
  usage: "tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
  summary: "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
  aliases: "berth image tag, berth tag",
  flags: [],
  args: { min: 2, max: 2 },
  async run(io, p) {
    const [source, target] = p.args as [string, string];
    const { repo, tag } = splitTarget(target);
    await io.client().request("POST", `/images/${encodeURIComponent(source)}/tag`, { query: { repo, tag } });
  },
};
export default command;
