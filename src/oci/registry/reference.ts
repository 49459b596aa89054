// Image references the way docker reads them: "busybox" is docker.io/library/busybox:latest, a
// first component with a "." or ":" or "localhost" is a registry host, then an optional :tag and
// @sha256:digest. A name (registry host and repository) is at most 255 characters, as docker's.
import { InvalidArgumentError } from "../../common/errors.ts";

export interface ImageReference {
  domain: string;
  repository: string;
  tag?: string;
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const NAME_MAX = 255;

export function parseReference(s: string): ImageReference {
  // Longer than a name, a tag and a digest together: refused before it is parsed or quoted.
  if (s.length > NAME_MAX + 1 + 128 + 1 + 71)
    throw new InvalidArgumentError(`invalid reference of ${s.length} characters: longer than any valid one`);
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new InvalidArgumentError(`invalid reference ${JSON.stringify(s)}: bad digest`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag))
      throw new InvalidArgumentError(`invalid reference ${JSON.stringify(s)}: bad tag ${JSON.stringify(tag)}`);
  }
  let domain = "docker.io";
  const slash = rest.indexOf("/");
  const first = slash >= 0 ? rest.slice(0, slash) : "";
  if (slash >= 0 && (first.includes(".") || first.includes(":") || first === "localhost")) {
    domain = first;
    rest = rest.slice(slash + 1);
  }
  if (domain === "docker.io" && !rest.includes("/")) rest = `library/${rest}`;
  if (domain.length + 1 + rest.length > NAME_MAX)
    throw new InvalidArgumentError(
      `invalid reference ${JSON.stringify(`${s.slice(0, 64)}...`)}: repository name must not be more than ${NAME_MAX} characters`,
    );
  if (rest === "" || !rest.split("/").every((c) => COMPONENT.test(c))) {
    throw new InvalidArgumentError(
      `invalid reference ${JSON.stringify(s)}: repository must be lowercase path components`,
    );
  }
  if (!tag && !digest) tag = "latest";
  return { domain, repository: rest, tag, digest };
}

export function formatReference(r: ImageReference): string {
  return `${r.domain}/${r.repository}${r.tag ? `:${r.tag}` : ""}${r.digest ? `@${r.digest}` : ""}`;
}
