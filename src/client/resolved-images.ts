// Images resolved before, by the digest their record points at: the record is read every time
// (a name may have been tagged onto another image since), but its index, manifest and config are
// content addressed by that digest and never change, so they are read and decoded once. Bounded.
import { NotFoundError } from "../common/errors.ts";
import type { ContentPort, ImagePort } from "../oci/transfer/ports.ts";
import { type ResolvedImage, resolveTarget } from "./rootfs.ts";

/** Targets remembered; the least recently used goes first. */
const MAX_TARGETS = 32;
/** A config bigger than this is not kept (the usual one is a few KiB). */
const MAX_CONFIG_BYTES = 256 * 1024;

export class ResolvedImages {
  readonly #byTarget = new Map<string, ResolvedImage>();

  /** `name` resolved for the host's platform as resolveImage does, its documents read once per target. */
  async resolve(images: ImagePort, content: ContentPort, name: string): Promise<ResolvedImage> {
    const image = await images.get(name);
    if (!image) throw new NotFoundError(`image ${name}: not found`);
    const key = image.target.digest;
    const known = this.#byTarget.get(key);
    if (known) {
      this.#byTarget.delete(key);
      this.#byTarget.set(key, known);
      // A copy: callers may change what they are given (a config's arrays merged into a container's).
      return { ...structuredClone(known), name };
    }
    const resolved = await resolveTarget(content, image.target, name);
    if (resolved.configBytes.byteLength <= MAX_CONFIG_BYTES) {
      this.#byTarget.set(key, structuredClone(resolved));
      while (this.#byTarget.size > MAX_TARGETS) this.#byTarget.delete(this.#byTarget.keys().next().value!);
    }
    return resolved;
  }
}
