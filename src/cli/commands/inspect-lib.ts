// What inspect, container inspect and image inspect share: each name's raw JSON from the daemon,
// printed as docker prints it (one indented array) or through --format, a result a line.
import type { EngineClient } from "../api/client.ts";
import { CliExit, DaemonError } from "../errors.ts";
import type { Io } from "./command.ts";
import { indentJson } from "./json-indent.ts";

export type Kind = "container" | "image";

const PATHS: Record<Kind, (name: string) => string> = {
  container: (n) => `/containers/${encodeURIComponent(n)}/json`,
  image: (n) => `/images/${encodeURIComponent(n)}/json`,
};

/** The object's raw JSON, trying each kind in turn; else the last kind's 404. */
async function find(
  client: EngineClient,
  name: string,
  kinds: readonly Kind[],
  size: boolean,
  platform: string | undefined,
): Promise<{ raw: string } | { notFound: DaemonError }> {
  let notFound: DaemonError | undefined;
  for (const kind of kinds) {
    try {
      const a = await client.request("GET", PATHS[kind](name), {
        query: {
          size: kind === "container" && size ? true : undefined,
          platform: kind === "image" ? platform : undefined,
        },
      });
      return { raw: a.body.toString("utf8") };
    } catch (e) {
      if (!(e instanceof DaemonError && e.status === 404)) throw e;
      notFound = e;
    }
  }
  return { notFound: notFound as DaemonError };
}

export async function inspect(
  io: Io,
  names: readonly string[],
  kinds: readonly Kind[],
  format: string | undefined,
  size = false,
  /** image inspect --platform: the platform's JSON (platform-list.ts), sent as ?platform=. */
  platform?: string,
): Promise<void> {
  const client = io.client();
  const found: string[] = [];
  const missing: string[] = [];
  for (const name of names) {
    const r = await find(client, name, kinds, size, platform);
    if ("raw" in r) found.push(r.raw);
    // docker 28 (as berth) prints the daemon's answer when one kind was asked for (container
    // inspect, image inspect, inspect --type); 20.10 printed "Error: No such image: x" itself.
    else missing.push(kinds.length === 1 ? r.notFound.message : `Error: No such object: ${name}`);
  }
  if (format === undefined || format === "") {
    io.out.write(`${indentJson(`[${found.join(",")}]`)}\n`);
  } else {
    const { compileTemplate } = await import("../format/template.ts");
    // docker inspect's templates fail on a missing key; the failed object leaves an empty line.
    const render = compileTemplate(format, { missingKey: "error" });
    for (const raw of found) {
      let text: string;
      try {
        text = render(JSON.parse(raw));
      } catch (e) {
        io.out.write("\n");
        throw e;
      }
      io.out.write(`${text}\n`);
    }
  }
  if (missing.length > 0) {
    io.err.write(`${missing.join("\n")}\n`);
    throw new CliExit(1);
  }
}
