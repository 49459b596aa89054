// dockerode (npm; the Docker client most Node programs use, and testcontainers' transport)
// against berthd: ping/version/info, images list/inspect/tag/remove, a pull (followProgress) from
// a loopback docker-registry holding the busybox fixture, a container created with
// labels and env, started, listed with filters, inspected, its logs read whole and followed
// (stdcopy frames demultiplexed by dockerode's own demuxStream), exec with its output, exit code
// and stdin, top, stop, wait and remove, docker.run's one-call run, and the 404s of unknown
// names. The same scenario runs against Debian's dockerd 20.10 and what the client saw must be
// the same on both (ids and times left out). Nothing is pulled; nothing is left.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import Docker from "dockerode";
import { writeImageArchive } from "../fixtures/oci-image.ts";
import { type LocalRegistry, REGISTRY_BINARY, seedImage, startRegistry } from "../helpers/local-registry.ts";
import { bothDaemons, dockerdSkipReason, IMAGE, skipReason } from "./clients/daemons.ts";

/** The loopback registry for the pull (docker-registry, seeded with skopeo): or why not. */
const registrySkipReason = [REGISTRY_BINARY, "/usr/bin/skopeo"].find((b) => !existsSync(b));

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** stdout and stderr of a multiplexed stream, split by dockerode's own demuxStream. */
function demux(docker: Docker, stream: NodeJS.ReadableStream): Promise<{ stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = "";
  let stderr = "";
  out.on("data", (b: Buffer) => (stdout += b.toString()));
  err.on("data", (b: Buffer) => (stderr += b.toString()));
  docker.modem.demuxStream(stream, out, err);
  return new Promise((resolve, reject) => {
    stream.on("end", () => resolve({ stdout, stderr }));
    stream.on("close", () => resolve({ stdout, stderr }));
    stream.on("error", reject);
  });
}

/** The HTTP status a dockerode call failed with. */
async function statusOf(p: Promise<unknown>): Promise<number | string> {
  try {
    await p;
    return "no error";
  } catch (e) {
    return (e as { statusCode?: number }).statusCode ?? String(e);
  }
}

/** Everything a dockerode user sees in one session, without ids and times. */
/** Pulls `ref` with dockerode's pull and followProgress: every JSON message the daemon sent. */
async function pull(docker: Docker, ref: string): Promise<{ status: string; id?: string }[]> {
  const stream = await docker.pull(ref);
  return new Promise((resolve, reject) =>
    docker.modem.followProgress(stream, (err: Error | null, out: { status: string; id?: string }[]) =>
      err ? reject(err) : resolve(out),
    ),
  );
}

/**
 * Everything a dockerode user sees in one session, without ids and times; `registry` (host:port
 * of a loopback registry holding clients/bb:1, the busybox fixture) adds a pull.
 */
