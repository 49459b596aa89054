// Generates JavaScript + .d.ts from our .proto files into src/proto/gen (git-ignored). JS, not TS:
// protobuf enums compile to TS enums, which Node's type stripping cannot run. Runs offline: buf
// compiles (it ships the well-known types) and the local protoc-gen-es plugin generates.
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const protoDir = join(root, "src/proto");
const out = join(protoDir, "gen");
const bin = (name) => join(root, "node_modules/.bin", name);

rmSync(out, { recursive: true, force: true });
const template = {
  version: "v2",
  plugins: [{ local: bin("protoc-gen-es"), out, opt: ["target=js+dts", "import_extension=js"] }],
};
execFileSync(bin("buf"), ["generate", "--template", JSON.stringify(template)], { cwd: protoDir, stdio: "inherit" });
