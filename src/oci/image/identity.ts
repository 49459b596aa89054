// Layer identities: a diffID names an uncompressed layer; a chain ID names a layer together with
// everything below it (chainID(L0) = diffID(L0); chainID(Ln) = sha256(chainID(Ln-1) + " " +
// diffID(Ln))), which is what snapshots are named by, so equal stacks share snapshots.
import { createHash } from "node:crypto";

export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const [i, d] of diffIds.entries()) {
    out.push(
      i === 0
        ? d
        : `sha256:${createHash("sha256")
            .update(`${out[i - 1]} ${d}`)
            .digest("hex")}`,
    );
  }
  return out;
}

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}
