// The sockets berthd serves the API on. A unix socket is bound 0660 with no moment anyone else
// could connect (secure-fs listenUnix), then given to its group: the configured one, else
// "berth" when that group exists, else root's. A socket path a live daemon answers on is
// refused, not stolen; a stale one is replaced. tcp:// is served only with mutual TLS (config.ts
// refuses it otherwise): clients must present a certificate signed by --tlscacert.
import { chownSync, readFileSync, rmSync, statSync } from "node:fs";
import type { Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { connect } from "node:net";
import { dirname } from "node:path";
import { FailedPreconditionError, InvalidArgumentError } from "../../common/errors.ts";
import { listenUnix, makeDir } from "../../common/secure-fs.ts";
import type { ApiServer } from "../api/server.ts";
import { type DaemonConfig, DEFAULTS, type ListenAddress } from "./config.ts";

export const SOCKET_MODE = 0o660;

/** A group's gid from /etc/group's text; undefined when it is not there. */
export function gidOf(groupFile: string, group: string): number | undefined {
  if (/^\d+$/.test(group)) return Number(group);
  for (const line of groupFile.split("\n")) {
    const [name, , gid] = line.split(":");
    if (name === group && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return undefined;
}

/** The socket's gid: the configured group (which must exist), else "berth" if it exists, else 0. */
export function socketGid(configured: string | undefined, groupFile: string): number {
  const gid = gidOf(groupFile, configured ?? DEFAULTS.group);
  if (gid !== undefined) return gid;
  if (configured !== undefined) throw new InvalidArgumentError(`group ${JSON.stringify(configured)} not found`);
  return 0;
}

/** Whether something accepts connections on the unix socket at `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(path);
    c.once("connect", () => {
      c.destroy();
      resolve(true);
    });
    c.once("error", () => resolve(false));
  });
}

export interface Listening {
  address: ListenAddress;
  server: Server;
  /** Removes the socket file (unix), if it is still the one bound. */
  cleanup(): void;
}

export async function listenAll(api: ApiServer, config: DaemonConfig): Promise<Listening[]> {
  const out: Listening[] = [];
  try {
    for (const address of config.hosts) out.push(await listenOne(api, config, address));
  } catch (err) {
    for (const l of out) {
      l.server.close();
      l.cleanup();
    }
    throw err;
  }
  return out;
}

async function listenOne(api: ApiServer, config: DaemonConfig, address: ListenAddress): Promise<Listening> {
  if (address.kind === "tcp") {
    const tls = config.tls!;
    const server = api.createHttpServer((opts) =>
      createHttpsServer({
        ...opts,
        key: readFileSync(tls.key),
        cert: readFileSync(tls.cert),
        ca: readFileSync(tls.ca),
        requestCert: true,
        rejectUnauthorized: true,
        minVersion: "TLSv1.2",
      }),
    );
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(address.port, address.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    return { address, server, cleanup: () => {} };
  }
  const path = address.path;
  makeDir(dirname(path), 0o755);
  if (await answers(path)) {
    throw new FailedPreconditionError(`${path}: another daemon is listening on it`);
  }
  const gid = socketGid(config.group, readFileSync("/etc/group", "utf8"));
  const server = api.createHttpServer();
  try {
    await listenUnix(path, SOCKET_MODE, (at) => {
      return new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(at, () => {
          server.off("error", reject);
          resolve();
        });
      });
    });
    chownSync(path, process.geteuid?.() ?? 0, gid);
  } catch (err) {
    server.close();
    throw err;
  }
  const ino = statSync(path).ino;
  return {
    address,
    server,
    cleanup: () => {
      try {
        if (statSync(path).ino === ino) rmSync(path, { force: true });
      } catch {}
    },
  };
}
