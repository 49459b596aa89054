// Image documents for the unit tests: a config document as a registry or docker save carries it,
// turned into the Image the views, filters and removal rules read.
import { createHash } from "node:crypto";
import { decodeImageConfig } from "../../oci/image/manifest.ts";
import { configFacts, groupImages, type Image, type ImageRecord, type ResolvedTarget } from "./image.ts";

const digest = (s: string) => `sha256:${createHash("sha256").update(s).digest("hex")}`;

export const BUSYBOX_CONFIG = {
  architecture: "amd64",
  os: "linux",
  created: "2024-09-26T21:31:42Z",
  author: "someone",
  config: {
    Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    Cmd: ["sh"],
    Labels: { "org.example.kind": "shell" },
    StopSignal: "SIGQUIT",
  },
  rootfs: { type: "layers", diff_ids: [digest("layer-0"), digest("layer-1")] },
  history: [
    { created: "2024-09-26T21:31:40Z", created_by: "ADD file:abc in / " },
    { created: "2024-09-26T21:31:41Z", created_by: 'CMD ["sh"]', empty_layer: true },
    { created: "2024-09-26T21:31:42Z", created_by: "RUN touch /x", comment: "buildkit" },
  ],
};

/** One image from a config document (an object, or its text), named by `names`, with per-layer `sizes`. */
export function imageOf(
  names: string[],
  doc: Record<string, unknown> | string = BUSYBOX_CONFIG,
  sizes: number[] = [100, 20],
  updatedAt = new Date("2026-12-05T12:00:00Z"),
): Image {
  const bytes = Buffer.from(typeof doc === "string" ? doc : JSON.stringify(doc));
  const configDigest = digest(bytes.toString());
  const manifestDigest = digest(`manifest of ${configDigest}`);
  const config = decodeImageConfig(bytes);
  const resolved: ResolvedTarget = {
    configDigest,
    manifestDigest,
    layers: config.rootfs.diff_ids.map((d, i) => ({
      mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
      digest: digest(`blob ${d}`),
      size: sizes[i] ?? 0,
    })),
    config,
    facts: configFacts(bytes),
    chainId: "",
  };
  const records: ImageRecord[] = names.map((name) => ({
    name,
    target: { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: manifestDigest, size: 500 },
    labels: {},
    updatedAt,
  }));
  return groupImages(records, new Map([[manifestDigest, resolved]]), () => sizes)[0]!;
}
