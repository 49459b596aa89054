// Target: berthd's edge (src/engine/api, src/engine/daemon/config.ts): request paths through the
// router and the version negotiation, query parameters (`filters` in both forms, booleans,
// integers), JSON bodies, stdcopy frame streams cut anywhere, and daemon flags with a mutated
// daemon.json. Correct: a typed refusal (BerthError of kind invalid-argument), or a result that
// keeps its invariants: a redirect goes to a clean path, a match's version negotiates or is
// refused, filters stay within their bounds and allowed names, frames decode the same however the
// stream is cut and re-encode to the bytes they came from, a resolved config's paths are absolute
// and its default runtime is one of its runtimes.
import fc from "fast-check";
import { BerthError } from "../../../src/common/errors.ts";
import { parseFlags } from "../../../src/common/flags.ts";
import { negotiateVersion } from "../../../src/engine/api/api-version.ts";
import { parseJsonBody } from "../../../src/engine/api/body.ts";
import { FILTER_LIMITS, parseFilters, queryBool, queryInt } from "../../../src/engine/api/query.ts";
import { cleanPath, Router } from "../../../src/engine/api/router.ts";
import { splitUrl } from "../../../src/engine/api/server.ts";
import { encodeFrame, FrameDecoder, type StreamType } from "../../../src/engine/api/stdcopy.ts";
import { FLAGS, resolveConfig } from "../../../src/engine/daemon/config.ts";
import { check, type FuzzTarget } from "../harness.ts";
import { type Json, mutatedJsonText } from "../json-mutate.ts";
import { editedStrings } from "../mutate.ts";

export type EngineInput =
  | { kind: "path"; method: string; url: string }
  | { kind: "query"; text: string }
  | { kind: "filters"; text: string }
  | { kind: "body"; text: string }
  | { kind: "frames"; bytes: Uint8Array; cuts: number[] }
  | { kind: "config"; argv: string[]; file: string };

const ROUTES = ["/_ping", "/version", "/info", "/containers/json", "/containers/{name}/json", "/images/{name:*}/json"];
const router = new Router<string>();
for (const p of ROUTES) router.add("GET", p, p).add("POST", p, p);

const URLS = [
  "/_ping",
  "/v1.41/containers/json?all=1&limit=5",
  "/v1.50/containers/web/json",
  "/images/docker.io/library/busybox:latest/json",
  "/v1.24//containers/../info",
  "/containers/%2e%2e/json",
  "/containers/../json",
  "/images/a/%2E%2e/json",
];

const FILTERS: Json[] = [
  { label: { "a=b": true, c: true }, status: { running: true } },
  { name: ["web", "db"], status: ["exited"] },
];
const ALLOWED = ["label", "status", "name", "id"];

const DAEMON_JSON: Json[] = [
  {
    hosts: ["unix:///run/berth/berth.sock"],
    "data-root": "/var/lib/berth",
    "exec-root": "/run/berth/engine",
    "live-restore": true,
    runtimes: { my: { path: "/usr/bin/runc", runtimeArgs: ["--debug"] } },
    "default-runtime": "my",
    "log-level": "debug",
    group: "docker",
  },
  { tlsverify: true, tlscacert: "/c", tlscert: "/d", tlskey: "/e", hosts: ["tcp://127.0.0.1:2376"] },
];
const ARGS = ["-H", "unix:///tmp/x.sock", "--data-root", "/srv/b", "--add-runtime", "r=/bin/r", "--live-restore=false"];

const BUILTINS = { "berth-runc": { path: "berth-runc" }, runc: { path: "runc" } };

