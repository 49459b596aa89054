// Generates JavaScript + .d.ts from our .proto files (src/proto) into src/proto/gen, which is
// git-ignored and rebuilt by every build. Offline: buf compiles (it bundles the google/protobuf
// well-known types) and runs the protoc-gen-es plugin from node_modules, as src/proto/buf.gen.yaml
// says. The code is generated into a fresh folder that then replaces gen/ by rename, so tests that
// are running meanwhile see either the old or the new code, never none.
// Usage: node scripts/gen-proto.mjs
import { execFileSync } from "node:child_process";
import { readFileSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const protoDir = join(root, "src/proto");
const fresh = `.gen.${process.pid}`;

// buf.gen.yaml names its output "gen"; the same template is used with the fresh folder instead.
const template = readFileSync(join(protoDir, "buf.gen.yaml"), "utf8").replace(/^(\s+out:\s*)gen\s*$/m, `$1${fresh}`);
if (!template.includes(fresh)) throw new Error("buf.gen.yaml: no `out: gen` line to redirect");
rmSync(join(protoDir, fresh), { recursive: true, force: true });
execFileSync(join(root, "node_modules/.bin/buf"), ["generate", "--template", template], {
  cwd: protoDir,
  stdio: "inherit",
  // The plugin is a Node script (#!/usr/bin/env node): let it find the node that runs us.
  env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}` },
});
const old = join(protoDir, `.gen.old.${process.pid}`);
try {
  renameSync(join(protoDir, "gen"), old);
} catch {
  // First build: there is no gen/ yet.
}
renameSync(join(protoDir, fresh), join(protoDir, "gen"));
rmSync(old, { recursive: true, force: true });
