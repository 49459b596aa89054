// dockerd's rules for DELETE /images/{name} (its ImageDelete), as a pure plan: which names go and
// whether the image itself goes, or which conflict refuses the request.
// - By name: that name is untagged. The image goes with its last name, unless a container uses
//   it: without force that is refused up front; with force the name goes and the image stays,
//   dangling (dockerd is quiet about it).
// - By id: an image with one tag (digests of that repository aside) loses it and goes; with tags
//   in several repositories it is refused unless forced; a running container's image is never
//   deleted, a stopped one's only when forced.
import { ApiError } from "../api/api-errors.ts";
import type { Image } from "./image.ts";
import { familiarName, shortId } from "./reference.ts";
import type { ImageUser } from "./users.ts";

/** How the request named the image: a full name, or its id (or a prefix of it). */
export type RemoveRef = { kind: "name"; name: string; given: string } | { kind: "id" };

export interface RemovePlan {
  /** Full names to remove. */
  untag: string[];
  /** The image goes (every record of it, dangling ones too). */
  delete: boolean;
  /** The image loses its last name but stays (a container uses it): keep it under a dangling name. */
  keepDangling: boolean;
}

const conflict = (message: string) => new ApiError(409, message, "failed-precondition");
const repoOf = (name: string) => {
  const at = name.indexOf("@");
  return at >= 0 ? name.slice(0, at) : name.slice(0, name.lastIndexOf(":"));
};

/** At most one tag, and every digest name in that tag's repository (dockerd's isSingleReference). */
export function isSingleReference(names: readonly string[]): boolean {
  if (names.length <= 1) return names.length === 1;
  const tags = names.filter((n) => !n.includes("@"));
  if (tags.length > 1) return false;
  const canonicalRepos = new Set(names.filter((n) => n.includes("@")).map(repoOf));
  const single = tags[0] ?? names[0]!;
  return canonicalRepos.size === 1 && canonicalRepos.has(repoOf(single));
}

/** The conflict deleting the image meets, or undefined; `remaining` are the names it would still have. */
function deleteConflict(image: Image, users: readonly ImageUser[], force: boolean, remaining: number) {
  const running = users.find((u) => u.running);
  if (running) {
    return conflict(
      `conflict: unable to delete ${shortId(image.id)} (cannot be forced) - image is being used by running container ${shortId(running.id)}`,
    );
  }
  if (force) return undefined;
  if (remaining > 1) {
    return conflict(
      `conflict: unable to delete ${shortId(image.id)} (must be forced) - image is referenced in multiple repositories`,
    );
  }
  const stopped = users[0];
  if (stopped) {
    return conflict(
      `conflict: unable to delete ${shortId(image.id)} (must be forced) - image is being used by stopped container ${shortId(stopped.id)}`,
    );
  }
  return undefined;
}

export function planRemove(image: Image, ref: RemoveRef, users: readonly ImageUser[], force: boolean): RemovePlan {
  if (ref.kind === "name") {
    const first = users[0];
    if (first && !force && image.names.length === 1) {
      throw conflict(
        `conflict: unable to remove repository reference "${ref.given}" (must force) - container ${shortId(first.id)} is using its referenced image ${shortId(image.id)}`,
      );
    }
    const untag = [ref.name];
    // The last tag of a repository takes that repository's digest names with it.
    const repo = repoOf(ref.name);
    if (!ref.name.includes("@") && !image.names.some((n) => n !== ref.name && !n.includes("@") && repoOf(n) === repo))
      untag.push(...image.names.filter((n) => n.includes("@") && repoOf(n) === repo));
    const remaining = image.names.filter((n) => !untag.includes(n));
    if (remaining.length > 0) return { untag, delete: false, keepDangling: false };
    // The last name: the image goes unless something holds it; then it stays, quietly, dangling.
    const held = deleteConflict(image, users, force, 0) !== undefined;
    return { untag, delete: !held, keepDangling: held };
  }
  if (isSingleReference(image.names)) {
    const c = deleteConflict(image, users, force, 0);
    if (c) throw c;
    return { untag: [...image.names], delete: true, keepDangling: false };
  }
  const c = deleteConflict(image, users, force, image.names.length);
  if (c) throw c;
  return { untag: [...image.names], delete: true, keepDangling: false };
}

/** The answer's entries: each name untagged (familiar), then the image deleted. */
export function removeAnswer(image: Image, plan: RemovePlan): Record<string, string>[] {
  const out: Record<string, string>[] = plan.untag.map((n) => ({ Untagged: familiarName(n) }));
  if (plan.delete) out.push({ Deleted: image.id });
  return out;
}