function run(input: EngineInput): void {
  switch (input.kind) {
    case "path": {
      const { path, query } = splitUrl(input.url);
      if (path === undefined) return;
      const m = router.match(input.method, path);
      if (m.kind === "redirect") {
        check(cleanPath(m.location) === m.location, () => `redirect to a path that is not clean | ${m.location}`);
        check(m.location.startsWith("/"), "redirect off the origin");
      }
      if (m.kind === "match") {
        check(!/(^|\/)\.\.?(\/|$)/.test(path) && !path.includes("//"), () => `an unclean path matched | ${path}`);
        for (const v of Object.values(m.params)) {
          check(!v.split("/").some((seg) => seg === "." || seg === ".."), () => `a dot segment in a parameter | ${v}`);
        }
        negotiateVersion(m.version);
      }
      queryBool(query, "all");
      return;
    }
    case "query": {
      const q = new URLSearchParams(input.text);
      const n = queryInt(q, "limit", { min: -1, max: 1000 });
      check(n === undefined || (Number.isSafeInteger(n) && n >= -1 && n <= 1000), () => `limit out of bounds | ${n}`);
      return;
    }
    case "filters": {
      const f = parseFilters(input.text, ALLOWED);
      let count = 0;
      for (const [k, values] of f) {
        check(ALLOWED.includes(k), () => `a filter name not allowed came through | ${k}`);
        check(
          values.every((v) => typeof v === "string" && v.length <= FILTER_LIMITS.chars),
          "a filter value",
        );
        count += values.length;
      }
      check(count <= FILTER_LIMITS.values && f.size <= FILTER_LIMITS.keys, "filters past their bounds");
      return;
    }
    case "body":
      parseJsonBody(Buffer.from(input.text));
      return;
    case "frames": {
      const bytes = Buffer.from(input.bytes);
      const whole = new FrameDecoder(1 << 16);
      let wholeFrames: ReturnType<FrameDecoder["push"]>;
      try {
        wholeFrames = whole.push(bytes);
      } catch (err) {
        // The same stream cut anywhere is refused too (the refusal does not depend on the cuts).
        const cut = new FrameDecoder(1 << 16);
        let refused = false;
        try {
          for (const part of split(bytes, input.cuts)) cut.push(part);
        } catch {
          refused = true;
        }
        check(refused, "a stream refused whole was taken in pieces");
        throw err;
      }
      const cut = new FrameDecoder(1 << 16);
      const pieces = split(bytes, input.cuts).flatMap((p) => cut.push(p));
      check(pieces.length === wholeFrames.length, "frames depend on how the stream is cut");
      check(cut.buffered === whole.buffered, "the rest depends on how the stream is cut");
      const again = Buffer.concat(wholeFrames.map((f) => encodeFrame(f.stream as StreamType, f.payload)));
      check(again.equals(bytes.subarray(0, bytes.length - whole.buffered)), "frames do not re-encode to their bytes");
      return;
    }
    case "config": {
      let file: unknown;
      try {
        file = JSON.parse(input.file);
      } catch {
        return;
      }
      const c = resolveConfig(parseFlags(input.argv, FLAGS), file, BUILTINS);
      for (const p of [c.dataRoot, c.execRoot, c.pidfile]) check(p.startsWith("/") && !p.includes("\0"), "a path");
      check(Object.hasOwn(c.runtimes, c.defaultRuntime), "the default runtime is not a runtime");
      for (const h of c.hosts) check(h.kind === "unix" || c.tls !== undefined, "tcp without TLS");
      return;
    }
  }
}

function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const c of [...at, bytes.length]) {
    out.push(bytes.subarray(from, c));
    from = c;
  }
  return out;
}

const edited = (seeds: string[]) => editedStrings(seeds, 300);

const frameStream = fc
  .array(fc.record({ stream: fc.constantFrom<StreamType>(0, 1, 2, 3), payload: fc.uint8Array({ maxLength: 64 }) }), {
    maxLength: 8,
  })
  .chain((frames) => {
    const good = Buffer.concat(frames.map((f) => encodeFrame(f.stream, Buffer.from(f.payload))));
    return fc.record({
      bytes: fc.oneof(
        fc.constant(new Uint8Array(good)),
        fc.record({ at: fc.nat(), b: fc.integer({ min: 0, max: 255 }) }).map(({ at, b }) => {
          const copy = new Uint8Array(good.length > 0 ? good : [1, 0, 0, 0, 0, 0, 0, 0]);
          copy[at % copy.length] = b;
          return copy;
        }),
        fc.uint8Array({ maxLength: 64 }),
      ),
      cuts: fc.array(fc.nat(), { maxLength: 6 }),
    });
  });

export function createTarget(): FuzzTarget<EngineInput> {
  return {
    name: "engine-api",
    about:
      "paths, queries, filters, JSON bodies, stdcopy streams, daemon flags + daemon.json -> typed refusal or sound result",
    arbitrary: fc.oneof(
      fc.record({
        kind: fc.constant("path" as const),
        method: fc.constantFrom("GET", "POST", "HEAD", "DELETE"),
        url: edited(URLS),
      }),
      fc.record({ kind: fc.constant("query" as const), text: edited(["limit=10", "limit=-1&all=1", "limit=99999"]) }),
      fc.record({ kind: fc.constant("filters" as const), text: mutatedJsonText(FILTERS) }),
      fc.record({ kind: fc.constant("body" as const), text: mutatedJsonText(DAEMON_JSON) }),
      frameStream.map((f) => ({ kind: "frames" as const, ...f })),
      fc.record({
        kind: fc.constant("config" as const),
        argv: fc.oneof(fc.constant(ARGS), fc.array(edited(ARGS), { maxLength: 8 })),
        file: mutatedJsonText(DAEMON_JSON),
      }),
    ),
    run,
    isExpected: (err) => err instanceof BerthError && err.kind === "invalid-argument",
    slowMs: 500,
  };
}
