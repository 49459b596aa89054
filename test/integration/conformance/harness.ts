// The differential conformance harness: each case runs once under the reference runtime (runc) and
// once under the runtime being tested (berth-runc), each time with a fresh private --root, bundle
// and container id; both transcripts are normalized (ids, paths, pids, namespace inodes) and must be
// equal. A case may also check the reference transcript so a probe that observes nothing fails.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readlinkSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Spec } from "../../../src/runc/config/types.ts";
import { type Bundle, type BundleOptions, makeBundle, makeTempDir } from "../../fixtures/busybox.ts";
import { type RunResult, Runtime, uniqueId } from "../../helpers/runtime.ts";

export const execFileP = promisify(execFile);

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const REFERENCE_BIN = process.env.BERTH_REFERENCE_RUNC ?? "/usr/sbin/runc";
export const SUBJECT_BIN = process.env.BERTH_RUNC ?? join(repo, "dist/berth-runc.mjs");

export type Role = "reference" | "subject";

/** One half of a case: everything private to one runtime's run. */
export interface Half {
  role: Role;
  rt: Runtime;
  /** A unique container id (normalized to <ID>). */
  id: string;
  /** A host scratch dir (normalized to <SCRATCH>). */
  scratch: string;
  /** Registers cleanup work, run in reverse order after the case (even when it fails). */
  defer(fn: () => unknown | Promise<unknown>): void;
  /** Adds a literal replacement applied to the transcript. */
  replace(from: string, to: string): void;
  /** A bundle (cleaned up after the case; its path normalized to <BUNDLE>). */
  bundle(opts?: BundleOptions): Promise<Bundle>;
}

export interface ConformanceCase {
  name: string;
  /** A reason to skip (e.g. a known, documented difference). */
  skip?: string | false;
  run(h: Half): Promise<string>;
  /** Sanity checks on the reference's normalized transcript. */
  check?(transcript: string): void;
}

/** The exit code and output of a run, as a transcript section. */
export function formatResult(r: RunResult, opts: { stderr?: boolean } = {}): string {
  let s = `exit=${r.code}${r.timedOut ? " (timed out)" : ""}\n${r.stdout}`;
  if (opts.stderr !== false && r.stderr.length > 0) s += `--stderr--\n${r.stderr}`;
  return s;
}

/** For failures whose messages legitimately differ: exit code and whether stderr said anything. */
export function formatFailure(r: RunResult): string {
  return `exit=${r.code} stderr=${r.stderr.trim().length > 0 ? "non-empty" : "empty"}`;
}

/** Namespace links ("net:[4026531840]") become "same"/"different" relative to this test process's. */
function normalizeNamespaces(text: string): string {
  const host = new Map<string, string>();
  for (const f of readdirSync("/proc/self/ns")) {
    try {
      const link = readlinkSync(`/proc/self/ns/${f}`);
      host.set(link.slice(0, link.indexOf(":")), link);
    } catch {
      // Some links (e.g. time_for_children) may be unreadable; they are simply not compared.
    }
  }
  return text.replace(/\b(cgroup|ipc|mnt|net|pid|time|user|uts):\[(\d+)\]/g, (m, type: string) =>
    host.get(type) === m ? `${type}:same` : `${type}:different`,
  );
}

export interface ProbeOptions {
  name: string;
  /** A busybox sh script run as the container's process; it prints observations. */
  probe: string;
  spec?: (s: Spec, h: Half) => void | Promise<void>;
  rootfs?: (rootfs: string, h: Half) => void | Promise<void>;
  /** Host-side preparation before the bundle is written (e.g. `ip netns add`). */
  before?: (h: Half) => Promise<void>;
  /** Host-side observations after the run, appended to the transcript. */
  after?: (h: Half) => Promise<string>;
  /** Extra normalization of the transcript. */
  normalize?: (text: string, h: Half) => string;
  check?: (transcript: string) => void;
  /** Include the container's stderr (default true). */
  stderr?: boolean;
  skip?: string | false;
  timeoutMs?: number;
}

/** The common case: `run` a probe script in a tweaked bundle; the transcript is exit code + output. */
export function probeCase(o: ProbeOptions): ConformanceCase {
  return {
    name: o.name,
    skip: o.skip,
    check: o.check,
    async run(h) {
      await o.before?.(h);
      const b = await h.bundle({
        args: ["sh", "/probe.sh"],
        rootfs: async (r) => {
          await writeFile(join(r, "probe.sh"), o.probe);
          await o.rootfs?.(r, h);
        },
        spec: (s) => o.spec?.(s, h),
      });
      const r = await h.rt.run(h.id, b.dir, { timeoutMs: o.timeoutMs ?? 20_000 });
      let text = formatResult(r, { stderr: o.stderr });
      if (o.after) text += `--host--\n${await o.after(h)}`;
      return o.normalize ? o.normalize(text, h) : text;
    },
  };
}

