// berth port CONTAINER [PRIVATE_PORT[/PROTO]]: the published ports from the container's inspect.
import { CliError } from "../errors.ts";
import { goQuote } from "../flags/go-quote.ts";
import type { Command } from "./command.ts";

type Bindings = Record<string, { HostIp?: string; HostPort?: string }[] | null>;

function hostPort(b: { HostIp?: string; HostPort?: string }): string {
  const ip = b.HostIp ?? "";
  return `${ip.includes(":") ? `[${ip}]` : ip}:${b.HostPort ?? ""}`;
}

/** Why the port number of PRIVATE_PORT is not one, in strconv.ParseUint(port, 10, 16)'s words, or undefined. */
export function badPort(port: string): string | undefined {
  if (!/^[0-9]+$/.test(port)) return `strconv.ParseUint: parsing ${goQuote(port)}: invalid syntax`;
  if (Number(port) > 65535) return `strconv.ParseUint: parsing ${goQuote(port)}: value out of range`;
  return undefined;
}

/** "80/tcp" before "443/tcp" before "53/udp": docker sorts by port number, then protocol. */
function byPort(a: string, b: string): number {
  const [pa, ta] = a.split("/");
  const [pb, tb] = b.split("/");
  return Number(pa) - Number(pb) || (ta ?? "").localeCompare(tb ?? "");
}

const command: Command = {
  usage: "port CONTAINER [PRIVATE_PORT[/PROTO]]",
  summary: "List port mappings or a specific mapping for the container",
  aliases: "berth container port, berth port",
  flags: [],
  args: { min: 1, max: 2, range: true },
  async run(io, p) {
    const [name, wanted] = p.args as [string, string | undefined];
    const c = await io
      .client()
      .json<{ NetworkSettings?: { Ports?: Bindings | null } }>("GET", `/containers/${encodeURIComponent(name)}/json`);
    const ports = c?.NetworkSettings?.Ports ?? {};
    if (wanted !== undefined) {
      // As docker 28: the number checked after the inspect, the port named as the user wrote it.
      const slash = wanted.indexOf("/");
      const port = slash < 0 ? wanted : wanted.slice(0, slash);
      const proto = slash < 0 || slash === wanted.length - 1 ? "tcp" : wanted.slice(slash + 1);
      const bad = badPort(port);
      if (bad) throw new CliError(`Error: invalid port (${port}): ${bad}`);
      const bindings = ports[`${port}/${proto}`];
      if (!bindings || bindings.length === 0)
        throw new CliError(`Error: No public port '${wanted}' published for ${name}`);
      for (const b of bindings) io.out.write(`${hostPort(b)}\n`);
      return;
    }
    for (const key of Object.keys(ports).sort(byPort)) {
      for (const b of ports[key] ?? []) io.out.write(`${key} -> ${hostPort(b)}\n`);
    }
  },
};
export default command;
