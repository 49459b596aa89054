// berth push: POST /images/{name}/push?tag= with the registry's credentials (always a header, "e30="
// when none are kept, as docker sends it), the daemon's progress shown as docker shows it.
import { Writable } from "node:stream";
import { encodeAuth, registryAuthHeader } from "../context/credentials.ts";
import { CliError } from "../errors.ts";
import { jsonMessages, showProgress } from "../format/progress.ts";
import { bool, type Command, str } from "./command.ts";
import { parseImageRef, referenceProblem } from "./image-ref.ts";
import { platformQuery } from "./platform-query.ts";

const command: Command = {
  usage: "push [OPTIONS] NAME[:TAG]",
  summary: "Upload an image to a registry",
  aliases: "berth image push, berth push",
  flags: [
    { long: "all-tags", short: "a", kind: "bool", help: "Push all tags of an image to the repository" },
    { long: "disable-content-trust", kind: "bool", default: true, help: "Skip image signing" },
    {
      long: "platform",
      kind: "string",
      help: "Push a platform-specific manifest as a single-platform image to the registry. 'os[/arch[/variant]]': Explicit platform (eg. linux/amd64)",
      minApi: "1.46",
    },
    { long: "quiet", short: "q", kind: "bool", help: "Suppress verbose output" },
  ],
  args: { min: 1, max: 1 },
  async run(io, p) {
    const given = p.args[0] as string;
    const allTags = bool(p, "all-tags");
    const problem = referenceProblem(given);
    if (problem) throw new CliError(problem);
    if (given.includes("@")) throw new CliError("cannot push a digest reference");
    const platformSpec = str(p, "platform");
    const platform = platformSpec ? platformQuery(platformSpec) : undefined;
    const r = parseImageRef(given);
    const tagged = r.repository !== given;
    if (allTags && tagged) throw new CliError("tag can't be used with --all-tags/-a");
    const quiet = bool(p, "quiet");
    if (!allTags && !tagged && !quiet) io.out.write("Using default tag: latest\n");
    // docker 28 names the repository in full (docker.io/library/x), the tag apart.
    const name = r.full.slice(0, r.full.length - r.tag.length - 1);
    const auth = (await registryAuthHeader(io.context.config, r.registry)) ?? encodeAuth(undefined);
    const res = await io.client().stream("POST", `/images/${encodeURIComponent(name)}/push`, {
      query: { platform, tag: allTags ? undefined : r.tag },
      headers: { "X-Registry-Auth": auth },
    });
    const messages = jsonMessages(res);
    if (quiet) {
      // The whole stream is still read: an error in it fails the push.
      await showProgress(messages, new Writable({ write: (_c, _e, cb) => cb() }), false);
      io.out.write(`${allTags ? name : r.full}\n`);
    } else await showProgress(messages, io.out as NodeJS.WriteStream, io.out.isTTY === true);
  },
};
export default command;