/** One half of a case: its normalized transcript under `bin` (for a case only one runtime can run). */
export async function runHalf(role: Role, bin: string, c: ConformanceCase): Promise<string> {
  const rt = await Runtime.create(bin, role);
  const scratch = await makeTempDir(`berth-conf-${role}-`);
  const cleanups: (() => unknown)[] = [];
  const replacements: [string, string][] = [];
  const id = uniqueId(`conf-${role.slice(0, 3)}`);
  const h: Half = {
    role,
    rt,
    id,
    scratch,
    defer: (fn) => cleanups.push(fn),
    replace: (from, to) => replacements.push([from, to]),
    async bundle(opts) {
      const b = await makeBundle(opts);
      cleanups.push(b.cleanup);
      replacements.push([b.dir, "<BUNDLE>"]);
      return b;
    },
  };
  try {
    let text = await c.run(h);
    // Longest first, so a path is not half-replaced by one of its prefixes.
    const all: [string, string][] = [
      ...replacements,
      [id, "<ID>"],
      [rt.root, "<ROOT>"],
      [scratch, "<SCRATCH>"],
      [bin, "<RUNTIME>"],
    ];
    all.sort((a, b) => b[0].length - a[0].length);
    for (const [from, to] of all) text = text.split(from).join(to);
    return normalizeMountinfo(normalizeNamespaces(text));
  } finally {
    await rt.destroy();
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch {
        // Cleanup is best effort; leftovers under the temp dir go at process exit.
      }
    }
  }
}

/** Registers a describe() block with one test per case. */
export function conformance(title: string, cases: ConformanceCase[]): void {
  const notRoot = process.getuid?.() !== 0 ? "conformance tests need root" : false;
  describe(`conformance: ${title}`, { skip: notRoot }, () => {
    for (const c of cases) {
      test(c.name, { skip: c.skip }, async () => {
        assert.ok(
          existsSync(SUBJECT_BIN),
          `runtime under test not found: ${SUBJECT_BIN} (npm run build, or set BERTH_RUNC)`,
        );
        const ref = await runHalf("reference", REFERENCE_BIN, c);
        // BERTH_CONFORMANCE_VERBOSE=1 shows what the cases observe.
        if (process.env.BERTH_CONFORMANCE_VERBOSE) console.log(`--- ${c.name} (reference) ---\n${ref}`);
        c.check?.(ref);
        const sub = await runHalf("subject", SUBJECT_BIN, c);
        assert.equal(sub, ref, `${c.name}: ${SUBJECT_BIN} differs from ${REFERENCE_BIN}`);
      });
    }
  });
}

/** check() helper: the transcript contains every one of these strings. */
export function contains(...needles: string[]): (t: string) => void {
  return (t) => {
    for (const n of needles) assert.ok(t.includes(n), `reference transcript lacks ${JSON.stringify(n)}:\n${t}`);
  };
}

/** Sorts the lines of a transcript section (for observations whose order is not specified). */
export function sortLines(text: string): string {
  return text
    .split("\n")
    .filter((l) => l.length > 0)
    .sort()
    .join("\n");
}

/** Polls `file` until it contains `needle`. */
export async function waitForText(read: () => Promise<string>, needle: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await read()).includes(needle)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${JSON.stringify(needle)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Probe snippet: prints the container's mountinfo, each line prefixed for normalizeMountinfo. */
export const MOUNTINFO = "sed 's/^/mi: /' /proc/self/mountinfo\n";

/**
 * Rewrites each run of "mi: " lines (mountinfo) into "mount: " lines reduced to what a runtime
 * decides: mount point, fs type, per-mount and superblock options, propagation and (for virtual
 * filesystems) the source. Ids, device numbers and host-relative roots go. Sorted by mount point,
 * stably, so stacked mounts keep their order.
 */
export function normalizeMountinfo(text: string): string {
  const virtual = new Set(["proc", "sysfs", "tmpfs", "devpts", "mqueue", "cgroup", "cgroup2"]);
  const out: string[] = [];
  let group: [string, string][] = [];
  const flush = () => {
    const sorted = group.map((r, i) => [r, i] as const);
    sorted.sort((a, b) => (a[0][0] < b[0][0] ? -1 : a[0][0] > b[0][0] ? 1 : a[1] - b[1]));
    for (const [r] of sorted) out.push(r[1]);
    group = [];
  };
  for (const line of text.split("\n")) {
    const sep = line.indexOf(" - ");
    if (!line.startsWith("mi: ") || sep < 0) {
      flush();
      out.push(line);
      continue;
    }
    const pre = line.slice(4, sep).split(" ");
    const [fstype = "", source = "", superopts = ""] = line.slice(sep + 3).split(" ");
    const mountpoint = pre[4] ?? "";
    const prop =
      pre
        .slice(6)
        .map((f) => f.replace(/:\d+$/, ""))
        .join(",") || "private";
    const src = virtual.has(fstype) ? source : "<dev>";
    group.push([mountpoint, `mount: ${mountpoint} ${fstype} ${src} ${pre[5] ?? ""} ${prop} ${superopts}`]);
  }
  flush();
  return out.join("\n");
}

/** State JSON with run-specific values replaced; keys sorted. */
export function normalizeStateJson(text: string): string {
  try {
    const o = JSON.parse(text) as Record<string, unknown>;
    if (typeof o.pid === "number" && o.pid > 0) o.pid = "<pid>";
    if (typeof o.created === "string") o.created = "<time>";
    if ("ociVersion" in o) o.ociVersion = "<version>";
    return JSON.stringify(Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1))));
  } catch {
    return `unparsable: ${JSON.stringify(text)}`;
  }
}
