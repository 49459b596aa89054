// Target: what a registry (or an image archive) hands the client: manifests, indexes and image
// configs (src/oci/image/manifest.ts), the WWW-Authenticate challenge and the token service's
// answer (src/oci/registry/auth.ts), and image references. Correct: a typed error (a
// BerthError), or a value whose every field has the type the decoder declares, which the next
// steps of a pull (platform matching, chain IDs) take without throwing.
import fc from "fast-check";
import { BerthError } from "../../../src/common/errors.ts";
import { chainIds } from "../../../src/oci/image/identity.ts";
import {
  decodeImageConfig,
  decodeIndex,
  decodeManifest,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
} from "../../../src/oci/image/manifest.ts";
import { MediaType } from "../../../src/oci/image/media-types.ts";
import { formatPlatform, normalizePlatform, platformMatcher } from "../../../src/oci/image/platforms.ts";
import { parseChallenge, parseTokenResponse } from "../../../src/oci/registry/auth.ts";
import { formatReference, parseReference } from "../../../src/oci/registry/reference.ts";
import type { BlobDescriptor } from "../../../src/oci/transfer/ports.ts";
import { check, type FuzzTarget } from "../harness.ts";
import { type Json, mutatedJsonText } from "../json-mutate.ts";
import { editedStrings } from "../mutate.ts";

type Kind = "index" | "manifest" | "config" | "challenge" | "token" | "reference";

export interface DocumentInput {
  kind: Kind;
  /** The media type the registry declared (Content-Type or the parent's descriptor). */
  mediaType: string;
  text: string;
}

const d = (n: number) => `sha256:${n.toString(16).padStart(64, "0")}`;

const INDEX: Json = {
  schemaVersion: 2,
  mediaType: MediaType.ociIndex,
  manifests: [
    {
      mediaType: MediaType.ociManifest,
      digest: d(1),
      size: 528,
      platform: { os: "linux", architecture: "amd64" },
      annotations: { "org.opencontainers.image.ref.name": "latest" },
    },
    {
      mediaType: MediaType.ociManifest,
      digest: d(2),
      size: 528,
      platform: { os: "linux", architecture: "arm", variant: "v7" },
    },
    { mediaType: MediaType.ociManifest, digest: d(3), size: 566, platform: { os: "unknown", architecture: "unknown" } },
  ],
};

const MANIFEST: Json = {
  schemaVersion: 2,
  mediaType: MediaType.dockerManifest,
  config: { mediaType: MediaType.dockerConfig, digest: d(4), size: 1472 },
  layers: [
    { mediaType: MediaType.dockerLayerGzip, digest: d(5), size: 2_814_559 },
    { mediaType: MediaType.dockerLayerGzip, digest: d(6), size: 32, annotations: { a: "b" } },
  ],
};

const CONFIG: Json = {
  architecture: "amd64",
  os: "linux",
  config: { Env: ["PATH=/usr/bin"], Cmd: ["/bin/sh"], WorkingDir: "/", Labels: { a: "b" } },
  rootfs: { type: "layers", diff_ids: [d(7), d(8)] },
  history: [{ created: "2024-01-01T00:00:00Z", created_by: "/bin/sh -c #(nop) ADD file" }],
};

const TOKEN: Json = {
  token: "abc.def.ghi",
  access_token: "abc.def.ghi",
  expires_in: 300,
  issued_at: "2024-01-01T00:00:00Z",
};

const MEDIA_TYPES = [
  MediaType.ociIndex,
  MediaType.dockerManifestList,
  MediaType.ociManifest,
  MediaType.dockerManifest,
  MediaType.dockerConfig,
  "application/vnd.docker.distribution.manifest.v1+prettyjws",
  "",
  "text/html",
];

const CHALLENGES = [
  'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:x/y:pull"',
  'Basic realm="Registry Realm"',
  'Bearer realm="http://127.0.0.1:5001/token",error="invalid_token",scope="repository:a:pull,push"',
  "bearer realm=unquoted,service=s",
];

const REFERENCES = [
  "busybox",
  "docker.io/library/busybox:latest",
  `localhost:5000/a/b:tag@${d(9)}`,
  "registry.example.com:443/x/y-z__w.v:1.2.3",
];

function isStringRecord(v: unknown): boolean {
  return !!v && typeof v === "object" && !Array.isArray(v) && Object.values(v).every((x) => typeof x === "string");
}

