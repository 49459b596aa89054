// Rules that relate several fields of an already decoded spec: which settings need which
// namespaces. Messages follow runc's where it has one, so users searching them find answers.

import { IPC_NAMESPACED_SYSCTLS } from "../../common/linux-names.ts";
import { fail, keyField } from "./decode.ts";
import { parseMountOptions } from "./mount-options.ts";
import type { NamespaceType, Spec } from "./types.ts";

/** sysctl accepts "net/ipv4/ip_forward" as well as dots; normalise, keeping dots inside names. */
export function normalizeSysctlKey(key: string): string {
  const first = key.search(/[./]/);
  if (first === -1 || key[first] === ".") return key;
  return key.replace(/[./]/g, (c) => (c === "/" ? "." : "/"));
}

/**
 * The /proc/sys file a sysctl names, or undefined when it is not a name: an empty, "." or ".."
 * component would step elsewhere in /proc (e.g. "net.//.//.x" -> /proc/sys/net/../../x).
 */
export function sysctlPath(key: string): string | undefined {
  // In the normalized form dots separate components and a "/" is part of a name ("eno2/100").
  const components = normalizeSysctlKey(key)
    .split(".")
    .map((c) => c.replaceAll("/", "."));
  if (components.some((c) => c === "" || c === "." || c === ".." || c.includes("\0"))) return undefined;
  return `/proc/sys/${components.join("/")}`;
}

/**
 * The namespace that makes a sysctl (normalized) the container's own, or undefined for a
 * host-wide one. kernel.hostname is the UTS namespace's too, but has its own OCI field.
 */
export function sysctlNamespace(name: string): NamespaceType | undefined {
  if (IPC_NAMESPACED_SYSCTLS.has(name) || name.startsWith("fs.mqueue.")) return "ipc";
  if (name.startsWith("net.")) return "network";
  if (name === "kernel.domainname" || name === "kernel.hostname") return "uts";
  if (name.startsWith("user.")) return "user";
  return undefined;
}

/** What runc says of a sysctl whose namespace is the host's (its words for net and ipc). */
function inHostNamespace(name: string, ns: NamespaceType): string {
  const quoted = JSON.stringify(name);
  if (ns === "network") return `sysctl ${quoted} not allowed in host network namespace`;
  if (ns === "user") return `setting ucounts without a user namespace not allowed: ${name}`;
  return `sysctl ${quoted} is not allowed in the hosts ${ns} namespace`;
}

function checkSysctl(key: string, field: string, has: (t: NamespaceType) => boolean): void {
  if (sysctlPath(key) === undefined) fail(field, `${JSON.stringify(key)} is not a sysctl name`);
  const name = normalizeSysctlKey(key);
  const ns = sysctlNamespace(name);
  if (ns === "uts") {
    if (name === "kernel.hostname" && has("uts")) {
      fail(field, `sysctl ${JSON.stringify(name)} is not allowed as it conflicts with the OCI "hostname" field`);
    }
    if (name === "kernel.domainname" && has("uts")) return;
    // Without a UTS namespace, runc words it as for any host-wide sysctl.
    fail(field, `sysctl ${JSON.stringify(name)} is not in a separate kernel namespace`);
  }
  if (ns === undefined) fail(field, `sysctl ${JSON.stringify(name)} is not in a separate kernel namespace`);
  // A namespace joined by path may still be the host's: checkSysctlsNotOnHost looks, when the
  // plan is built (it needs the filesystem).
  if (!has(ns)) fail(field, inHostNamespace(name, ns));
}

/**
 * Refuses a sysctl whose namespace is joined by a path that is the runtime's own (the host's):
 * writing it would change the host. runc checks this for the network namespace only.
 */
export function checkSysctlsNotOnHost(
  spec: Spec,
  isHostNamespace: (type: NamespaceType, path: string) => boolean,
): void {
  const namespaces = spec.linux?.namespaces ?? [];
  for (const key of Object.keys(spec.linux?.sysctl ?? {})) {
    const name = normalizeSysctlKey(key);
    const ns = sysctlNamespace(name);
    const path = namespaces.find((n) => n.type === ns)?.path;
    if (ns !== undefined && path !== undefined && isHostNamespace(ns, path)) {
      fail(keyField("linux.sysctl", key), inHostNamespace(name, ns));
    }
  }
}

export function checkRules(spec: Spec): void {
  const linux = spec.linux ?? {};
  const namespaces = linux.namespaces ?? [];
  const has = (t: NamespaceType): boolean => namespaces.some((ns) => ns.type === t);
  const pathOf = (t: NamespaceType): string | undefined => namespaces.find((ns) => ns.type === t)?.path;

  if (spec.hostname && !has("uts")) fail("hostname", "unable to set hostname without a private UTS namespace");
  if (spec.domainname && !has("uts")) fail("domainname", "unable to set domainname without a private UTS namespace");

  const uidCount = linux.uidMappings?.length ?? 0;
  const gidCount = linux.gidMappings?.length ?? 0;
  if (has("user")) {
    if (pathOf("user") === undefined) {
      if (uidCount === 0 && gidCount === 0) {
        fail(
          "linux.uidMappings",
          "user namespaces enabled, but no namespace path to join nor mappings to apply specified",
        );
      }
      if (uidCount === 0) fail("linux.uidMappings", "is required with gidMappings for a new user namespace");
      if (gidCount === 0) fail("linux.gidMappings", "is required with uidMappings for a new user namespace");
    }
  } else if (uidCount > 0 || gidCount > 0) {
    fail(
      uidCount > 0 ? "linux.uidMappings" : "linux.gidMappings",
      "user namespace mappings specified, but user namespace isn't enabled in the config",
    );
  }

  if (linux.timeOffsets !== undefined && Object.keys(linux.timeOffsets).length > 0) {
    if (!has("time")) {
      fail("linux.timeOffsets", "time namespace offsets specified, but time namespace isn't enabled in the config");
    }
    if (pathOf("time") !== undefined) {
      fail("linux.timeOffsets", "time namespace enabled, but both namespace path and time offsets specified");
    }
  }

  if (!has("mount")) {
    if ((linux.maskedPaths?.length ?? 0) > 0) {
      fail("linux.maskedPaths", "unable to restrict sys entries without a private MNT namespace");
    }
    if ((linux.readonlyPaths?.length ?? 0) > 0) {
      fail("linux.readonlyPaths", "unable to restrict sys entries without a private MNT namespace");
    }
    // The container then runs in the runtime's (the host's) mount namespace, only chrooted into
    // its root. runc mounts these there and leaves them behind; berth-runc changes nothing there.
    const why = "without a private MNT namespace it would change the host's mounts";
    if ((spec.mounts?.length ?? 0) > 0) fail("mounts", `unable to mount: ${why}`);
    if (spec.root?.readonly) fail("root.readonly", `unable to make the root read-only: ${why}`);
    if (linux.rootfsPropagation !== undefined) fail("linux.rootfsPropagation", `unable to apply: ${why}`);
  }

  for (const key of Object.keys(linux.sysctl ?? {})) checkSysctl(key, keyField("linux.sysctl", key), has);

  (spec.mounts ?? []).forEach((m, i) => {
    const ext = parseMountOptions(m.options).extensions;
    const wantsIdmap = ext.includes("idmap") || ext.includes("ridmap");
    if (wantsIdmap && (m.uidMappings?.length ?? 0) === 0 && !has("user")) {
      // The runtime-spec allows borrowing the container's mappings, but only if it has some.
      fail(`mounts[${i}].options`, "id-mapped mount without uidMappings/gidMappings needs a user namespace");
    }
  });
}
