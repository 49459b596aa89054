// Build: bundle each command into one ESM file (one file loads faster than a module graph, which
// matters because the runtime pays Node's start-up on every invocation) and compile the native
// stage with gcc. The shebang names the node that ran the build (Node >= 24, see scripts/setup.sh).
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
// Every output is written beside its final name and renamed into place, so a test or a container
// that is running from dist/ during a rebuild never sees a half-written file; outputs that the
// build no longer makes are removed at the end (a renamed command must not linger).
mkdirSync(dist, { recursive: true });
// dist/fuzz belongs to scripts/fuzz-native.sh (fuzz harnesses and their crash reproducers).
const made = new Set([".compile-cache", "fuzz"]);
const tmp = (name) => {
  made.add(name);
  return join(dist, `.${name}.tmp`);
};
const publish = (name) => renameSync(join(dist, `.${name}.tmp`), join(dist, name));

// Generated protobuf code first: the bundles import it (scripts/gen-proto.mjs owns src/proto/gen).
if (existsSync(join(root, "scripts/gen-proto.mjs"))) {
  execFileSync(process.execPath, [join(root, "scripts/gen-proto.mjs")], { stdio: "inherit" });
}

const commands = {
  "berth-runc": "src/runc/main.ts",
  "berth-shim": "src/shim/main.ts",
  "berth-containerd": "src/containerd/main.ts",
  berthd: "src/engine/main.ts",
  berth: "src/cli/main.ts",
};

// V8 settings of the long-lived daemons (bench/README.md "engine-run" measured them): a 1 MiB
// young generation instead of V8's up to 16 MiB (a daemon allocates little between requests; big
// buffers live outside the young generation) and no V8 helper threads. Together ~7 MiB of Pss each.
// No TurboFan, V8's top compiler: Maglev, the one below it, still compiles hot code. TurboFan's
// code in the node binary and what it compiled were ~5 MiB of the two daemons idle; docker logs of
// 300000 lines took as long without it. Turning off both optimizing compilers saved ~8 MiB but made
// that docker logs ~1.6x slower; --lite-mode and --jitless turn off WebAssembly, which undici
// (pulls, pushes) needs.
// The short-lived commands keep V8's defaults; the shim sets its own (src/shim/start.ts).
const DAEMON_NODE_FLAGS = ["--max-semi-space-size=1", "--single-threaded", "--no-turbofan"];
const nodeFlags = { berthd: DAEMON_NODE_FLAGS, "berth-containerd": DAEMON_NODE_FLAGS };

// Each command is a tiny loader (the file on PATH) plus its bundle. The loader turns on Node's
// compile cache *before* the bundle is compiled: an ES module is compiled before any of its own
// code runs, so a bundle cannot enable the cache for itself. A shebang passes one argument at
// most, so flags go through env -S (argv then reads: node, flags, loader, arguments).
const shebang = (flags = []) =>
  flags.length === 0 ? `#!${process.execPath}` : `#!/usr/bin/env -S ${process.execPath} ${flags.join(" ")}`;
const loader = (bundle, flags) =>
  [
    shebang(flags),
    `import { enableCompileCache } from "node:module";`,
    // Beside the build, not in the caller's TMPDIR: a runtime must not litter its callers' dirs.
    `try { enableCompileCache(new URL("./.compile-cache", import.meta.url).pathname); } catch {}`,
    `await import("./${bundle}");`,
    "",
  ].join("\n");

/**
 * `js` with every non-ASCII UTF-16 unit written as a \u escape. One such character anywhere (a
 * µ in a regular expression, a name in a library's licence comment) makes V8 hold the whole
 * source as two bytes a character: twice the memory of a one-byte (Latin-1) string. A \u escape
 * means the same unit in a string, template, regular expression or identifier; in a comment it is
 * text. (String.raw would show the escape itself; no code here applies it to such characters.)
 */
const asciiOnly = (js) => {
  // After a backslash the unit is an escape of its own ("\\é"), which a \u escape would break.
  if (/\\[^\x00-\x7f]/.test(js)) throw new Error("a backslash before a non-ASCII character: escape it by hand");
  return js.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
};

/**
 * `import ... from "node:http"` made into a require(): node:http's ES module facade reads every
 * export when it is imported, and three of them (WebSocket, CloseEvent, MessageEvent) are lazy
 * getters that load Node's own undici (~2 MiB of berthd's memory, for what it never uses). Through
 * require() (esbuild's CommonJS interop reads an export only when it is used) nothing else loads.
 */
const httpThroughRequire = {
  name: "http-through-require",
  setup(b) {
    b.onResolve({ filter: /^(node:)?http$/ }, (a) =>
      a.kind === "import-statement" ? { path: "node:http", namespace: "http-through-require" } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "http-through-require" }, () => ({
      contents: 'module.exports = require("node:http");',
      loader: "js",
    }));
  },
};

