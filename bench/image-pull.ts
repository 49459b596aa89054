// Bench: pull + unpack of a ~200 MB image (4 incompressible 50 MiB gzip layers) from Debian's
// docker-registry on loopback, side by side in one run, round-robin:
//   containerd 1.6 + ctr pull          (the reference: fetch + unpack into overlayfs)
//   berth-containerd + ctr pull        (our daemon, the reference client)
//   berth-containerd + berth client    (our daemon, our client library: src/oci/transfer/pull.ts)
//   berth-containerd transfer          (the daemon pulls itself: berth.services.transfer.v1)
//   skopeo copy to a dir               (download only, no unpack: the transfer's upper bound)
// Every run starts cold: the image is removed and garbage collected (checked) before the next.
//
//   node bench/image-pull.ts [--runs N] [--layers N] [--layer-mib N] [--only I,J]
//                            [--extra-berth NAME=PATH]...   (another berth-containerd build, for A/B:
//                                                           its ctr pull and transfer join the rounds)
//
// Must run as root. Prints a table (MB/s = compressed bytes / wall time) and writes the samples to
// bench/results/image-pull-<date>.json.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, release } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { makeTempDir } from "../test/fixtures/busybox.ts";
import { startBerthContainerd } from "../test/helpers/berth-containerd.ts";
import { startRegistry } from "../test/helpers/local-registry.ts";
import { startContainerd } from "../test/helpers/peers.ts";
import { formatTable, type Summary, summarize } from "./lib/stats.ts";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const RUNS = arg("runs", 3);
const LAYERS = arg("layers", 4);
const LAYER_MIB = arg("layer-mib", 50);
/** Other berth-containerd builds (e.g. dist/ of an older commit) benched in the same rounds. */
const EXTRA_BERTH: [string, string][] = process.argv.flatMap((a, i) => {
  if (a !== "--extra-berth") return [];
  const spec = process.argv[i + 1] ?? "";
  const eq = spec.indexOf("=");
  if (eq <= 0) throw new Error(`--extra-berth wants NAME=PATH, got ${JSON.stringify(spec)}`);
  return [[spec.slice(0, eq), spec.slice(eq + 1)] as [string, string]];
});

/** One tar holding one file of random bytes (so gzip cannot shrink it). */
function layerTar(i: number, bytes: number): Buffer {
  const data = randomBytes(bytes);
  const header = Buffer.alloc(512);
  header.write(`layer-${i}.bin`, 0);
  header.write("0000644\0", 100);
  header.write("0000000\0", 108);
  header.write("0000000\0", 116);
  header.write(`${bytes.toString(8).padStart(11, "0")}\0`, 124);
  header.write(
    `${Math.floor(Date.now() / 1000)
      .toString(8)
      .padStart(11, "0")}\0`,
    136,
  );
  header.write("0", 156);
  header.write("ustar\0", 257);
  header.write("00", 263);
  header.fill(" ", 148, 156);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  const pad = Buffer.alloc((512 - (bytes % 512)) % 512);
  return Buffer.concat([header, data, pad, Buffer.alloc(1024)]);
}

/** Writes an OCI layout with the bench image; returns its total compressed size. */
export function writeLayout(dir: string): number {
  const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
  mkdirSync(join(dir, "blobs", "sha256"), { recursive: true });
  const put = (b: Buffer) => {
    const h = sha(b);
    writeFileSync(join(dir, "blobs", "sha256", h), b);
    return { digest: `sha256:${h}`, size: b.length };
  };
  const layers = [];
  const diffIds = [];
  let total = 0;
  for (let i = 0; i < LAYERS; i++) {
    const tar = layerTar(i, LAYER_MIB << 20);
    diffIds.push(`sha256:${sha(tar)}`);
    const gz = gzipSync(tar, { level: 1 });
    total += gz.length;
    layers.push({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...put(gz) });
  }
  const config = put(
    Buffer.from(
      JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: diffIds }, config: {} }),
    ),
  );
  const manifest = put(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
        layers,
      }),
    ),
  );
  writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  writeFileSync(
    join(dir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          ...manifest,
          annotations: { "org.opencontainers.image.ref.name": "1" },
        },
      ],
    }),
  );
  return total;
}

