// The images table: a name in a namespace for a target descriptor (a manifest or an index), with
// labels. Update paths follow containerd's: "target", "annotations[.k]", "labels[.k]".
import { InvalidArgumentError } from "../../common/errors.ts";
import { all, type Connection, date, json, type Predicate, type Row } from "./connection.ts";
import { KeyedRows, type KeyedTable } from "./keyed-rows.ts";
import type { NamespacesTable } from "./namespaces-table.ts";
import { type Labels, maskedLabels, SHA256_DIGEST, validateLabels } from "./validate.ts";

export interface DescriptorRecord {
  mediaType: string;
  digest: string;
  size: number;
  annotations: Labels;
}

/** An image in a namespace of the metadata database (the Images API's record). */
export interface ImageMetadata {
  name: string;
  labels: Labels;
  target: DescriptorRecord;
  createdAt: Date;
  updatedAt: Date;
}

/** An image as a client writes it: the database sets the times. */
export type NewImage = Omit<ImageMetadata, "createdAt" | "updatedAt">;

function validateImage(image: Pick<ImageMetadata, "name" | "target" | "labels">): void {
  if (!image.name) throw new InvalidArgumentError("image name must not be empty");
  if (!image.target.mediaType)
    throw new InvalidArgumentError(`image "${image.name}": target media type must not be empty`);
  if (!SHA256_DIGEST.test(image.target.digest)) {
    throw new InvalidArgumentError(
      `image "${image.name}": invalid target digest ${JSON.stringify(image.target.digest)}`,
    );
  }
  validateLabels(image.labels);
}

const isLabelPath = (p: string) => p === "labels" || p.startsWith("labels.");

/** The images table's rows, keyed by name. */
const IMAGES: KeyedTable<ImageMetadata> = {
  table: "images",
  key: "name",
  order: "name",
  name: (name) => `image "${name}"`,
  parse: (r: Row) => ({
    name: String(r.name),
    labels: JSON.parse(String(r.labels)) as Labels,
    target: JSON.parse(String(r.target)) as DescriptorRecord,
    createdAt: date(r.created),
    updatedAt: date(r.updated),
  }),
};

export class ImagesTable {
  readonly #conn: Connection;
  readonly #namespaces: NamespacesTable;
  readonly #rows: KeyedRows<ImageMetadata>;

  constructor(conn: Connection, namespaces: NamespacesTable) {
    this.#conn = conn;
    this.#namespaces = namespaces;
    this.#rows = new KeyedRows(conn, IMAGES);
  }

  get(ns: string, name: string): ImageMetadata {
    return this.#rows.get(ns, name);
  }

  list(ns: string, match: Predicate<ImageMetadata> = all): ImageMetadata[] {
    return this.#rows.list(ns, match);
  }

  create(ns: string, image: NewImage): ImageMetadata {
    validateImage(image);
    return this.#conn.transaction(() => {
      this.#namespaces.ensure(ns);
      const now = Date.now();
      this.#rows.insertNew(ns, image.name, [ns, image.name, json(image.target), json(image.labels), now, now]);
      return this.get(ns, image.name);
    });
  }

  update(ns: string, image: NewImage, paths: string[]): ImageMetadata {
    return this.#conn.transaction(() => {
      const cur = this.get(ns, image.name);
      let { target, labels } = cur;
      if (paths.length === 0) {
        validateImage(image);
        target = image.target;
        labels = image.labels;
      } else {
        for (const p of paths) {
          if (p === "target") target = image.target;
          else if (p === "annotations") target = { ...target, annotations: image.target.annotations };
          else if (p.startsWith("annotations.")) {
            const k = p.slice(12);
            const annotations = { ...target.annotations };
            const v = image.target.annotations[k];
            if (v) annotations[k] = v;
            else delete annotations[k];
            target = { ...target, annotations };
          } else if (isLabelPath(p)) continue;
          else
            throw new InvalidArgumentError(
              `cannot update ${JSON.stringify(p)} field on image ${JSON.stringify(image.name)}`,
            );
        }
        const labelPaths = paths.filter(isLabelPath);
        if (labelPaths.length > 0) labels = maskedLabels(cur.labels, image.labels, labelPaths);
        validateImage({ name: image.name, target, labels });
      }
      this.#conn.run(
        "UPDATE images SET target = ?, labels = ?, updated = ? WHERE ns = ? AND name = ?",
        json(target),
        json(labels),
        Date.now(),
        ns,
        image.name,
      );
      return this.get(ns, image.name);
    });
  }

  delete(ns: string, name: string): void {
    this.#rows.delete(ns, name);
  }

  /** Every image's target and labels, for the garbage collector's graph. */
  gcRows(): { ns: string; target: string; labels: Labels }[] {
    return this.#conn
      .all("SELECT ns, target, labels FROM images")
      .map((r) => this.#conn.checked("images", r))
      .map((r) => ({
        ns: String(r.ns),
        target: (JSON.parse(String(r.target)) as DescriptorRecord).digest,
        labels: JSON.parse(String(r.labels)) as Labels,
      }));
  }
}