/**
 * The CLI's bundle takes every Node built-in through require(), not only node:http: an ES module
 * import of a built-in loads it when the bundle loads and builds its facade (every export read),
 * while esbuild's require() of it runs where the importing module is first used. A command's
 * modules are loaded lazily (commands/registry.ts), so `berth ps` no longer loads readline/promises,
 * fs/promises and their kin for commands it does not run, nor builds a facade for what it loads
 * (bench/README.md, cli). The banner's own node:module import stays an import.
 */
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const builtinsThroughRequire = {
  name: "builtins-through-require",
  setup(b) {
    b.onResolve({ filter: /.*/ }, (a) =>
      a.kind === "import-statement" && BUILTINS.has(a.path)
        ? { path: a.path.replace(/^node:/, ""), namespace: "builtins-through-require" }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "builtins-through-require" }, (a) => ({
      contents: `module.exports = require("node:${a.path}");`,
      loader: "js",
    }));
  },
};

await Promise.all(
  Object.entries(commands).map(async ([name, entry]) => {
    const bundle = `${name}.bundle.mjs`;
    const result = await build({
      entryPoints: [join(root, entry)],
      outfile: join(dist, bundle),
      write: false,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node24",
      sourcemap: "linked",
      // No comments or indentation: V8 keeps a module's whole source in memory for as long as the
      // process lives (a third of the daemons' bundles was comments and indentation). Names stay,
      // so stack traces still name functions; the source map has the rest.
      minifyWhitespace: true,
      // CommonJS dependencies (grpc-js) call require(); an ES module bundle has to provide one.
      banner: {
        js: 'import { createRequire as __berthRequire } from "node:module"; const require = __berthRequire(import.meta.url);',
      },
      logLevel: "warning",
      plugins: [name === "berth" ? builtinsThroughRequire : httpThroughRequire],
    });
    for (const out of result.outputFiles) {
      const file = out.path.slice(dist.length + 1);
      writeFileSync(tmp(file), file.endsWith(".mjs") ? asciiOnly(out.text) : out.contents);
      publish(file);
    }
    writeFileSync(tmp(`${name}.mjs`), loader(bundle, nodeFlags[name]), { mode: 0o755 });
    chmodSync(join(dist, `.${name}.mjs.tmp`), 0o755);
    publish(`${name}.mjs`);
  }),
);

// Hardening for every C program (the runtime's stage runs as root on hostile input): stack
// protector, fortified libc calls, PIE, full RELRO and a non-executable stack; warnings are errors.
const HARDENING = [
  "-fstack-protector-strong",
  "-D_FORTIFY_SOURCE=2",
  "-fstack-clash-protection",
  "-fcf-protection",
  "-Wformat",
  "-Wformat-security",
  "-Wl,-z,relro,-z,now",
  "-Wl,-z,noexecstack",
];

/** gcc with the project's warnings-as-errors and hardening flags. */
const gcc = (args) =>
  execFileSync("gcc", ["-O2", "-Wall", "-Wextra", "-Werror", "-std=gnu11", ...HARDENING, ...args], {
    stdio: "inherit",
  });

// The native stages: small, policy-free, dynamically linked (nsexec is copied into a sealed memfd
// on every start, so small matters), position-independent. A program is one file, native/<name>.c,
// or a folder, native/<name>/, whose .c files make it together; either becomes dist/<name>.
// native/fuzz/ (libFuzzer harnesses, scripts/fuzz-native.sh) and native/node/ (addons, below) are
// not programs.
const NOT_PROGRAMS = new Set(["fuzz", "node"]);
for (const entry of readdirSync(join(root, "native"), { withFileTypes: true })) {
  if (entry.isFile() && entry.name.endsWith(".c")) {
    const name = entry.name.slice(0, -2);
    gcc(["-fPIE", "-pie", "-o", tmp(name), join(root, "native", entry.name)]);
    publish(name);
  } else if (entry.isDirectory() && !NOT_PROGRAMS.has(entry.name)) {
    const dir = join(root, "native", entry.name);
    const sources = readdirSync(dir)
      .filter((f) => f.endsWith(".c"))
      .sort()
      .map((f) => join(dir, f));
    // A folder whose contract (README) came before its code is not a program yet.
    if (sources.length === 0) continue;
    gcc(["-fPIE", "-pie", "-o", tmp(entry.name), ...sources]);
    publish(entry.name);
  }
}

// Node-API addons: the syscalls a Node process (the shim) must make itself, e.g. waitid on a
// reparented child. Every native/node/<name>.c becomes dist/<name>.node, built against the headers
// of the node that runs this build.
const nodeHeaders = join(dirname(process.execPath), "..", "include", "node");
for (const file of readdirSync(join(root, "native", "node")).filter((f) => f.endsWith(".c"))) {
  const name = file.slice(0, -2);
  gcc([
    "-shared",
    "-fPIC",
    `-DNODE_GYP_MODULE_NAME=${name}`,
    "-I",
    nodeHeaders,
    "-o",
    tmp(`${name}.node`),
    join(root, "native", "node", file),
  ]);
  publish(`${name}.node`);
}

// What an earlier build made and this one did not (a renamed command) goes.
for (const file of readdirSync(dist)) if (!made.has(file)) rmSync(join(dist, file), { recursive: true, force: true });
