// Pure policy: what a layer's tar entry asks for. Names are cleaned to components relative to the
// layer root; anything that would leave the root is refused here, before any file is touched.
// (Symlinks met while resolving the parent directory are handled by root-path.ts.)

import { cleanPath, type TarEntry } from "../../common/archive/tar-format.ts";
import { InvalidArgumentError } from "../../common/errors.ts";

export { cleanPath };

export const WHITEOUT_PREFIX = ".wh.";
export const WHITEOUT_META_PREFIX = ".wh..wh.";
export const OPAQUE_WHITEOUT = ".wh..wh..opq";

export type LayerAction =
  /** The entry names the layer root itself (e.g. "./"): nothing to do, as containerd. */
  | { kind: "skip"; reason: string }
  /** Delete `name` in `dir` (a ".wh.<name>" entry). */
  | { kind: "whiteout"; dir: string[]; name: string }
  /** Hide the lower layers' contents of `dir` (a ".wh..wh..opq" entry). */
  | { kind: "opaque"; dir: string[] }
  /** Create `name` in `dir`; for hard links, `target` is the linked path. */
  | { kind: "create"; dir: string[]; name: string; target?: string[] };

function refuse(entry: TarEntry, why: string): never {
  throw new InvalidArgumentError(`tar entry ${JSON.stringify(entry.name)}: ${why}`);
}

export function planEntry(entry: TarEntry): LayerAction {
  const components = cleanPath(entry.name);
  if (components === null) refuse(entry, "path escapes the layer root");
  const name = components.at(-1);
  if (name === undefined) {
    if (entry.type === "dir") return { kind: "skip", reason: "the layer root" };
    refuse(entry, "a non-directory entry for the layer root");
  }
  const dir = components.slice(0, -1);
  if (name === OPAQUE_WHITEOUT) return { kind: "opaque", dir };
  if (name.startsWith(WHITEOUT_META_PREFIX)) return { kind: "skip", reason: "whiteout metadata" };
  if (name.startsWith(WHITEOUT_PREFIX)) {
    const hidden = name.slice(WHITEOUT_PREFIX.length);
    if (hidden === "" || hidden === "." || hidden === "..") refuse(entry, "whiteout of the layer root or outside it");
    return { kind: "whiteout", dir, name: hidden };
  }
  if (entry.type === "hardlink") {
    const target = cleanPath(entry.linkname);
    if (target === null) refuse(entry, `hard link target ${JSON.stringify(entry.linkname)} escapes the layer root`);
    if (target.length === 0) refuse(entry, "hard link to the layer root");
    return { kind: "create", dir, name, target };
  }
  return { kind: "create", dir, name };
}
