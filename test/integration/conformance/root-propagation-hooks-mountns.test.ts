// Three runtime behaviours, each compared with the reference runtime:
// - linux.rootfsPropagation: the propagation of "/" inside the container, when the mounts of the
//   namespace the runtime starts in are private (as on this host) and when they are shared (as on
//   a systemd host), and that namespace left as it was;
// - the state prestart, createRuntime, createContainer and startContainer hooks read on stdin;
// - a config without a mount namespace: the process runs in the runtime's own mount namespace,
//   chrooted into root.path, and what runc refuses then is refused.
//
// Every runtime here starts in a throwaway mount namespace of its own (`unshare --mount`: each
// mount made private first, so nothing done there reaches the host's). runc needs that: without a
// mount namespace it makes its whole tree rslave and bind-mounts the rootfs onto itself in the
// namespace it runs in, and leaves the mount there. The runtime's mountinfo before and after each
// run says what the runtime did to the namespace it was started in.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { Hook, Spec } from "../../../src/runc/config/types.ts";
import { makeBundle, makeTempDir } from "../../fixtures/busybox.ts";
import { Runtime, uniqueId } from "../../helpers/runtime.ts";
import {
  type ConformanceCase,
  conformance,
  contains,
  formatFailure,
  formatResult,
  type Half,
  normalizeStateJson,
  REFERENCE_BIN,
  runHalf,
  SUBJECT_BIN,
} from "./harness.ts";

/** The reference's version ([major, minor, patch]), or undefined if it does not say. */
function versionOf(bin: string): number[] | undefined {
  try {
    const m = /version (\d+)\.(\d+)\.(\d+)/.exec(execFileSync(bin, ["--version"], { encoding: "utf8" }));
    return m ? m.slice(1).map(Number) : undefined;
  } catch {
    return undefined;
  }
}

const REFERENCE_VERSION = versionOf(REFERENCE_BIN);
/** runc applies a shared or unbindable rootfsPropagation to "/" after pivot_root from 1.4 on. */
const REFERENCE_APPLIES_ROOT_PROPAGATION =
  REFERENCE_VERSION !== undefined && (REFERENCE_VERSION[0]! > 1 || REFERENCE_VERSION[1]! >= 4);

/** A runtime started in a mount namespace of its own; what it did there is read after `run`. */
interface IsolatedRuntime {
  rt: Runtime;
  /** The runtime's mount namespace and its mountinfo before and after the last command. */
  seen(): Promise<{ ns: string; before: string; after: string }>;
}

/**
 * Wraps the half's runtime in `unshare --mount` (every mount private, so the host's namespace
 * never hears of anything done in there); with `shared`, the namespace's mounts are then made
 * rshared (new peer groups of its own), as a systemd host's are. `procIn` gets a procfs mounted
 * there first, as the caller's part of the environment (runc 1.1 reads /proc/self/fd after it
 * has entered the root, so without a mount namespace it needs /proc in the rootfs already).
 * `ownMount` is bound onto itself after that, so a bundle below it has a parent mount other than
 * "/" (as where /tmp or /var/lib is a mount of its own).
 */
async function isolatedRuntime(h: Half, shared: boolean, procIn?: string, ownMount?: string): Promise<IsolatedRuntime> {
  const dir = await makeTempDir("berth-conf-isolated-");
  const script = join(dir, "runtime");
  const inside = [
    shared ? "mount --make-rshared / || exit 125" : "",
    procIn ? `mount -t proc proc ${procIn}/proc || exit 125` : "",
    // --rbind: what is mounted below it (a checkout under /tmp) stays visible to the runtime.
    ownMount ? `mount --rbind ${ownMount} ${ownMount} || exit 125` : "",
    'readlink /proc/self/ns/mnt > "$0/ns"',
    'cat /proc/self/mountinfo > "$0/before"',
    '"$@"; rc=$?',
    'cat /proc/self/mountinfo > "$0/after"',
    "exit $rc",
  ].join("\n");
  await writeFile(script, `#!/bin/sh\nexec unshare --mount -- /bin/sh -c '${inside}' "${dir}" "${h.rt.bin}" "$@"\n`, {
    mode: 0o755,
  });
  const rt = await Runtime.create(script, `${h.role}-isolated`);
  h.defer(() => rt.destroy());
  h.replace(script, "<RUNTIME>");
  h.replace(rt.root, "<ROOT>");
  return {
    rt,
    seen: async () => ({
      ns: (await readFile(join(dir, "ns"), "utf8")).trim(),
      before: await readFile(join(dir, "before"), "utf8"),
      after: await readFile(join(dir, "after"), "utf8"),
    }),
  };
}

