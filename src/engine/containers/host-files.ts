// The files berthd writes for a container and binds into it, as dockerd does: /etc/hostname,
// /etc/hosts and /etc/resolv.conf, kept in the container's directory. Contents are pure
// functions; the host's resolv.conf is read bounded.
import { join } from "node:path";
import { writeFileAtomic } from "../../common/atomic-write.ts";
import type { Mount } from "../../runc/config/types.ts";
import type { HostConfig } from "./spec/types.ts";
import { readBounded } from "./store.ts";

const DEFAULT_HOSTS = [
  "127.0.0.1\tlocalhost",
  "::1\tlocalhost ip6-localhost ip6-loopback",
  "fe00::0\tip6-localnet",
  "ff00::0\tip6-mcastprefix",
  "ff02::1\tip6-allnodes",
  "ff02::2\tip6-allrouters",
];

/** Google's resolvers: dockerd's fallback when the host's are all on loopback. */
const FALLBACK_NAMESERVERS = ["8.8.8.8", "8.8.4.4"];

export function hostsFile(h: HostConfig, hostResolvable: string): string {
  if (h.NetworkMode === "host") return hostResolvable;
  return `${[...DEFAULT_HOSTS, ...h.ExtraHosts.map((e) => e.replace(/:/, "\t"))].join("\n")}\n`;
}

/**
 * resolv.conf for the container: the host's, except that with a network namespace of its own
 * the host's loopback resolvers cannot be reached (dockerd drops them, and falls back to public
 * ones when none is left); HostConfig.Dns, DnsSearch and DnsOptions replace the host's lines.
 */
export function resolvConf(host: string, h: HostConfig): string {
  const lines = host.split("\n").filter((l) => l.trim() !== "" && !l.trimStart().startsWith("#"));
  const own = h.NetworkMode !== "host";
  let servers = lines.filter((l) => /^\s*nameserver\s/.test(l)).map((l) => l.trim().split(/\s+/)[1] ?? "");
  if (own) servers = servers.filter((s) => !/^127\./.test(s) && s !== "::1");
  if (h.Dns.length > 0) servers = [...h.Dns];
  if (servers.length === 0) servers = FALLBACK_NAMESERVERS;
  const search =
    h.DnsSearch.length > 0 ? [`search ${h.DnsSearch.join(" ")}`] : lines.filter((l) => /^\s*(search|domain)\s/.test(l));
  const options =
    h.DnsOptions.length > 0 ? [`options ${h.DnsOptions.join(" ")}`] : lines.filter((l) => /^\s*options\s/.test(l));
  return `${[...search, ...servers.map((s) => `nameserver ${s}`), ...options].join("\n")}\n`;
}

export interface HostFilePaths {
  hostname: string;
  hosts: string;
  resolvConf: string;
}

/** Writes the three files into `dir`; their paths. */
export function writeHostFiles(dir: string, hostname: string, h: HostConfig): HostFilePaths {
  const read = (p: string) => {
    try {
      return readBounded(p, 64 * 1024);
    } catch {
      return "";
    }
  };
  const paths = { hostname: join(dir, "hostname"), hosts: join(dir, "hosts"), resolvConf: join(dir, "resolv.conf") };
  writeFileAtomic(paths.hostname, `${hostname}\n`, { mode: 0o644, durable: false });
  writeFileAtomic(paths.hosts, hostsFile(h, read("/etc/hosts")), { mode: 0o644, durable: false });
  writeFileAtomic(paths.resolvConf, resolvConf(read("/etc/resolv.conf"), h), { mode: 0o644, durable: false });
  return paths;
}

/** The binds of those files, in dockerd's options. */
export function hostFileMounts(p: HostFilePaths): Mount[] {
  const bind = (destination: string, source: string): Mount => ({
    destination,
    type: "bind",
    source,
    options: ["rbind", "rprivate"],
  });
  return [bind("/etc/resolv.conf", p.resolvConf), bind("/etc/hostname", p.hostname), bind("/etc/hosts", p.hosts)];
}
