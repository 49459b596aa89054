// Gives a running berthd the built-in busybox image as busybox:latest, unless it has one already
// (scripts/setup.sh runs it once berthd answers; a second run only checks). The image is the
// test fixture's: the host's busybox-static in one layer (test/fixtures/oci-image.ts), loaded
// through the Engine API as `docker load` would (POST /images/load), so no docker client is needed.
//   node scripts/berthd-busybox.ts [SOCKET]   (default /run/berth/berth.sock)
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "../test/fixtures/busybox.ts";
import { writeImageArchive } from "../test/fixtures/oci-image.ts";
import { httpOn } from "../test/helpers/berthd.ts";

const IMAGE = "docker.io/library/busybox:latest";

/** berthd answers /_ping (under systemd, setup goes on as soon as the process runs). */
async function waitForPing(socket: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ping = await httpOn(socket, "GET", "/_ping").catch(() => undefined);
    if (ping?.status === 200) return;
    if (Date.now() > deadline) throw new Error(`berthd does not answer on ${socket}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function main(socket: string): Promise<void> {
  await waitForPing(socket);
  const have = await httpOn(socket, "GET", "/images/busybox:latest/json");
  if (have.status === 200) {
    console.log(`busybox:latest is there (${JSON.parse(have.body).Id})`);
    return;
  }
  if (have.status !== 404) throw new Error(`GET /images/busybox:latest/json: ${have.status} ${have.body}`);
  const dir = await makeTempDir("berth-busybox-image-");
  try {
    const archive = join(dir, "busybox.tar");
    await writeImageArchive(archive, { name: IMAGE });
    const loaded = await httpOn(socket, "POST", "/images/load?quiet=1", await readFile(archive), {
      "Content-Type": "application/x-tar",
    });
    // The answer is a JSON message stream: an error arrives as a message with 200 already sent.
    const messages = loaded.body
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { stream?: string; error?: string; errorDetail?: { message?: string } });
    const failed = messages.find((m) => m.error !== undefined);
    if (loaded.status !== 200 || failed) {
      throw new Error(`POST /images/load: ${loaded.status} ${failed?.error ?? loaded.body}`);
    }
    for (const m of messages) if (m.stream) process.stdout.write(m.stream);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main(process.argv[2] ?? "/run/berth/berth.sock").catch((err: unknown) => {
  console.error(`berthd-busybox: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
