// Pure policy: which media types are layers the applier unpacks. One check for every path that
// applies a layer (the Diff service ctr's pull goes through, and the transfer service's own
// unpack), with containerd's refusal for anything else.
import { NotImplementedError } from "../../common/errors.ts";

export const OCI_LAYER = "application/vnd.oci.image.layer.v1.tar";

const LAYER_TYPES = new Set([
  OCI_LAYER,
  `${OCI_LAYER}+gzip`,
  `${OCI_LAYER}+zstd`,
  "application/vnd.oci.image.layer.nondistributable.v1.tar",
  "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
  "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
  "application/vnd.docker.image.rootfs.diff.tar",
  "application/vnd.docker.image.rootfs.diff.tar.gzip",
  "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
]);

export function isLayerMediaType(mediaType: string): boolean {
  return LAYER_TYPES.has(mediaType);
}

/** Refuses what is not a layer as containerd's applier does (NotImplemented, the same words). */
export function checkLayerMediaType(mediaType: string): void {
  if (!isLayerMediaType(mediaType)) {
    throw new NotImplementedError(`unsupported diff media type: ${mediaType}: not implemented`);
  }
}
