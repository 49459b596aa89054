// berth pull: POST /images/create?fromImage=&tag= with the registry's credentials (config.json or a helper), the daemon's
// progress shown as docker shows it, then the full reference (as docker pull prints last).
import { Writable } from "node:stream";
import { registryAuthHeader } from "../context/credentials.ts";
import { CliError } from "../errors.ts";
import { jsonMessages, showProgress } from "../format/progress.ts";
import type { Command, Io } from "./command.ts";
import { bool, str } from "./command.ts";
import { parseImageRef } from "./image-ref.ts";

/** Pulls `ref`, its progress written to `out` (stdout for pull, stderr for run/create). */
export async function pullImage(
  io: Io,
  ref: string,
  out: NodeJS.WritableStream & { isTTY?: boolean },
  opts: { platform?: string; quiet?: boolean; allTags?: boolean } = {},
): Promise<string> {
  const r = parseImageRef(ref);
  // -a: every tag of the name, which must then name none (docker's words, exit 1).
  const tagged = r.repository !== ref;
  if (opts.allTags && tagged) throw new CliError("tag can't be used with --all-tags/-a");
  const auth = await registryAuthHeader(io.context.config, r.registry);
  const res = await io.client().stream("POST", "/images/create", {
    query: { fromImage: r.repository, tag: opts.allTags ? undefined : r.tag, platform: opts.platform || undefined },
    ...(auth ? { headers: { "X-Registry-Auth": auth } } : {}),
  });
  const messages = jsonMessages(res);
  if (opts.quiet) {
    // Still read the whole stream: an error in it fails the pull.
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    await showProgress(messages, sink, false);
  } else await showProgress(messages, out as NodeJS.WriteStream, out.isTTY === true);
  return opts.allTags ? r.full.slice(0, -(r.tag.length + 1)) : r.full;
}

const command: Command = {
  usage: "pull [OPTIONS] NAME[:TAG|@DIGEST]",
  summary: "Download an image from a registry",
  aliases: "berth image pull, berth pull",
  flags: [
    { long: "all-tags", short: "a", kind: "bool", help: "Download all tagged images in the repository" },
    // berth has no content trust: accepted, as docker's default (true: no verification), and nothing changes.
    { long: "disable-content-trust", kind: "bool", default: true, help: "Skip image verification" },
    { long: "platform", kind: "string", help: "Set platform if server is multi-platform capable", minApi: "1.32" },
    { long: "quiet", short: "q", kind: "bool", help: "Suppress verbose output" },
  ],
  args: { min: 1, max: 1 },
  async run(io, p) {
    const quiet = bool(p, "quiet");
    const platform = str(p, "platform");
    const full = await pullImage(io, p.args[0] as string, io.out, {
      quiet,
      allTags: bool(p, "all-tags"),
      ...(platform ? { platform } : {}),
    });
    io.out.write(`${full}\n`);
  },
};
export default command;
