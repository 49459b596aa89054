// Image references the way docker reads them: "busybox" is docker.io/library/busybox:latest, a
// first component with a "." or ":" or "localhost" is a registry host, then an optional :tag and
// @sha256:digest.
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

export function parseReference(s: string): ImageReference {
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
