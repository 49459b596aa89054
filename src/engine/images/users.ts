// "Is this image used by a container?" — the question image removal asks. The containers side
// answers it; the images module defines the question, so it never imports the containers module.
import type { Image } from "./image.ts";

/** A container made from an image. */
export interface ImageUser {
  id: string;
  running: boolean;
}

/** What an image is known by: its id (config digest), its targets' digests and its names. */
export type ImageIdentity = Pick<Image, "id" | "names"> & { targets: readonly string[] };

export interface ImageUsers {
  usersOf(image: ImageIdentity): ImageUser[];
}

export const NO_USERS: ImageUsers = { usersOf: () => [] };

/** A container as the containers side records it: its id and the digest its image resolved to. */
export interface ContainerImageRef {
  ID: string;
  /** A manifest's digest (what berthd's containers record today) or the config's. */
  Image: string;
}

/** ImageUsers over a list of container records and a running check. */
export function containerImageUsers(
  all: () => readonly ContainerImageRef[],
  running: (id: string) => boolean,
): ImageUsers {
  return {
    usersOf: (image) =>
      all()
        .filter((c) => c.Image === image.id || image.targets.includes(c.Image))
        .map((c) => ({ id: c.ID, running: running(c.ID) })),
  };
}
