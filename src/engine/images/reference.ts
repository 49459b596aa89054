// Image references as dockerd reads and shows them: "busybox" is docker.io/library/busybox:latest
// in containerd's image store and busybox:latest to the user (the "familiar" form). Parsing is
// src/oci's; this file adds dockerd's refusals and its words for them ("invalid reference format").
import { InvalidArgumentError } from "../../common/errors.ts";
import { formatReference, parseReference } from "../../oci/registry/reference.ts";

export interface ImageRef {
  /** The full name containerd stores: docker.io/library/busybox:latest, or repo@sha256:... */
  name: string;
  /** domain/repository: docker.io/library/busybox. */
  repo: string;
  tag?: string;
  digest?: string;
}

/** Longer than any reference docker accepts (a 255-character name, a tag and a digest). */
const MAX_REFERENCE = 255 + 1 + 128 + 1 + 71;
/** docker's domain grammar: dot-separated components, an optional port; or a bracketed IPv6 address. */
const DOMAIN =
  /^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[a-fA-F0-9:]+\])(?::[0-9]{1,5})?$/;
/** A bare image id: docker refuses it as a repository name. */
const HEX64 = /^[a-f0-9]{64}$/;

const invalid = (detail?: string) =>
  new InvalidArgumentError(detail ? `invalid reference format: ${detail}` : "invalid reference format");

/** A reference as dockerd parses one (ParseNormalizedNamed), with a tag "latest" when none is given. */
export function parseImageRef(s: string): ImageRef {
  if (s.length > MAX_REFERENCE) throw invalid("repository name must not be more than 255 characters");
  if (HEX64.test(s)) {
    throw new InvalidArgumentError(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  }
  const at = s.indexOf("@");
  const nameOnly = (at < 0 ? s : s.slice(0, at)).replace(/:[\w][\w.-]*$/, "");
  if (nameOnly !== nameOnly.toLowerCase() && /^[\w./:-]+$/.test(nameOnly)) {
    // A host part may be upper case in docker's grammar; only the repository must not be.
    const slash = nameOnly.indexOf("/");
    const first = slash < 0 ? "" : nameOnly.slice(0, slash);
    const hasHost = first.includes(".") || first.includes(":") || first === "localhost";
    const repoPart = hasHost ? nameOnly.slice(slash + 1) : nameOnly;
    if (repoPart !== repoPart.toLowerCase()) throw invalid("repository name must be lowercase");
  }
  let r: ReturnType<typeof parseReference>;
  try {
    r = parseReference(s);
  } catch (err) {
    if (err instanceof InvalidArgumentError && /must not be more than/.test(err.message))
      throw invalid("repository name must not be more than 255 characters");
    throw invalid();
  }
  if (!DOMAIN.test(r.domain)) throw invalid();
  const repo = `${r.domain}/${r.repository}`;
  return {
    name: formatReference(r),
    repo,
    ...(r.tag ? { tag: r.tag } : {}),
    ...(r.digest ? { digest: r.digest } : {}),
  };
}

/** A repository and tag as `docker tag` sends them (POST /images/{name}/tag?repo=&tag=). */
export function parseTagTarget(repo: string, tag: string): ImageRef {
  if (repo === "") throw new InvalidArgumentError("repository name must have at least one component");
  const ref = parseImageRef(tag === "" ? repo : `${repo}:${tag}`);
  if (ref.digest) throw new InvalidArgumentError("refusing to create a tag with a digest reference");
  // "sha256:<hex>" would read as an image id.
  if (ref.repo === "docker.io/library/sha256") {
    throw new InvalidArgumentError("refusing to create an ambiguous tag using digest algorithm as name");
  }
  return ref;
}

/**
 * docker.io/library/busybox:latest → busybox:latest; docker.io/user/x → user/x; others as they
 * are. A Docker Hub name whose first component would read as a host (docker.io/a.b/c) keeps its
 * domain, so the familiar name parses back to the same image.
 */
export function familiarName(name: string): string {
  if (name.startsWith("docker.io/library/")) {
    const rest = name.slice("docker.io/library/".length);
    // Only an official image's one-component name drops "library/" (docker's rule).
    if (!rest.slice(0, rest.search(/[:@]|$/)).includes("/")) return rest;
  }
  if (name.startsWith("docker.io/")) {
    const rest = name.slice("docker.io/".length);
    if (!looksLikeHost(rest)) return rest;
  }
  return name;
}

/** Would a name's first component be read as a registry host (docker's rule)? */
function looksLikeHost(name: string): boolean {
  const slash = name.indexOf("/");
  if (slash < 0) return false;
  const first = name.slice(0, slash);
  return first.includes(".") || first.includes(":") || first === "localhost";
}

/** Where `docker pull` says it pulls from: "library/busybox" for Docker Hub, the path for others. */
export function pullPath(ref: ImageRef): string {
  return ref.repo.slice(ref.repo.indexOf("/") + 1);
}

/** 12 hex characters of a digest or id, as docker shows ids. */
export function shortId(digest: string): string {
  return digest.replace(/^sha256:/, "").slice(0, 12);
}

/** A name stored for an image that lost its last tag (dockerd's own convention). */
export const DANGLING_PREFIX = "moby-dangling@";

export const isDanglingName = (name: string) => name.startsWith(DANGLING_PREFIX);