function checkDescriptor(x: BlobDescriptor, where: string): void {
  check(typeof x.mediaType === "string" && x.mediaType !== "", `${where}.mediaType is not a string`);
  check(/^sha256:[a-f0-9]{64}$/.test(x.digest), `${where}.digest is not a digest`);
  check(Number.isSafeInteger(x.size) && x.size >= 0, `${where}.size is not a size`);
  check(x.annotations === undefined || isStringRecord(x.annotations), `${where}.annotations is not a map of strings`);
}

function checkIndex(v: ImageIndex): void {
  check(Array.isArray(v.manifests), "index.manifests is not an array");
  for (const [i, m] of v.manifests.entries()) {
    checkDescriptor(m, `index.manifests[${i}]`);
    if (m.platform) {
      const p = m.platform;
      check(
        typeof p.os === "string" &&
          typeof p.architecture === "string" &&
          (p.variant === undefined || typeof p.variant === "string"),
        () => `index.manifests[N].platform has a field that is not a string | ${i}: ${JSON.stringify(p)}`,
      );
      formatPlatform(normalizePlatform(p));
    }
  }
  // What a pull does next: pick the manifests for the wanted platforms.
  platformMatcher(["linux/amd64", "linux/arm/v7"]).select(v.manifests);
}

function checkManifest(v: ImageManifest): void {
  checkDescriptor(v.config, "manifest.config");
  for (const [i, l] of v.layers.entries()) checkDescriptor(l, `manifest.layers[${i}]`);
}

function checkConfig(v: ImageConfig): void {
  check(typeof v.architecture === "string" && typeof v.os === "string", "config os/architecture are not strings");
  check(v.variant === undefined || typeof v.variant === "string", "config.variant is not a string");
  check(
    !!v.config && typeof v.config === "object" && !Array.isArray(v.config),
    () => `config.config is not an object | ${JSON.stringify(v.config)?.slice(0, 80)}`,
  );
  check(typeof v.rootfs.type === "string", "config.rootfs.type is not a string");
  chainIds(v.rootfs.diff_ids);
}

function run(input: DocumentInput): void {
  const bytes = Buffer.from(input.text);
  switch (input.kind) {
    case "index":
      checkIndex(decodeIndex(bytes, input.mediaType));
      return;
    case "manifest":
      checkManifest(decodeManifest(bytes, input.mediaType));
      return;
    case "config":
      checkConfig(decodeImageConfig(bytes));
      return;
    case "challenge": {
      const c = parseChallenge(input.text);
      check(c.scheme === "basic" || c.scheme === "bearer", "challenge scheme");
      check(isStringRecord(c.params), "challenge params are not strings");
      return;
    }
    case "token": {
      const t = parseTokenResponse(input.text);
      check(typeof t.token === "string" && t.token !== "", "token is not a non-empty string");
      check(
        Number.isFinite(t.expiresInSeconds) && t.expiresInSeconds > 0,
        () => `token lifetime is not a positive number | ${JSON.stringify(t.expiresInSeconds)}`,
      );
      return;
    }
    case "reference": {
      const r = parseReference(input.text);
      // What parses must print back to something that parses the same.
      const again = parseReference(formatReference(r));
      check(
        formatReference(again) === formatReference(r),
        () => `a reference does not round-trip | ${formatReference(r)}`,
      );
      return;
    }
  }
}

export function createTarget(): FuzzTarget<DocumentInput> {
  const json = (kind: Kind, seeds: Json[], mediaTypes: string[]) =>
    fc.record({
      kind: fc.constant(kind),
      mediaType: fc.oneof(
        { arbitrary: fc.constantFrom(...mediaTypes), weight: 8 },
        { arbitrary: fc.constantFrom(...MEDIA_TYPES), weight: 1 },
      ),
      text: mutatedJsonText(seeds),
    });
  const text = (kind: Kind, seeds: string[]) =>
    fc.record({
      kind: fc.constant(kind),
      mediaType: fc.constant(""),
      text: editedStrings(seeds),
    });
  return {
    name: "image-documents",
    about:
      "mutated manifests, indexes, image configs, auth challenges, token answers, references -> typed error or well-typed value",
    arbitrary: fc.oneof(
      json("index", [INDEX], [MediaType.ociIndex, MediaType.dockerManifestList]),
      json("manifest", [MANIFEST], [MediaType.ociManifest, MediaType.dockerManifest]),
      json("config", [CONFIG], [""]),
      json("token", [TOKEN], [""]),
      text("challenge", CHALLENGES),
      text("reference", REFERENCES),
    ),
    run,
    isExpected: (err) => err instanceof BerthError,
    slowMs: 1000,
    budgetMs: (input) => 1000 + input.text.length / 1000,
  };
}
