// --platform of push, save and load as docker 28 sends it: "os[/arch[/variant]]" checked as
// containerd's platforms.Parse checks it, sent as the OCI platform's JSON ({"architecture","os","variant"}).
import { CliError } from "../errors.ts";

const COMPONENT = /^[A-Za-z0-9_.-]+$/;

/** The query value for `spec`, or docker's refusal (exit 1, nothing sent). */
export function platformQuery(spec: string): string {
  const parts = spec.split("/");
  for (const part of parts) {
    if (!COMPONENT.test(part)) {
      throw new CliError(
        `invalid platform: ${JSON.stringify(part)} is an invalid component of ${JSON.stringify(spec)}: platform specifier component must match "^[A-Za-z0-9_.-]+$": invalid argument`,
      );
    }
  }
  if (parts.length > 3) {
    throw new CliError(`invalid platform: ${JSON.stringify(spec)}: cannot parse platform specifier: invalid argument`);
  }
  const [os, arch, variant] = parts.map((p) => p.toLowerCase()) as [string, string?, string?];
  const doc: Record<string, string> = { architecture: arch ?? "amd64", os };
  if (variant) doc.variant = variant;
  return JSON.stringify(doc);
}
