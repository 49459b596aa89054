// check-layers against small trees in a temp dir: one in order, one with each kind of offence.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";

const script = join(import.meta.dirname, "check-layers.mjs");

const tree = (files: Record<string, string>): string => {
  const root = mkdtempSync(join(tmpdir(), "berth-layers-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
};

const check = (root: string): { status: number | null; lines: string[] } => {
  const run = spawnSync(process.execPath, [script, root], { encoding: "utf8" });
  return { status: run.status, lines: run.stderr.split("\n").filter((l) => l !== "") };
};

test("a tree in order passes, whatever its comments, strings, test code and generated code say", (t) => {
  const root = tree({
    "src/common/errors.ts": "export class E extends Error {}\n",
    "src/proto/gen/api_pb.js": 'import "../../cli/main.ts";\n',
    "src/proto/gen/api_pb.d.ts": 'import type { X } from "../../cli/main.ts";\n',
    "src/rpc/grpc.ts": [
      'import { E } from "../common/errors.ts";',
      'import type { Api } from "../proto/gen/api_pb.js";',
      'import { readFileSync } from "node:fs";',
      'export * from "./status.ts";',
      'export { E } from "../common/errors.ts";',
      "export const x = 1;",
      "export type T = Api;",
      '// import { Main } from "../cli/main.ts";',
      '/* export * from "../engine/x.ts"; */',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the tree's own template literal, with a ${} in it
      'const code = `import "../cli/main.ts"; ${"{"}`;',
      'const re = /import\\("..\\/cli\\/main.ts"\\)/;',
      'const later = await import("../common/errors.ts");',
      'type Crypto = typeof import("node:crypto");',
      "",
    ].join("\n"),
    "src/rpc/status.ts": "export const ok = 0;\n",
    "src/rpc/grpc.test.ts":
      'import "../cli/main.ts";\nimport "../../test/helpers/x.ts";\nimport "./scene.testing.ts";\n',
    "src/rpc/scene.testing.ts": 'import "../containerd/x.ts";\nimport "../../test/fixtures/y.ts";\n',
    "src/cli/main.ts": 'import "../engine/main.ts";\nimport { E } from "../common/errors.ts";\n',
    "src/engine/main.ts": 'import "../client/remote.ts";\n',
    "src/client/remote.ts": 'import "../containerd/x.ts";\n',
    "src/containerd/x.ts": 'import "../shim/x.ts";\nimport "../oci/x.ts";\n',
    "src/shim/x.ts": 'import "../runc/x.ts";\n',
    "src/runc/x.ts": 'import "../oci/x.ts";\n',
    "src/oci/x.ts": 'import "../rpc/grpc.ts";\n',
  });
  t.after(() => rmSync(root, { recursive: true, force: true }));
  assert.deepEqual(check(root), { status: 0, lines: [] });
});

test("each import of a later layer, of test code, out of src/ or into no layer is one line naming file and line", (t) => {
  const root = tree({
    "src/common/log.ts": 'import { z } from "../foo/z.ts";\n',
    "src/shim/service.ts": [
      'import { Db } from "../common/log.ts";',
      "",
      'import { Manager } from "../containerd/runtime/manager.ts";',
      "import {",
      "  a,",
      "  b,",
      '} from "../rpc/grpc.ts";',
      'export { c } from "../engine/c.ts";',
      'export type { D } from "../cli/d.ts";',
      'const m = await import("../client/remote.ts");',
      'type R = typeof import("../containerd/daemon.ts");',
      'import { fake } from "../../test/helpers/fake.ts";',
      "const name = './x.ts';",
      "const n = await import(name);",
      'import { scene } from "./scene.testing.ts";',
      'import "./service.test.ts";',
      "",
    ].join("\n"),
    "src/foo/z.ts": "export const z = 1;\n",
    "src/index.ts": "export {};\n",
  });
  t.after(() => rmSync(root, { recursive: true, force: true }));
  assert.deepEqual(check(root), {
    status: 1,
    lines: [
      "src/common/log.ts:1: src/common may not import src/foo (not a layer)",
      "src/foo/z.ts:1: src/foo is not in a layer (common, proto, rpc, oci, runc, shim, containerd, client, engine, cli)",
      "src/index.ts:1: src/index.ts is not in a layer (common, proto, rpc, oci, runc, shim, containerd, client, engine, cli)",
      "src/shim/service.ts:3: src/shim may not import src/containerd (later layer)",
      "src/shim/service.ts:8: src/shim may not import src/engine (later layer)",
      "src/shim/service.ts:9: src/shim may not import src/cli (later layer)",
      "src/shim/service.ts:10: src/shim may not import src/client (later layer)",
      "src/shim/service.ts:11: src/shim may not import src/containerd (later layer)",
      "src/shim/service.ts:12: src/shim may not import test/helpers/fake.ts (outside src/)",
      "src/shim/service.ts:14: src/shim imports a computed specifier, which cannot be checked",
      "src/shim/service.ts:15: src/shim may not import src/shim/scene.testing.ts (test code)",
      "src/shim/service.ts:16: src/shim may not import src/shim/service.test.ts (test code)",
      "check-layers: 12 offence(s) against the layer order common < proto < rpc < oci < runc < shim < containerd < client < engine < cli",
    ],
  });
});
