// Image references as the docker CLI reads them for pull/run/create: the tag docker adds
// (":latest"), the fully qualified name it prints after a pull, the registry a name lives on (for
// its credentials: context/credentials.ts).

export interface ImageRef {
  /** fromImage as docker sends it: the name without tag or digest ("busybox", "localhost:5000/x"). */
  repository: string;
  /** The tag ("latest" when none is given and no digest is), or the digest ("sha256:..."). */
  tag: string;
  /**
   * "busybox:latest", "x@sha256:...": what "Unable to find image '...' locally" quotes, as docker's
   * FamiliarString prints it (docker.io/library/busybox and library/busybox are busybox:latest).
   */
  familiar: string;
  /** "docker.io/library/busybox:latest": what docker pull prints last. */
  full: string;
  /** The registry's host ("docker.io", "localhost:5000"). */
  registry: string;
}

/** A first path component is a registry when it has a dot or a port, or is "localhost". */
function isRegistry(component: string): boolean {
  return component.includes(".") || component.includes(":") || component === "localhost";
}

/** Splits `ref` as docker's reference.ParseNormalizedNamed does (the checks are the daemon's). */
export function parseImageRef(ref: string): ImageRef {
  let name = ref;
  let tag = "";
  let sep = ":";
  const at = name.indexOf("@");
  if (at >= 0) {
    tag = name.slice(at + 1);
    name = name.slice(0, at);
    sep = "@";
  } else {
    const colon = name.lastIndexOf(":");
    if (colon > name.lastIndexOf("/")) {
      tag = name.slice(colon + 1);
      name = name.slice(0, colon);
    }
  }
  if (tag === "") tag = "latest";
  const slash = name.indexOf("/");
  const first = slash >= 0 ? name.slice(0, slash) : "";
  const hasRegistry = slash >= 0 && isRegistry(first);
  // index.docker.io is Docker Hub's old name: docker normalizes it to docker.io.
  const registry = hasRegistry && first !== "index.docker.io" ? first : "docker.io";
  let path = hasRegistry ? name.slice(slash + 1) : name;
  if (registry === "docker.io" && !path.includes("/")) path = `library/${path}`;
  // reference.FamiliarName: Docker Hub's host dropped, and "library/" for its official images.
  const short = registry !== "docker.io" ? `${registry}/${path}` : /^library\/[^/]+$/.test(path) ? path.slice(8) : path;
  return {
    repository: name,
    tag,
    familiar: `${short}${sep}${tag}`,
    full: `${registry}/${path}${sep}${tag}`,
    registry,
  };
}

// docker's reference grammar (distribution/reference), for the commands that check a name before
// sending it (push, import): what docker refuses itself, in its words, nothing sent.
const DOMAIN_PART = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_PART}(?:\\.${DOMAIN_PART})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const PATH_PART = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const REFERENCE = new RegExp(
  `^((?:${DOMAIN}/)?${PATH_PART}(?:/${PATH_PART})*)(?::([\\w][\\w.-]{0,127}))?(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$`,
);
/** A name longer than this is refused, as docker refuses it. */
const MAX_NAME_LENGTH = 255;

/** docker's ParseNormalizedNamed refusal for `ref` ("invalid reference format: ..."), or undefined when it parses. */
export function referenceProblem(ref: string): string | undefined {
  if (/^[a-f0-9]{64}$/.test(ref)) return `invalid repository name (${ref}), cannot specify 64-byte hexadecimal strings`;
  // The repository's path as docker splits it: a first component is a registry when it has a
  // dot or a port, is "localhost", or is not lowercase; the path ends at the first colon.
  const slash = ref.indexOf("/");
  const first = slash < 0 ? "" : ref.slice(0, slash);
  const hasDomain = slash >= 0 && (isRegistry(first) || first.toLowerCase() !== first);
  let remainder = hasDomain ? ref.slice(slash + 1) : ref;
  if (!hasDomain && !remainder.includes("/")) remainder = `library/${remainder}`;
  const colon = remainder.indexOf(":");
  const remote = colon < 0 ? remainder : remainder.slice(0, colon);
  if (remote.toLowerCase() !== remote) return `invalid reference format: repository name (${remote}) must be lowercase`;
  const m = REFERENCE.exec(ref);
  if (!m) return "invalid reference format";
  if ((m[1] as string).length > MAX_NAME_LENGTH)
    return `invalid reference format: repository name must not be more than ${MAX_NAME_LENGTH} characters`;
  return m[3] === undefined ? undefined : digestProblem(m[3]);
}

/** Hex lengths of the digest algorithms docker knows. */
const DIGEST_HEX: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** go-digest's refusal of a digest the grammar took ("sha256:..."), in its words, or undefined. */
function digestProblem(digest: string): string | undefined {
  const colon = digest.indexOf(":");
  const length = DIGEST_HEX[digest.slice(0, colon)];
  if (length === undefined) return "unsupported digest algorithm";
  const hex = digest.slice(colon + 1);
  if (hex.length !== length) return "invalid checksum digest length";
  return /^[a-f0-9]+$/.test(hex) ? undefined : "invalid checksum digest format";
}
