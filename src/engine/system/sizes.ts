// A container's disk sizes as dockerd reports them (ps -s, system df): SizeRw, the bytes of its
// writable layer (its snapshot's usage, which containerd measures by walking the upper
// directory), and SizeRootFs, that plus its image's size. Go's omitempty: a zero is left out.
import type { ContainerRecord } from "../containers/record.ts";
import { type Image, imageSize } from "../images/image.ts";

export interface SizeFields {
  SizeRw?: number;
  SizeRootFs?: number;
}

export function sizeFields(rw: number, image: number): SizeFields {
  const rootfs = rw + image;
  return { ...(rw > 0 ? { SizeRw: rw } : {}), ...(rootfs > 0 ? { SizeRootFs: rootfs } : {}) };
}

/** The sizes of some containers (by id), one image listing for all of them. */
export type ContainerSizer = (records: readonly ContainerRecord[]) => Promise<Map<string, SizeFields>>;

export function containerSizer(
  images: () => Promise<Image[]>,
  usage: (id: string) => Promise<{ size: number }>,
): ContainerSizer {
  return async (records) => {
    const sizeOf = new Map((await images()).map((i) => [i.id, imageSize(i)]));
    const out = new Map<string, SizeFields>();
    for (const r of records) {
      // A snapshot that cannot be measured (the container is being removed) counts nothing.
      const rw = await usage(r.ID).then(
        (u) => u.size,
        () => 0,
      );
      out.set(r.ID, sizeFields(rw, sizeOf.get(r.Image) ?? 0));
    }
    return out;
  };
}