function timed(cmd: string, args: string[]): number {
  const t = performance.now();
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 600_000 });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}${r.stdout}`);
  return ms;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("run as root");
  const work = await makeTempDir("berth-bench-pull-");
  const layout = join(work, "layout");
  const bytes = writeLayout(layout);
  const reg = await startRegistry({});
  const ref = `${reg.host}/bench/image:1`;
  execFileSync("skopeo", ["copy", "--quiet", "--dest-tls-verify=false", `oci:${layout}:1`, `docker://${ref}`], {
    stdio: "pipe",
  });
  // The client runs bundled with Node's compile cache, as berth's shipped commands do (the .ts
  // source would pay ~200 ms of module loading per pull; ctr is a Go binary).
  const client = join(work, "berth-pull.mjs");
  await build({
    entryPoints: [join(REPO, "bench/lib/berth-pull.ts")],
    outfile: client,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node24",
    logLevel: "warning",
    banner: { js: 'import { createRequire as __r } from "node:module"; const require = __r(import.meta.url);' },
  });
  process.env.NODE_COMPILE_CACHE = join(work, "compile-cache");
  const containerd = await startContainerd();
  const berth = await startBerthContainerd();
  const extras = await Promise.all(
    EXTRA_BERTH.map(async ([name, path]) => ({ name, daemon: await startBerthContainerd([], path) })),
  );
  const ns = "bench";
  const ctrRef = (address: string) => ["--address", address, "--namespace", ns];
  /** Removes the image with a synchronous GC and checks the store is empty again: the next run is cold. */
  const removeCold = (address: string, who: string) => {
    execFileSync("ctr", [...ctrRef(address), "images", "rm", "--sync", ref], { stdio: "pipe" });
    const left = execFileSync("ctr", [...ctrRef(address), "content", "ls", "-q"], { encoding: "utf8" }).trim();
    if (left) throw new Error(`${who} kept content after rm: ${left}`);
  };

  const contenders: { name: string; run(): number; reset(): void }[] = [
    {
      name: "containerd + ctr pull",
      run: () => timed("ctr", [...ctrRef(containerd.address), "images", "pull", "--plain-http", ref]),
      reset: () => removeCold(containerd.address, "containerd"),
    },
    {
      name: "berth-containerd + ctr pull",
      run: () => timed("ctr", [...ctrRef(berth.address), "images", "pull", "--plain-http", ref]),
      reset: () => removeCold(berth.address, "berth-containerd"),
    },
    {
      name: "berth-containerd + berth client",
      run: () => timed(process.execPath, [client, "--address", berth.address, "--namespace", ns, ref]),
      reset: () => removeCold(berth.address, "berth-containerd"),
    },
    {
      name: "berth-containerd transfer (daemon pulls)",
      run: () =>
        timed(process.execPath, [client, "--mode", "transfer", "--address", berth.address, "--namespace", ns, ref]),
      reset: () => removeCold(berth.address, "berth-containerd"),
    },
    {
      name: "skopeo copy (no unpack)",
      run: () => {
        rmSync(join(work, "skopeo-out"), { recursive: true, force: true });
        return timed("skopeo", [
          "copy",
          "--quiet",
          "--src-tls-verify=false",
          `docker://${ref}`,
          `dir:${join(work, "skopeo-out")}`,
        ]);
      },
      reset: () => rmSync(join(work, "skopeo-out"), { recursive: true, force: true }),
    },
    ...extras.flatMap(({ name, daemon }) => [
      {
        name: `${name} + ctr pull`,
        run: () => timed("ctr", [...ctrRef(daemon.address), "images", "pull", "--plain-http", ref]),
        reset: () => removeCold(daemon.address, name),
      },
      {
        name: `${name} transfer (daemon pulls)`,
        run: () =>
          timed(process.execPath, [client, "--mode", "transfer", "--address", daemon.address, "--namespace", ns, ref]),
        reset: () => removeCold(daemon.address, name),
      },
    ]),
  ];
  const only =
    process.argv.indexOf("--only") >= 0 ? process.argv[process.argv.indexOf("--only") + 1]!.split(",") : undefined;
  const active = contenders.filter((_, i) => !only || only.includes(String(i)));
  const samples = new Map<string, number[]>(active.map((c) => [c.name, []]));
  try {
    for (let r = 0; r < RUNS; r++) {
      for (const c of active) {
        const ms = c.run();
        samples.get(c.name)!.push(ms);
        c.reset();
        process.stderr.write(`run ${r + 1}/${RUNS} ${c.name}: ${ms.toFixed(0)} ms\n`);
      }
    }
  } finally {
    await berth.cleanup();
    for (const { daemon } of extras) await daemon.cleanup();
    await containerd.stop();
    await reg.stop();
    rmSync(work, { recursive: true, force: true });
  }
  const mb = bytes / 1e6;
  const reference = samples.get("containerd + ctr pull");
  const ref0 = reference ? summarize(reference).median : undefined;
  const rows: string[][] = [];
  const results: Record<string, Summary & { mbPerSec: number }> = {};
  for (const [name, s] of samples) {
    const sum = summarize(s);
    const mbps = mb / (sum.median / 1000);
    results[name] = { ...sum, mbPerSec: mbps };
    rows.push([name, sum.median.toFixed(0), mbps.toFixed(0), ref0 ? `${(ref0 / sum.median).toFixed(2)}×` : "-"]);
  }
  process.stdout.write(
    `image: ${LAYERS} layers × ${LAYER_MIB} MiB (${mb.toFixed(0)} MB compressed), ${RUNS} runs each\n`,
  );
  process.stdout.write(`${formatTable(["contender", "median ms", "MB/s", "speed vs containerd+ctr"], rows)}\n`);
  const out = join(REPO, "bench", "results");
  mkdirSync(out, { recursive: true });
  writeFileSync(
    join(out, `image-pull-${new Date().toISOString().replace(/[:.]/g, "-")}.json`),
    JSON.stringify({ machine: { cpus: cpus().length, kernel: release() }, bytes, runs: RUNS, results }, null, 2),
  );
}

if (import.meta.main) await main();
