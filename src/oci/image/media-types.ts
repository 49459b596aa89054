// Media types of OCI and Docker schema2 images, and what kind of thing each one names.
export const MediaType = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayer: "application/vnd.oci.image.layer.v1.tar",
  ociLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  ociLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  dockerForeignLayerGzip: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
  dockerSchema1Signed: "application/vnd.docker.distribution.manifest.v1+prettyjws",
} as const;

export function isIndexMediaType(m: string): boolean {
  return m === MediaType.ociIndex || m === MediaType.dockerManifestList;
}

export function isManifestMediaType(m: string): boolean {
  return m === MediaType.ociManifest || m === MediaType.dockerManifest;
}

export function isLayerMediaType(m: string): boolean {
  return m.startsWith("application/vnd.oci.image.layer.") || m.startsWith("application/vnd.docker.image.rootfs.");
}

/** What a registry is asked to answer with when resolving a tag. */
export const MANIFEST_ACCEPT = [
  MediaType.ociIndex,
  MediaType.dockerManifestList,
  MediaType.ociManifest,
  MediaType.dockerManifest,
  "*/*",
].join(", ");
