// What a row's fields may hold, shared by the tables, the row checks (corrupt.ts) and repair:
// containerd's rules for identifiers, labels, digests and lease resources, the update masks that
// say which labels change, and the backend names of namespaced snapshots. Pure.
import { InvalidArgumentError } from "../../common/errors.ts";

export type Labels = Record<string, string>;

// containerd's identifier rule for namespaces and container ids.
const IDENTIFIER = /^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$/;
const MAX_IDENTIFIER = 76;
const MAX_LABEL = 4096;

/** The only digests the stores hold. */
export const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;

/** What a lease may hold: blobs, ingests, or the snapshots of one snapshotter. */
export const LEASE_RESOURCE_TYPE = /^(content|ingests|snapshots\/[A-Za-z0-9_.-]+)$/;

export function validateIdentifier(kind: string, id: string): string {
  if (id === "") throw new InvalidArgumentError(`${kind} name must not be empty`);
  if (id.length > MAX_IDENTIFIER)
    throw new InvalidArgumentError(`${kind} ${JSON.stringify(id)} is longer than ${MAX_IDENTIFIER} characters`);
  if (!IDENTIFIER.test(id))
    throw new InvalidArgumentError(`${kind} ${JSON.stringify(id)} must match ${IDENTIFIER.source}`);
  return id;
}

export function validateLabels(labels: Labels): Labels {
  for (const [k, v] of Object.entries(labels)) {
    if (k === "") throw new InvalidArgumentError("label key must not be empty");
    // containerd counts bytes, not characters.
    const total = Buffer.byteLength(k) + Buffer.byteLength(v);
    if (total > MAX_LABEL) {
      throw new InvalidArgumentError(
        `label key and value length (${total} bytes) greater than maximum size (${MAX_LABEL} bytes), key: ${k.slice(0, 64)}`,
      );
    }
  }
  return labels;
}

/**
 * Applies containerd's update-mask semantics to labels: "labels" replaces them all, "labels.k"
 * sets (or, with an empty value, removes) one; no paths means replace all.
 */
export function maskedLabels(current: Labels, incoming: Labels, paths: string[]): Labels {
  if (paths.length === 0 || paths.includes("labels")) return { ...incoming };
  const out = { ...current };
  for (const p of paths) {
    if (!p.startsWith("labels.")) continue;
    const k = p.slice(7);
    const v = incoming[k];
    if (v === undefined || v === "") delete out[k];
    else out[k] = v;
  }
  return out;
}

/** Refuses update paths other than "labels" and "labels.<key>" (what content and snapshots allow). */
export function labelPathsOnly(paths: string[], what: string): void {
  for (const p of paths) {
    if (p !== "labels" && !p.startsWith("labels."))
      throw new InvalidArgumentError(`cannot update ${JSON.stringify(p)} field on ${what}`);
  }
}

/**
 * The backend snapshot name of a namespace's snapshot: "<ns>/<seq>/<key>", `seq` from the
 * snapshotter's own sequence, so a key deleted and made again never meets its old directory.
 */
export function backendKey(ns: string, seq: number, key: string): string {
  return `${ns}/${seq}/${key}`;
}

/** The parts of a backend name, or undefined when it is not "<ns>/<seq>/<key>". */
export function splitBackendKey(name: string): { ns: string; seq: number; key: string } | undefined {
  const m = /^([^/]+)\/([0-9]+)\/(.+)$/s.exec(name);
  return m ? { ns: m[1]!, seq: Number(m[2]), key: m[3]! } : undefined;
}
