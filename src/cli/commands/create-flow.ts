// Creating a container as `docker create`/`docker run` do: --pull always pulls first; a 404 for
// a missing image with --pull missing says "Unable to find image '<ref>' locally" on stderr,
// pulls (its progress on stderr) and creates again; --pull never leaves the 404. The daemon's
// warnings go to stderr as "WARNING: ...". Daemon errors here exit 125, as in docker. --cidfile's
// file is made first and gets the new id (cidfile.ts).

import { compareApiVersions } from "../../common/api-version.ts";
import { CliError, DaemonError, EXIT } from "../errors.ts";
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

/** A create the API version in use cannot carry, refused before it is sent (docker's client library words). */
export class ApiVersionError extends CliError {
  constructor(feature: string, needs: string, version: string) {
    super(`"${feature}" requires API version ${needs}, but the Docker daemon API version is ${version}`, EXIT.failure);
    this.name = "ApiVersionError";
  }
}

/** A per-network MAC address needs API 1.44 (docker 28 no longer sends Config.MacAddress). */
function checkEndpointMacs(req: CreateRequest, version: string): void {
  const endpoints = Object.values(req.body.NetworkingConfig.EndpointsConfig);
  const hasMac = endpoints.some((e) => typeof e === "object" && e !== null && !Array.isArray(e) && !!e.MacAddress);
  if (hasMac && compareApiVersions(version, "1.44") < 0) {
    throw new ApiVersionError("specify mac-address per network", "1.44", version);
  }
}

/** The create request for the command line, -t's console size from the local terminal, the daemon's address for --use-api-socket. */
export function createRequestOf(p: Parsed, command: "run" | "create", host?: string): CreateRequest {
  const ctx = processContext(command);
  if (host !== undefined) ctx.host = host;
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
  const send = async () => {
    checkEndpointMacs(req, await io.client().apiVersion());
    return io.client().json<{ Id: string; Warnings?: string[] | null }>("POST", "/containers/create", {
      query: { name: req.name, platform: req.platform },
      body: req.body,
    });
  };
  // Made before anything is sent, as docker's: a file that exists is refused (another container's).
  const cidPath = str(p, "cidfile") ?? "";
  const cid = cidPath === "" ? undefined : openCidFile(cidPath);
  try {
    // --use-api-socket: the kept credentials go with the socket (api-socket-config.ts).
    const apiSocket = bool(p, "use-api-socket") ? await import("./api-socket-config.ts") : undefined;
    const containerConfig = await apiSocket?.containerConfigJson(io.context.config, process.env);
    if (apiSocket && containerConfig) {
      const env = Array.isArray(req.body.Env) ? req.body.Env : [];
      req.body.Env = [...env, `DOCKER_CONFIG=${apiSocket.CONTAINER_CONFIG_DIR}`];
    }
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
    if (apiSocket && containerConfig) {
      await io.client().request("PUT", `/containers/${encodeURIComponent(created.Id)}/archive`, {
        query: { noOverwriteDirNonDir: "true", path: "/" },
        headers: { "Content-Type": "application/x-tar" },
        body: apiSocket.configArchive(containerConfig),
      });
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
