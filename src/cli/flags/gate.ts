// Which flags a daemon supports, as the docker CLI decides it (cobra's hideUnsupportedFeatures and
// areFlagsSupported): a flag annotated with an API version is for daemons of that version or newer,
// one annotated with an OS type only for a daemon that says it runs that OS (a daemon that says
// nothing, or none that answers, gets them all), an experimental one only for a daemon with
// experimental features on. --help hides the rest; giving one is refused, exit 1.
import { compareApiVersions } from "../../common/api-version.ts";
import type { FlagDef } from "./parse.ts";

/** What the daemon's /_ping told (api/ping.ts), or what is assumed when it did not answer. */
export interface ServerFacts {
  /** The version the client speaks: pinned (DOCKER_API_VERSION), negotiated, or the client's own when no daemon answered. */
  apiVersion: string;
  /** The Ostype header; "" when not known. */
  osType: string;
  experimental: boolean;
}

/** Whether the flag carries a gate at all (a command with none needs no /_ping for its --help). */
export function isGated(d: FlagDef): boolean {
  return d.minApi !== undefined || d.osType !== undefined || d.experimental === true;
}

/** Why the daemon does not support the flag, in docker's words; undefined when it does. */
export function unsupportedReason(d: FlagDef, server: ServerFacts): string | undefined {
  if (d.minApi !== undefined && compareApiVersions(server.apiVersion, d.minApi) < 0) {
    return `"--${d.long}" requires API version ${d.minApi}, but the Docker daemon API version is ${server.apiVersion}`;
  }
  if (d.osType !== undefined && server.osType !== "" && server.osType !== d.osType) {
    return `"--${d.long}" is only supported on a Docker daemon running on ${d.osType}, but the Docker daemon is running on ${server.osType}`;
  }
  if (d.experimental === true && !server.experimental) {
    return `"--${d.long}" is only supported on a Docker daemon with experimental features enabled`;
  }
  return undefined;
}

/** The definitions as --help shows them for this daemon: the unsupported ones hidden. */
export function gatedForHelp(defs: readonly FlagDef[], server: ServerFacts): FlagDef[] {
  return defs.map((d) =>
    d.hidden !== true && unsupportedReason(d, server) !== undefined ? { ...d, hidden: true } : d,
  );
}

/** docker's refusal of the given flags the daemon does not support: one line each, or undefined. */
export function unsupportedGiven(
  defs: readonly FlagDef[],
  given: ReadonlySet<string>,
  server: ServerFacts,
): string | undefined {
  // In name order, as pflag visits them.
  const lines = [...defs]
    .sort((a, b) => (a.long < b.long ? -1 : a.long > b.long ? 1 : 0))
    .filter((d) => given.has(d.long) && isGated(d))
    .map((d) => unsupportedReason(d, server))
    .filter((r): r is string => r !== undefined);
  return lines.length > 0 ? lines.join("\n") : undefined;
}