async function scenario(docker: Docker, prefix: string, registry?: string): Promise<Record<string, unknown>> {
  const seen: Record<string, unknown> = {};
  seen.ping = String(await docker.ping());
  const version = await docker.version();
  seen.version = { Os: version.Os, hasApiVersion: typeof version.ApiVersion === "string" };
  const info = await docker.info();
  seen.info = { Containers: typeof info.Containers, Images: typeof info.Images, OSType: info.OSType };

  const images = await docker.listImages();
  const mine = images.find((i) => i.RepoTags?.includes(IMAGE));
  assert.ok(mine, `listImages shows ${IMAGE}: ${JSON.stringify(images)}`);
  seen.listImages = {
    Id: mine.Id.startsWith("sha256:"),
    Size: typeof mine.Size,
    Created: typeof mine.Created,
    Labels: typeof mine.Labels,
    Containers: mine.Containers,
  };
  const image = await docker.getImage(IMAGE).inspect();
  seen.imageInspect = { Id: image.Id === mine.Id, Os: image.Os, RootFS: image.RootFS.Type, Cmd: image.Config.Cmd };
  await docker.getImage(IMAGE).tag({ repo: `${prefix}-tagged`, tag: "v1" });
  const byRef = await docker.listImages({ filters: { reference: [`${prefix}-tagged`] } });
  seen.taggedList = byRef.map((i) => i.RepoTags);
  seen.untag = await docker.getImage(`${prefix}-tagged:v1`).remove();
  seen.untaggedInspect = await statusOf(docker.getImage(`${prefix}-tagged:v1`).inspect());
  if (registry) {
    const ref = `${registry}/clients/bb:1`;
    const messages = await pull(docker, ref);
    seen.pull = {
      first: messages[0]?.status,
      digest: messages.find((m) => m.status.startsWith("Digest: "))?.status,
      last: messages.at(-1)?.status.replace(registry, "<registry>"),
      sameImage: (await docker.getImage(ref).inspect()).Id === image.Id,
    };
    seen.pullLayers = messages.filter((m) => m.id && m.id !== "1").map((m) => m.status);
    await docker.getImage(ref).remove();
  }

  const name = `${prefix}-runner`;
  const c = await docker.createContainer({
    Image: IMAGE,
    name,
    // err well after out: --tail counts lines of both streams in the order they were logged.
    Cmd: ["sh", "-c", "echo out; sleep 0.3; echo err >&2; while true; do sleep 1; done"],
    Labels: { suite: prefix },
    Env: ["GREETING=hi"],
  });
  try {
    seen.createdId = /^[0-9a-f]{64}$/.test(c.id);
    seen.createdState = (await c.inspect()).State.Status;
    await c.start();
    const inspect = await c.inspect();
    seen.inspect = {
      Name: inspect.Name,
      Status: inspect.State.Status,
      Running: inspect.State.Running,
      Pid: inspect.State.Pid > 0,
      Image: inspect.Image === image.Id,
      ConfigImage: inspect.Config.Image,
      Env: inspect.Config.Env.includes("GREETING=hi"),
      Labels: inspect.Config.Labels,
      Path: inspect.Path,
      Args: inspect.Args,
      RestartPolicy: inspect.HostConfig.RestartPolicy,
    };
    const listed = await docker.listContainers({ filters: { label: [`suite=${prefix}`] } });
    seen.listContainers = listed.map((x) => ({
      Id: x.Id === c.id,
      Names: x.Names,
      Image: x.Image,
      ImageID: x.ImageID === image.Id,
      Command: x.Command,
      State: x.State,
      Status: x.Status.replace(/\d+ seconds?|Less than a second/, "<t>"),
      Labels: x.Labels,
      Mounts: x.Mounts,
    }));
    seen.listByName = (await docker.listContainers({ filters: { name: [name] } })).length;
    seen.listExited = (await docker.listContainers({ all: true, filters: { status: ["exited"] } })).length;

    for (let i = 0; i < 100 && !(await c.logs({ stdout: true, stderr: true })).toString().includes("err"); i++)
      await sleep(100);
    const whole = (await c.logs({ stdout: true, stderr: true })) as unknown as Buffer;
    seen.logs = await demux(docker, Readable.from([whole]));
    const tail = async (opts: { stdout: boolean; stderr: boolean; tail: number }) =>
      demux(docker, Readable.from([(await c.logs(opts)) as unknown as Buffer]));
    seen.logsTail = await tail({ stdout: true, stderr: true, tail: 1 });
    // The last line is stderr's: asked for stdout alone, tail 1 shows nothing (dockerd's order:
    // tail first, then the stream filter).
    seen.logsTailStdout = await tail({ stdout: true, stderr: false, tail: 1 });

    const exec = await c.exec({
      Cmd: ["sh", "-c", "echo $GREETING from exec; echo e >&2; exit 3"],
      AttachStdout: true,
      AttachStderr: true,
    });
    seen.execOutput = await demux(docker, await exec.start({ hijack: true, stdin: false }));
    let execInfo = await exec.inspect();
    for (let i = 0; i < 50 && execInfo.Running; i++) {
      await sleep(100);
      execInfo = await exec.inspect();
    }
    seen.execInspect = {
      Running: execInfo.Running,
      ExitCode: execInfo.ExitCode,
      ContainerID: execInfo.ContainerID === c.id,
      ProcessConfig: execInfo.ProcessConfig,
      OpenStdout: execInfo.OpenStdout,
    };
    const cat = await c.exec({ Cmd: ["cat"], AttachStdin: true, AttachStdout: true, AttachStderr: true });
    const stream = await cat.start({ hijack: true, stdin: true });
    const output = demux(docker, stream);
    stream.end("piped through exec\n");
    seen.execStdin = await output;

    const top = await c.top();
    seen.top = { hasPid: top.Titles.includes("PID"), processes: top.Processes.length > 0 };
    await c.stop({ t: 1 });
    seen.wait = await c.wait();
    seen.stopped = (await c.inspect()).State.Status;
    await c.remove();
    seen.removedInspect = await statusOf(c.inspect());
  } finally {
    await c.remove({ force: true }).catch(() => {});
  }

  const out = new PassThrough();
  const err = new PassThrough();
  let runOut = "";
  let runErr = "";
  out.on("data", (b: Buffer) => (runOut += b.toString()));
  err.on("data", (b: Buffer) => (runErr += b.toString()));
  const [result, ran] = (await docker.run(IMAGE, ["sh", "-c", "echo run; echo oops >&2; exit 2"], [out, err], {
    Tty: false,
  })) as [{ StatusCode: number }, Docker.Container];
  seen.run = { StatusCode: result.StatusCode, stdout: runOut, stderr: runErr };
  await ran.remove();

  seen.unknownContainer = await statusOf(docker.getContainer(`${prefix}-no-such`).inspect());
  seen.absentImage = await statusOf(docker.createContainer({ Image: `${prefix}-absent:1`, Cmd: ["true"] }));
  return seen;
}

