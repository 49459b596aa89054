// A berthd and Debian's dockerd 20.10 side by side on this machine, each in its private dirs, the
// same busybox archive loaded into both with `docker load`, and the same docker client pointed at
// each (docker CLI 28 where present, else 20.10, or the one a call names). What the interop files
// compare is what users see, so ids are made comparable (and docker CLI 20.10's own noise about a
// cancelled wait dropped) before two answers are compared.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { writeImageArchive } from "../fixtures/oci-image.ts";
import { outputOf } from "./berth-containerd.ts";
import {
  type Berthd,
  type CommandResult,
  DOCKER_CLI,
  type HttpAnswer,
  httpBytesOn,
  httpOn,
  newBerthd,
} from "./berthd.ts";
import { type Dockerd, startDockerd } from "./peers.ts";

/** dockerd needs a runtime registered; the build's berth-runc is named (the installed link may be another checkout's). */
export const RUNTIME = join(import.meta.dirname, "..", "..", "dist", "berth-runc.mjs");
export const IMAGE = "docker.io/library/busybox:latest";

/** Why a pair cannot run here (not root, a binary missing; `extra` names more), or undefined. */
export function pairSkip(extra: string[] = []): string | undefined {
  if (process.getuid?.() !== 0) return "dockerd runs as root";
  return ["/usr/sbin/dockerd", "/usr/bin/containerd", "/usr/sbin/runc", RUNTIME, ...extra]
    .find((b) => !existsSync(b))
    ?.concat(" not found");
}

// docker CLI 20.10's `run -d` sometimes logs that its own wait call was cancelled as it returned
// (a client-side race, seen against dockerd on a loaded fresh machine): not the daemon's answer.
const CLI_WAIT_NOISE = /^time="[^"]*" level=error msg="error waiting for container: context canceled"\n/gm;

/** Ids (64 and 12 hex digits) as <id> and <short>, the client's wait noise dropped: two daemons' answers compare. */
export const normalize = (s: string) =>
  s
    .replace(CLI_WAIT_NOISE, "")
    .replace(/\b[0-9a-f]{64}\b/g, "<id>")
    .replace(/\b[0-9a-f]{12}\b/g, "<short>");

export const normalized = (s: CommandResult): CommandResult => ({
  status: s.status,
  stdout: normalize(s.stdout),
  stderr: normalize(s.stderr),
});

/** A JSON document's shape: its keys, nested, sorted (values left out; an array by its first element). */
export function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length > 0 ? [shape(v[0])] : [];
  if (v === null || typeof v !== "object") return typeof v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, shape((v as Record<string, unknown>)[k])]),
  );
}

export interface DockerCall {
  /** Another docker client than the pair's. */
  cli?: string;
  /** Written to the command's stdin (closed after); without it stdin is /dev/null. */
  input?: string | Buffer;
  env?: Record<string, string>;
  timeoutMs?: number;
}

/** One daemon of the pair, as a docker client and a raw HTTP client see it. */
export interface Engine {
  name: "dockerd" | "berthd";
  socket: string;
  /** Its private dir (client config, files a test writes for it). */
  dir: string;
  docker(args: string[], call?: DockerCall): Promise<CommandResult>;
  /** The argv and environment docker() runs (for a caller that runs it another way: in a pty). */
  command(args: string[], call?: DockerCall): { argv: string[]; env: NodeJS.ProcessEnv };
  http(method: string, path: string, body?: string | Buffer, headers?: Record<string, string>): Promise<HttpAnswer>;
  /** A request whose answer body stays bytes (a tar). */
  httpBytes(method: string, path: string): Promise<HttpAnswer & { bytes: Buffer }>;
}

