// GET /system/df's answer (`docker system df`, `-v`), from the images, the containers and each
// container's writable layer: pure. An image's Size is its layers' (unpacked) size; its
// SharedSize the part of it in layers other images use too; LayersSize counts every layer once.
// Containers come with their sizes (sizes.ts).
// berthd has no volumes and no build cache yet: both lists are empty.
import { InvalidArgumentError } from "../../common/errors.ts";
import { chainIds } from "../../oci/image/identity.ts";
import { versionAtLeast } from "../api/api-version.ts";
import type { Image } from "../images/image.ts";
import { listEntry as imageEntry } from "../images/views.ts";
import type { SizeFields } from "./sizes.ts";

/** The `type` values of GET /system/df (API 1.42). */
export const DF_TYPES = ["container", "image", "volume", "build-cache"] as const;
export type DfType = (typeof DF_TYPES)[number];

/** A container as df shows it: its list entry, its image's id and its sizes (sizes.ts). */
export interface DfContainer {
  entry: Record<string, unknown>;
  imageId: string;
  sizes: SizeFields;
}

/** The types asked for: all when none is named; an unknown one is dockerd's 400. */
export function dfTypes(values: readonly string[]): ReadonlySet<DfType> {
  if (values.length === 0) return new Set(DF_TYPES);
  for (const v of values) {
    if (!(DF_TYPES as readonly string[]).includes(v)) {
      throw new InvalidArgumentError(`unknown object type: ${v.slice(0, 64)}`);
    }
  }
  return new Set(values as DfType[]);
}

/** Each layer (by chain id) with its size and how many images hold it. */
function layerUse(images: readonly Image[]): Map<string, { size: number; images: number }> {
  const use = new Map<string, { size: number; images: number }>();
  for (const image of images) {
    const chain = chainIds(image.config.rootfs.diff_ids);
    for (const id of new Set(chain)) {
      const size = image.layerSizes[chain.indexOf(id)] ?? 0;
      const u = use.get(id);
      if (u) u.images++;
      else use.set(id, { size, images: 1 });
    }
  }
  return use;
}

export function dfBody(
  input: { images: readonly Image[]; containers: readonly DfContainer[]; types: ReadonlySet<DfType> },
  version: string,
): Record<string, unknown> {
  const { images, containers, types } = input;
  const use = layerUse(images);
  const body: Record<string, unknown> = {
    LayersSize: 0,
    Images: null,
    Containers: null,
    Volumes: null,
    BuildCache: null,
  };
  if (types.has("image")) {
    body.LayersSize = [...use.values()].reduce((a, u) => a + u.size, 0);
    body.Images = images.map((image) => {
      const chain = new Set(chainIds(image.config.rootfs.diff_ids));
      let shared = 0;
      for (const id of chain) {
        const u = use.get(id);
        if (u && u.images > 1) shared += u.size;
      }
      const users = containers.filter((c) => c.imageId === image.id).length;
      return { ...imageEntry(image, version, users), SharedSize: shared };
    });
  }
  if (types.has("container")) {
    body.Containers = containers.map((c) => ({ ...c.entry, ...c.sizes }));
  }
  if (types.has("volume")) body.Volumes = [];
  if (types.has("build-cache")) body.BuildCache = [];
  // dockerd answered BuilderSize until API 1.42 (the build cache's total).
  if (!versionAtLeast(version, "1.42")) body.BuilderSize = 0;
  return body;
}
