// Platforms: "os/arch[/variant]" as containerd writes them, normalised (x86_64 → amd64,
// aarch64 → arm64, arm64's default variant v8), and the matcher that picks manifests from an index.
import { InvalidArgumentError } from "../../common/errors.ts";
import type { IndexEntry, Platform } from "./manifest.ts";

export type PlatformSpec = string;

const ARCH: Record<string, string> = {
  x86_64: "amd64",
  x86: "386",
  i386: "386",
  aarch64: "arm64",
  armhf: "arm",
  armel: "arm",
  x64: "amd64",
};

export function normalizePlatform(p: Platform): Platform {
  const architecture = ARCH[p.architecture] ?? p.architecture;
  let variant = p.variant || undefined;
  if (architecture === "arm64" && (variant === "v8" || variant === "8")) variant = undefined;
  if (architecture === "arm" && variant === undefined) variant = "v7";
  return { os: p.os, architecture, variant };
}

export function parsePlatform(s: PlatformSpec): Platform {
  const parts = s.split("/");
  if (parts.length < 2 || parts.length > 3 || parts.some((x) => !/^[a-z0-9_]+$/.test(x))) {
    throw new InvalidArgumentError(`invalid platform ${JSON.stringify(s)}: want os/arch[/variant]`);
  }
  return normalizePlatform({ os: parts[0]!, architecture: parts[1]!, variant: parts[2] });
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

export function hostPlatform(): Platform {
  return normalizePlatform({ os: "linux", architecture: process.arch });
}

export interface PlatformMatcher {
  /** The index entries to fetch, best first; entries without a platform match nothing. */
  select(entries: IndexEntry[]): IndexEntry[];
  describe(): string;
}

/** Matches any of `platforms` (default: the host's); picks the first matching entry per platform. */
export function platformMatcher(platforms?: PlatformSpec[]): PlatformMatcher {
  const wanted = platforms && platforms.length > 0 ? platforms.map(parsePlatform) : [hostPlatform()];
  const same = (a: Platform, b: Platform) =>
    a.os === b.os && a.architecture === b.architecture && (a.variant ?? "") === (b.variant ?? "");
  return {
    select: (entries) => {
      const out: IndexEntry[] = [];
      for (const w of wanted) {
        const hit = entries.find((e) => e.platform && same(normalizePlatform(e.platform), w));
        if (hit && !out.includes(hit)) out.push(hit);
      }
      return out;
    },
    describe: () => wanted.map(formatPlatform).join(", "),
  };
}