export interface EnginePair {
  dockerd: Dockerd;
  berthd: Berthd;
  /** dockerd, the reference. */
  ref: Engine;
  /** berthd, the engine under test. */
  ours: Engine;
  /** [ref, ours] */
  engines: [Engine, Engine];
  /** The busybox archive both loaded, and its config digest (the image id). */
  archive: string;
  configDigest: string;
  /** The same command on both at once; the answers normalized. */
  both(args: string[], call?: DockerCall): Promise<{ ref: CommandResult; ours: CommandResult }>;
  /** The same command on both; berthd's normalized answer must be dockerd's. */
  same(args: string[], call?: DockerCall): Promise<CommandResult>;
  /** Each daemon's /v1.41/events between `since` and now (a moment later), filtered. */
  events(since: string, filters: Record<string, string[]>): Promise<{ ref: EventLine[]; ours: EventLine[] }>;
  cleanup(): Promise<void>;
}

export interface EventLine {
  Type: string;
  Action: string;
  status?: string;
  id?: string;
  Actor: { ID: string; Attributes: Record<string, string> };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Now as the API's since/until take it (Unix seconds with nanoseconds). */
export const unixNow = () => (Date.now() / 1000).toFixed(9);

function engineOn(name: Engine["name"], socket: string, dir: string, cli: string): Engine {
  const command = (args: string[], call: DockerCall = {}) => ({
    argv: [call.cli ?? cli, "-H", `unix://${socket}`, ...args],
    env: { ...process.env, DOCKER_CONFIG: join(dir, "client-config-pair"), DOCKER_API_VERSION: "", ...call.env },
  });
  const docker = (args: string[], call: DockerCall = {}) => {
    const { argv, env } = command(args, call);
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: [call.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      env,
      timeout: call.timeoutMs ?? 60_000,
    });
    if (call.input !== undefined) child.stdin?.end(call.input);
    return outputOf(child);
  };
  return {
    name,
    socket,
    dir,
    docker,
    command,
    http: (method, path, body, headers) => httpOn(socket, method, path, body, headers),
    httpBytes: (method, path) => httpBytesOn(socket, method, path),
  };
}

/**
 * dockerd and berthd started, each with the busybox fixture archive loaded as busybox:latest.
 * `cli` is the docker client the engines' docker() runs unless a call names another.
 */
export async function startEnginePair(cli: string = DOCKER_CLI): Promise<EnginePair> {
  const dockerd = await startDockerd(RUNTIME);
  let berthd: Berthd | undefined;
  const cleanup = async () => {
    try {
      await berthd?.cleanup();
    } finally {
      await dockerd.stop();
    }
  };
  try {
    berthd = await newBerthd();
    await berthd.start();
    const archive = join(berthd.dir, "busybox.tar");
    const { configDigest } = await writeImageArchive(archive, { name: IMAGE });
    const ref = engineOn("dockerd", join(dockerd.dir, "docker.sock"), dockerd.dir, cli);
    const ours = engineOn("berthd", berthd.socket, berthd.dir, cli);
    for (const e of [ref, ours]) {
      const loaded = await e.docker(["load", "-i", archive]);
      assert.equal(loaded.status, 0, `${e.name}: docker load: ${loaded.stderr}`);
    }
    const both = async (args: string[], call?: DockerCall) => {
      const [a, b] = await Promise.all([ref.docker(args, call), ours.docker(args, call)]);
      return { ref: normalized(a), ours: normalized(b) };
    };
    const same = async (args: string[], call?: DockerCall) => {
      const r = await both(args, call);
      assert.deepEqual(r.ours, r.ref, `docker ${args.join(" ")}`);
      return r.ours;
    };
    const events = async (since: string, filters: Record<string, string[]>) => {
      // Events are published as they happen; the window closes a moment after the last step.
      await sleep(300);
      const path = `/v1.41/events?since=${since}&until=${unixNow()}&filters=${encodeURIComponent(JSON.stringify(filters))}`;
      const [a, b] = await Promise.all([ref.http("GET", path), ours.http("GET", path)]);
      assert.equal(a.status, 200, a.body);
      assert.equal(b.status, 200, b.body);
      const lines = (text: string) =>
        text
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l) as EventLine);
      return { ref: lines(a.body), ours: lines(b.body) };
    };
    return { dockerd, berthd, ref, ours, engines: [ref, ours], archive, configDigest, both, same, events, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