/**
 * A transcript line: whether the runtime's own mount namespace is as it was; if not, what changed.
 * A mount whose mount point another test deleted meanwhile is gone from every namespace (the
 * kernel detaches mounts on a removed directory): that is not the runtime's doing.
 */
function unchangedLine(seen: { before: string; after: string }): string {
  const before = new Set(seen.before.split("\n"));
  const after = new Set(seen.after.split("\n"));
  const gone = [...before].filter((l) => !after.has(l) && existsSync(unescapeMountPoint(l.split(" ")[4] ?? "")));
  const added = [...after].filter((l) => !before.has(l));
  if (gone.length === 0 && added.length === 0) return "the runtime's mounts unchanged: yes\n";
  return `the runtime's mounts unchanged: no\n${gone.map((l) => `  - ${l}\n`).join("")}${added.map((l) => `  + ${l}\n`).join("")}`;
}

/** mountinfo writes space, tab, newline and backslash in octal (\040). */
function unescapeMountPoint(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

// ---------------------------------------------------------------------------------------------
// linux.rootfsPropagation

const ROOT_MOUNTINFO = `awk '$5 == "/"' /proc/self/mountinfo | sed 's/^/mi: /'\n`;

/** The values runc 1.1 leaves out: it never sets "/" itself, so these come out private or fail. */
const APPLIED_AFTER_PIVOT = new Set(["shared", "rshared", "unbindable", "runbindable"]);

/**
 * `ownMount`: the bundles' directory (tmpdir) is a mount of its own, so the rootfs's parent mount
 * is not "/": a non-recursive flag on "/" does not reach it, and runc 1.1.5 then makes it private
 * only if it is shared.
 */
function propagationCase(value: string | undefined, shared: boolean, ownMount = false): ConformanceCase {
  const env = `${shared ? "shared" : "private"}${ownMount ? ", the bundles on a mount of their own" : ""}`;
  return {
    name: `rootfsPropagation ${value ?? "unset"}, the runtime's mounts ${env}`,
    skip:
      value !== undefined && APPLIED_AFTER_PIVOT.has(value) && !REFERENCE_APPLIES_ROOT_PROPAGATION
        ? `runc before 1.4 does not apply ${value} to "/" (shared comes out private, unbindable fails the rootfs bind); checked on berth-runc alone below`
        : false,
    async run(h) {
      const iso = await isolatedRuntime(h, shared, undefined, ownMount ? tmpdir() : undefined);
      const b = await h.bundle({
        args: ["sh", "/probe.sh"],
        rootfs: (r) => writeFile(join(r, "probe.sh"), ROOT_MOUNTINFO),
        spec: (s) => {
          if (value === undefined) return;
          s.linux!.rootfsPropagation = value;
          // Nothing under a recursively unbindable tree can be a bind's source (EINVAL, in any
          // runtime): not the host's cgroup directories (the cgroup mount is made fresh in a
          // cgroup namespace instead), nor /dev/null for masked files, nor the read-only paths,
          // which are bound onto themselves after "/" has become runbindable.
          if (value === "runbindable") {
            s.linux!.namespaces!.push({ type: "cgroup" });
            delete s.linux!.maskedPaths;
            delete s.linux!.readonlyPaths;
          }
        },
      });
      if (ownMount) assert.ok(b.dir.startsWith(`${tmpdir()}/`), `${b.dir} is below ${tmpdir()}`);
      const r = await iso.rt.run(h.id, b.dir, { timeoutMs: 20_000 });
      return `${formatResult(r)}${unchangedLine(await iso.seen())}`;
    },
    check: contains("exit=0", "mount: / ", "the runtime's mounts unchanged: yes"),
  };
}

/** What "/" inside must show for the values runc applies after pivot_root (runc 1.4 and later). */
const AFTER_PIVOT_EXPECTED: Record<string, string> = {
  shared: "shared",
  rshared: "shared",
  unbindable: "unbindable",
  runbindable: "unbindable",
};

// ---------------------------------------------------------------------------------------------
// The state hooks read on stdin

const HOOK_KINDS = ["prestart", "createRuntime", "createContainer", "startContainer", "poststop"] as const;

/** Saves its stdin as <kind>.json: inside the container through /hookout, else on the host. */
function savingHook(kind: string, scratch: string): Hook {
  // Quiet: runc keeps a hook's stderr to itself unless the hook fails; berth-runc's in-container
  // hooks write theirs to the container's (compared elsewhere: this case is about the state).
  const script = `{ cat > /hookout/${kind}.json; } 2>/dev/null || cat > ${scratch}/${kind}.json`;
  return { path: "/bin/sh", args: ["sh", "-c", script] };
}

/** One line per hook: the status, which fields are there, and the values that are not per-run. */
async function hookStates(h: Half): Promise<string> {
  let out = "";
  for (const kind of HOOK_KINDS) {
    const raw = await readFile(join(h.scratch, `${kind}.json`), "utf8").catch(() => "");
    if (!raw) {
      out += `${kind}: (did not run)\n`;
      continue;
    }
    const st = JSON.parse(raw) as Record<string, unknown>;
    out += `${kind}: status=${String(st.status)} fields=${Object.keys(st).sort().join(",")} `;
    out += `annotations=${JSON.stringify(st.annotations)} ${normalizeStateJson(raw)}\n`;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// No mount namespace

/** The default spec without a mount namespace, and without what runc refuses then. */
function withoutMountNamespace(s: Spec): void {
  s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== "mount");
  s.mounts = [];
  s.root!.readonly = false;
  delete s.linux!.maskedPaths;
  delete s.linux!.readonlyPaths;
}

/** A createRuntime hook that records the init's mount namespace, as the runtime's namespace sees it. */
function mountNamespaceHook(scratch: string): Hook {
  const pid = `pid=$(sed -n 's/.*"pid":\\([0-9]*\\).*/\\1/p')`;
  return { path: "/bin/sh", args: ["sh", "-c", `${pid}; readlink /proc/$pid/ns/mnt > ${scratch}/init-mnt`] };
}

/** Inside: what is at "/" (the rootfs, not the host's), the device nodes made there, who runs. */
const CHROOT_PROBE = `echo root: $(ls /)
echo dev: $(ls /dev)
cat /etc/hostname
echo "uid $(id -u)"
exit 3
`;

async function noMountNamespaceRun(h: Half, shared: boolean): Promise<string> {
  const b = await h.bundle({
    args: ["sh", "/probe.sh"],
    rootfs: (r) => writeFile(join(r, "probe.sh"), CHROOT_PROBE),
    spec: (s) => {
      withoutMountNamespace(s);
      s.hooks = { createRuntime: [mountNamespaceHook(h.scratch)] };
    },
  });
  const iso = await isolatedRuntime(h, shared, b.rootfs);
  const r = await iso.rt.run(h.id, b.dir, { timeoutMs: 20_000 });
  const seen = await iso.seen();
  const initMnt = (await readFile(join(h.scratch, "init-mnt"), "utf8").catch(() => "(none)")).trim();
  if (h.role === "subject") {
    // runc leaves its rootfs bind mount (and an rslave tree) behind; berth-runc mounts nothing.
    // Mounts of other tests whose directories went meanwhile vanish from this namespace too.
    assert.equal(
      unchangedLine(seen),
      "the runtime's mounts unchanged: yes\n",
      "berth-runc changed the mounts of the namespace it ran in",
    );
  } else if (process.env.BERTH_CONFORMANCE_VERBOSE) {
    console.log(`reference: mounts unchanged: ${seen.before === seen.after}`);
  }
  return `${formatResult(r)}init's mount namespace is the runtime's: ${initMnt === seen.ns ? "yes" : `no (${initMnt} vs ${seen.ns})`}\n`;
}

/**
 * A config without a mount namespace that carries `edit` must be refused, with nothing left and
 * nothing mounted; `withMessage` adds the runtime's stderr (for one runtime's own words).
 */
function refusedCase(name: string, edit: (s: Spec) => void, withMessage = false): ConformanceCase {
  return {
    name,
    async run(h) {
      const iso = await isolatedRuntime(h, false);
      const b = await h.bundle({
        args: ["sh", "-c", "echo ran"],
        spec: (s) => {
          withoutMountNamespace(s);
          edit(s);
        },
      });
      const r = await iso.rt.run(h.id, b.dir, { timeoutMs: 20_000 });
      const seen = await iso.seen();
      const text = `${formatFailure(r)}\nleft in root: ${(await iso.rt.ids()).join(",")}\n${unchangedLine(seen)}`;
      return withMessage ? `${text}--stderr--\n${r.stderr}` : text;
    },
    check: contains("exit=1 stderr=non-empty"),
  };
}

const cases: ConformanceCase[] = [
  ...[false, true].flatMap((shared) =>
    [undefined, "shared", "slave", "private", "unbindable", "rshared", "rslave", "rprivate", "runbindable"].map(
      (value) => propagationCase(value, shared),
    ),
  ),
  // A fresh machine's /tmp was a mount of its own: there runc left "/" private for slave, where
  // berth-runc had made the parent a slave (found by the fresh-machine run, not on this host).
  ...[false, true].flatMap((shared) =>
    [undefined, "slave", "private", "rslave", "rprivate"].map((value) => propagationCase(value, shared, true)),
  ),
  {
    name: "the state each hook reads on stdin (prestart and createRuntime: creating)",
    async run(h) {
      const b = await h.bundle({
        args: ["sh", "-c", "echo container ran"],
        spec: (s) => {
          s.annotations = { "org.example.berth": "hooks" };
          s.mounts!.push({ destination: "/hookout", type: "bind", source: h.scratch, options: ["rbind", "rw"] });
          s.hooks = Object.fromEntries(HOOK_KINDS.map((k) => [k, [savingHook(k, h.scratch)]]));
        },
      });
      const r = await h.rt.run(h.id, b.dir);
      return `${formatResult(r)}${await hookStates(h)}`;
    },
    check: contains(
      "prestart: status=creating fields=annotations,bundle,id,ociVersion,pid,status",
      "createRuntime: status=creating",
      "startContainer: status=created",
      "poststop: status=stopped",
    ),
  },
  {
    name: "no mount namespace: the process runs in the runtime's, chrooted into root.path",
    async run(h) {
      return noMountNamespaceRun(h, false);
    },
    check: contains("exit=3", "root: bin dev etc", "busybox\nuid 0", "init's mount namespace is the runtime's: yes"),
  },
  {
    name: "no mount namespace, the runtime's mounts shared",
    async run(h) {
      return noMountNamespaceRun(h, true);
    },
    check: contains("exit=3", "init's mount namespace is the runtime's: yes"),
  },
  refusedCase("no mount namespace with masked paths is refused", (s) => {
    s.linux!.maskedPaths = ["/proc/kcore"];
  }),
  refusedCase("no mount namespace with read-only paths is refused", (s) => {
    s.linux!.readonlyPaths = ["/proc/sys"];
  }),
];

conformance("root propagation, hook state, no mount namespace", cases);

// ---------------------------------------------------------------------------------------------
// berth-runc alone: what runc 1.1 cannot be compared on.

describe("berth-runc alone", { skip: process.getuid?.() !== 0 ? "needs root" : false }, () => {
  for (const shared of [false, true]) {
    for (const [value, expected] of Object.entries(AFTER_PIVOT_EXPECTED)) {
      test(`rootfsPropagation ${value}, the runtime's mounts ${shared ? "shared" : "private"}: "/" is ${expected}`, async () => {
        const text = await runHalf("subject", SUBJECT_BIN, propagationCase(value, shared));
        assert.match(text, /^exit=0\n/, text);
        const root = text.split("\n").find((l) => l.startsWith("mount: / "));
        assert.equal(root?.split(" ")[5], expected, text);
        assert.match(text, /the runtime's mounts unchanged: yes/);
      });
    }
  }

  // runc runs these, mounting in (and leaving behind in) the namespace it was started in; without
  // a mount namespace of its own the container has nowhere else to mount, so berth-runc refuses.
  const refusals: [string, (s: Spec) => void, string, RegExp][] = [
    [
      "mounts",
      (s) => {
        s.mounts = [{ destination: "/proc", type: "proc", source: "proc" }];
      },
      "mounts",
      /without a private MNT namespace it would change the host's mounts/,
    ],
    [
      "a read-only root",
      (s) => {
        s.root!.readonly = true;
      },
      "root.readonly",
      /without a private MNT namespace it would change the host's mounts/,
    ],
    [
      "rootfsPropagation",
      (s) => {
        s.linux!.rootfsPropagation = "shared";
      },
      "linux.rootfsPropagation",
      /without a private MNT namespace it would change the host's mounts/,
    ],
  ];
  for (const [what, edit, field, message] of refusals) {
    test(`no mount namespace with ${what} is refused (${field})`, async () => {
      const text = await runHalf("subject", SUBJECT_BIN, refusedCase(what, edit, true));
      assert.match(text, /^exit=1 stderr=non-empty\nleft in root: \nthe runtime's mounts unchanged: yes\n/, text);
      const stderr = text.slice(text.indexOf("--stderr--"));
      assert.ok(stderr.includes(field), text);
      assert.match(stderr, message);
    });
  }

  test("no mount namespace, started in the host's own: the init is in it, the host's mounts are unchanged", async () => {
    const rt = await Runtime.create(SUBJECT_BIN, "hostns");
    const scratch = await makeTempDir("berth-hostns-");
    const b = await makeBundle({
      args: ["sh", "/probe.sh"],
      rootfs: (r) => writeFile(join(r, "probe.sh"), CHROOT_PROBE),
      spec: (s) => {
        withoutMountNamespace(s);
        s.hooks = { createRuntime: [mountNamespaceHook(scratch)] };
      },
    });
    // Other tests mount and unmount under the temp dir and /run meanwhile; the host's own mounts
    // and anything under this bundle are what this run could change.
    const mine = (): string[] =>
      readFileSync("/proc/self/mountinfo", "utf8")
        .split("\n")
        .filter((l) => {
          const point = l.split(" ")[4] ?? "";
          return point.startsWith(b.dir) || !/^\/(tmp|run|var)(\/|$)/.test(point);
        });
    // The runtime mounts nothing, so /proc in the rootfs is the caller's to provide (both runtimes
    // reopen fds through /proc/self/fd once inside the root); this test's own mount, undone below.
    const proc = join(b.rootfs, "proc");
    execFileSync("mount", ["-t", "proc", "proc", proc]);
    const before = mine();
    try {
      const r = await rt.run(uniqueId("hostns"), b.dir, { timeoutMs: 20_000 });
      assert.equal(r.code, 3, r.stderr);
      assert.ok(r.stdout.startsWith(`root: ${readdirSync(b.rootfs).sort().join(" ")}\n`), r.stdout);
      assert.equal(
        readFileSync(join(scratch, "init-mnt"), "utf8").trim(),
        execFileSync("readlink", ["/proc/self/ns/mnt"], { encoding: "utf8" }).trim(),
      );
      assert.deepEqual(mine(), before);
    } finally {
      execFileSync("umount", ["-l", proc]);
      await rt.destroy();
      await b.cleanup();
    }
  });
});
