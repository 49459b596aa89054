// Build: bundle each command into one ESM file (one file loads faster than a module graph, which
// matters because the runtime pays Node's start-up on every invocation) and compile the native
// stage with gcc. The shebang names the node that ran the build (Node >= 24, see scripts/setup.sh).
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
mkdirSync(dist, { recursive: true });

const commands = {
  "berth-runc": "src/runc/main.ts",
  "berth-shim": "src/shim/main.ts",
  "berth-containerd": "src/containerd/main.ts",
  berthd: "src/engine/main.ts",
  berth: "src/cli/main.ts",
};

const banner = [
  `#!${process.execPath}`,
  // Compile cache: V8 reuses compiled code across runs of the same bundle.
  `import { enableCompileCache as __ecc } from "node:module"; try { __ecc?.(); } catch {}`,
].join("\n");

await Promise.all(
  Object.entries(commands).map(async ([name, entry]) => {
    const outfile = join(dist, `${name}.mjs`);
    await build({
      entryPoints: [join(root, entry)],
      outfile,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node24",
      banner: { js: banner },
      sourcemap: "linked",
      logLevel: "warning",
    });
    chmodSync(outfile, 0o755);
  }),
);

// The native stage: small, policy-free, dynamically linked (it is copied into a sealed memfd on
// every start, so small matters).
execFileSync(
  "gcc",
  ["-O2", "-Wall", "-Wextra", "-Werror", "-std=gnu11", "-o", join(dist, "nsexec"), join(root, "native/nsexec.c")],
  { stdio: "inherit" },
);
