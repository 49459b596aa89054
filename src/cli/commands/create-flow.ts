// Creating a container as `docker create`/`docker run` do: --pull always pulls first; a 404 for
// a missing image with --pull missing says "Unable to find image '<ref>' locally" on stderr,
// pulls (its progress on stderr) and creates again; --pull never leaves the 404. The daemon's
// warnings go to stderr as "WARNING: ...". Daemon errors here exit 125, as in docker. --cidfile's
// file is made first and gets the new id (cidfile.ts).
import { DaemonError, EXIT } from "../errors.ts";
import type { Parsed } from "../flags/parse.ts";
import { type CreateRequest, createBodyFromFlags, processContext } from "../run/create-body.ts";
import { openCidFile } from "./cidfile.ts";
import type { Io } from "./command.ts";
import { bool, str } from "./command.ts";
import { parseImageRef } from "./image-ref.ts";

/** A daemon error as run/create report it: exit 125. */
export function as125(e: unknown): unknown {
  return e instanceof DaemonError ? new DaemonError(e.status, e.daemonMessage, EXIT.daemon) : e;
}

/** The create request for the command line, -t's console size from the local terminal. */
export function createRequestOf(p: Parsed, command: "run" | "create"): CreateRequest {
  const ctx = processContext(command);
  const out = process.stdout;
  if (p.flags.get("tty") === true && out.isTTY && out.rows && out.columns) ctx.consoleSize = [out.rows, out.columns];
  return createBodyFromFlags(p, ctx);
}

/** Creates the container (pulling as --pull says) and returns its id. */
export async function createContainer(io: Io, p: Parsed, req: CreateRequest): Promise<string> {
  const pull = str(p, "pull") ?? "missing";
  const quiet = bool(p, "quiet");
  const image = req.body.Image;
  const pullOpts = { quiet, ...(req.platform ? { platform: req.platform } : {}) };
  // pull.ts (progress, credentials, credential helpers) is loaded only when a pull happens.
  const send = () =>
    io.client().json<{ Id: string; Warnings?: string[] | null }>("POST", "/containers/create", {
      query: { name: req.name, platform: req.platform },
      body: req.body,
    });
  // Made before anything is sent, as docker's: a file that exists is refused (another container's).
  const cidPath = str(p, "cidfile") ?? "";
  const cid = cidPath === "" ? undefined : openCidFile(cidPath);
  try {
    if (pull === "always") await (await import("./pull.ts")).pullImage(io, image, io.err, pullOpts);
    let created: { Id: string; Warnings?: string[] | null };
    try {
      created = await send();
    } catch (e) {
      if (!(e instanceof DaemonError) || e.status !== 404 || pull !== "missing") throw e;
      if (!/^No such image/i.test(e.daemonMessage)) throw e;
      io.err.write(`Unable to find image '${parseImageRef(image).familiar}' locally\n`);
      await (await import("./pull.ts")).pullImage(io, image, io.err, pullOpts);
      created = await send();
    }
    for (const w of created.Warnings ?? []) io.err.write(`WARNING: ${w}\n`);
    cid?.write(typeof created.Id === "string" ? created.Id : "");
    return created.Id;
  } catch (e) {
    throw as125(e);
  } finally {
    cid?.close();
  }
}
