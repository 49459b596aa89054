// Generates JavaScript + .d.ts from our .proto files (src/proto) into src/proto/gen, which is
// git-ignored and rebuilt by every build. Offline: buf compiles (it bundles the google/protobuf
// well-known types) and runs the protoc-gen-es plugin from node_modules, as src/proto/buf.gen.yaml
// says. Usage: node scripts/gen-proto.mjs
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const protoDir = join(root, "src/proto");

// buf.gen.yaml cleans its output too; removing it here first also drops files of deleted protos
// when buf's clean is skipped (an older buf).
rmSync(join(protoDir, "gen"), { recursive: true, force: true });
execFileSync(join(root, "node_modules/.bin/buf"), ["generate", "--template", "buf.gen.yaml"], {
  cwd: protoDir,
  stdio: "inherit",
  // The plugin is a Node script (#!/usr/bin/env node): let it find the node that runs us.
  env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}` },
});