/** What may differ from dockerd 20.10, with the reason. */
const DIFFERENT: Record<string, string> = {
  pullLayers:
    "dockerd 20.10 (graphdriver store) prints no line for a layer it holds; berthd says 'Already exists', " +
    "as dockerd with the containerd store does",
};

describe("dockerode drives berthd as it drives dockerd", { skip: skipReason }, () => {
  const daemons = bothDaemons();
  let reference: Record<string, unknown> | undefined;
  let registry: LocalRegistry | undefined;

  before(async () => {
    if (registrySkipReason) return;
    registry = await startRegistry();
    const archive = join(registry.dir, "busybox.tar");
    await writeImageArchive(archive, { name: `docker.io/library/${IMAGE}` });
    await seedImage(registry, archive, "clients/bb:1");
  });
  after(async () => {
    await registry?.stop();
  });

  test("against dockerd 20.10: the scenario itself holds", { skip: dockerdSkipReason }, async () => {
    reference = await scenario(new Docker({ socketPath: daemons.dockerd()!.socket }), "dode-ref", registry?.host);
    assert.deepEqual(await new Docker({ socketPath: daemons.dockerd()!.socket }).listContainers({ all: true }), []);
  });

  test("against berthd: what the client sees is what it sees from dockerd", async () => {
    const docker = new Docker({ socketPath: daemons.berthd().socket });
    const seen = await scenario(docker, "dode", registry?.host);
    assert.equal(seen.ping, "OK");
    assert.deepEqual(seen.logs, { stdout: "out\n", stderr: "err\n" });
    assert.deepEqual(seen.execOutput, { stdout: "hi from exec\n", stderr: "e\n" });
    assert.deepEqual(seen.execStdin, { stdout: "piped through exec\n", stderr: "" });
    assert.deepEqual(seen.wait, { StatusCode: 137, Error: null });
    assert.deepEqual(seen.run, { StatusCode: 2, stdout: "run\n", stderr: "oops\n" });
    if (registry) {
      const pulled = seen.pull as { first: string; digest: string; last: string; sameImage: boolean };
      assert.equal(pulled.first, "Pulling from clients/bb");
      assert.match(pulled.digest, /^Digest: sha256:[0-9a-f]{64}$/);
      assert.equal(pulled.last, "Status: Downloaded newer image for <registry>/clients/bb:1");
      assert.equal(pulled.sameImage, true, "the pulled image is the busybox image berthd has");
      // The layer is the busybox fixture's, unpacked already: nothing downloaded, nothing to complete.
      assert.deepEqual(seen.pullLayers, ["Pulling fs layer", "Already exists"]);
    }
    if (reference) {
      const ref = reference as Record<string, unknown>;
      // The names differ by their prefix only.
      const same = (v: unknown) => JSON.parse(JSON.stringify(v).replaceAll("dode-ref", "dode"));
      for (const key of Object.keys(ref)) if (!DIFFERENT[key]) assert.deepEqual(seen[key], same(ref[key]), key);
      assert.deepEqual(Object.keys(seen), Object.keys(ref));
    }
    assert.deepEqual(await docker.listContainers({ all: true }), [], "nothing left");
  });
});
