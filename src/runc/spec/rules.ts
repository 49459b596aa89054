// Rules that relate several fields of an already decoded spec: which settings need which
// namespaces. Messages follow runc's where it has one, so users searching them find answers.
import { fail, keyField } from "./decode.ts";
import { parseMountOptions } from "./mount-options.ts";
import type { NamespaceType, Spec } from "./types.ts";

// IPC-namespaced sysctls outside fs.mqueue.*.
const IPC_SYSCTLS = new Set([
  "kernel.msgmax",
  "kernel.msgmnb",
  "kernel.msgmni",
  "kernel.sem",
  "kernel.shmall",
  "kernel.shmmax",
  "kernel.shmmni",
  "kernel.shm_rmid_forced",
]);

/** sysctl accepts "net/ipv4/ip_forward" as well as dots; normalise, keeping dots inside names. */
export function normalizeSysctlKey(key: string): string {
  const first = key.search(/[./]/);
  if (first === -1 || key[first] === ".") return key;
  return key.replace(/[./]/g, (c) => (c === "/" ? "." : "/"));
}

function checkSysctl(key: string, field: string, has: (t: NamespaceType) => boolean): void {
  const name = normalizeSysctlKey(key);
  if (IPC_SYSCTLS.has(name) || name.startsWith("fs.mqueue.")) {
    if (!has("ipc")) fail(field, `sysctl ${JSON.stringify(name)} is not allowed in the hosts ipc namespace`);
    return;
  }
  if (name.startsWith("net.")) {
    // A netns joined by path could still be the host's; that needs the filesystem, so the
    // container builder checks it, not this pure validator.
    if (!has("network")) fail(field, `sysctl ${JSON.stringify(name)} not allowed in host network namespace`);
    return;
  }
  if (has("uts")) {
    if (name === "kernel.domainname") return;
    if (name === "kernel.hostname") {
      fail(field, `sysctl ${JSON.stringify(name)} is not allowed as it conflicts with the OCI "hostname" field`);
    }
  }
  if (name.startsWith("user.")) {
    if (!has("user")) fail(field, `setting ucounts without a user namespace not allowed: ${name}`);
    return;
  }
  fail(field, `sysctl ${JSON.stringify(name)} is not in a separate kernel namespace`);
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
