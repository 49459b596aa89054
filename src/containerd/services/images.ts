// containerd.services.images.v1 over the metadata database; deleting an image schedules a garbage
// collection (run before answering when the client asks for sync).
import { InvalidArgumentError } from "../../common/errors.ts";
import { ImageCreateSchema, ImageDeleteSchema, ImageUpdateSchema } from "../../proto/gen/containerd/events/image_pb.js";
import type { Image, Images } from "../../proto/gen/containerd/services/images/v1/images_pb.js";
import type { Impl } from "../../rpc/service.ts";
import { parseFilters, recordAdaptor } from "../filters/filters.ts";
import type { ImageMetadata, NewImage } from "../metadata/images-table.ts";
import { namespaceOf, pathsOf, type ServiceDeps, ts } from "./deps.ts";
import { sizeField, storedSize } from "./int64.ts";
import { publish } from "./publish.ts";

const toProto = (i: ImageMetadata) => ({
  name: i.name,
  labels: i.labels,
  target: {
    mediaType: i.target.mediaType,
    digest: i.target.digest,
    size: storedSize(i.target.size),
    annotations: i.target.annotations,
  },
  createdAt: ts(i.createdAt),
  updatedAt: ts(i.updatedAt),
});

function fromProto(i: Image | undefined): NewImage {
  if (!i) throw new InvalidArgumentError("image is required");
  const t = i.target;
  return {
    name: i.name,
    labels: i.labels,
    target: {
      mediaType: t?.mediaType ?? "",
      digest: t?.digest ?? "",
      size: sizeField("target.size", t?.size ?? 0n),
      annotations: t?.annotations ?? {},
    },
  };
}

export function imagesService(deps: ServiceDeps): Impl<typeof Images> {
  return {
    get: async (req, ctx) => ({ image: toProto(deps.db.images.get(namespaceOf(ctx), req.name)) }),
    list: async (req, ctx) => {
      const match = parseFilters(req.filters);
      const images = deps.db.images
        .list(namespaceOf(ctx))
        .filter((i) =>
          match(
            recordAdaptor(
              { name: i.name, "target.digest": i.target.digest, "target.mediatype": i.target.mediaType },
              i.labels,
            ),
          ),
        );
      return { images: images.map(toProto) };
    },
    create: async (req, ctx) => {
      const ns = namespaceOf(ctx);
      const image = deps.db.images.create(ns, fromProto(req.image));
      publish(deps, ns, "/images/create", ImageCreateSchema, { name: image.name, labels: image.labels });
      return { image: toProto(image) };
    },
    update: async (req, ctx) => {
      const ns = namespaceOf(ctx);
      const image = deps.db.images.update(ns, fromProto(req.image), pathsOf(req.updateMask));
      publish(deps, ns, "/images/update", ImageUpdateSchema, { name: image.name, labels: image.labels });
      return { image: toProto(image) };
    },
    delete: async (req, ctx) => {
      const ns = namespaceOf(ctx);
      deps.db.images.delete(ns, req.name);
      publish(deps, ns, "/images/delete", ImageDeleteSchema, { name: req.name });
      if (req.sync) await deps.gc.collect();
      else deps.gc.schedule();
      return {};
    },
  };
}
