// -p/--publish and --expose read as the docker CLI reads them (go-connections' ParsePortSpec):
// [ip:][hostPort:]containerPort[/proto], ranges on either side, IPv6 in brackets. Each spec gives
// one or more (port, binding) pairs; errors are docker 28's words.
import { isIP } from "node:net";

export interface PortMapping {
  /** "80/tcp" */
  port: string;
  hostIp: string;
  hostPort: string;
}

/** [start, end] of "80" or "8000-8010", or undefined when it is not one (16-bit unsigned, start <= end). */
function portRange(s: string): [number, number] | undefined {
  const one = (p: string): number | undefined => (/^\d{1,5}$/.test(p) && Number(p) <= 65535 ? Number(p) : undefined);
  if (!s.includes("-")) {
    const p = one(s);
    return p === undefined ? undefined : [p, p];
  }
  const [a = "", b = ""] = s.split("-");
  const start = one(a);
  const end = one(b);
  if (start === undefined || end === undefined || end < start) return undefined;
  return [start, end];
}

function splitParts(raw: string): [string, string, string] {
  const parts = raw.split(":");
  const n = parts.length;
  const container = parts[n - 1]!;
  if (n === 1) return ["", "", container];
  if (n === 2) return ["", parts[0]!, container];
  return [parts.slice(0, n - 2).join(":"), parts[n - 2]!, container];
}

function splitProto(raw: string): [string, string] {
  const parts = raw.split("/");
  if (raw === "" || parts[0] === "") return ["", ""];
  if (parts.length === 1 || parts[1] === "") return ["tcp", parts[0]!];
  return [parts[1]!, parts[0]!];
}

export function parsePortSpec(raw: string): PortMapping[] | { problem: string } {
  let [ip, hostPort, containerPart] = splitParts(raw);
  const [protoRaw, containerPort] = splitProto(containerPart);
  if (ip.startsWith("[")) {
    if (!ip.endsWith("]")) return { problem: `invalid IP address ${ip}: address ${ip}: missing ']' in address` };
    ip = ip.slice(1, -1);
  }
  if (ip !== "" && isIP(ip) === 0) return { problem: `invalid IP address: ${ip}` };
  if (containerPort === "") return { problem: `no port specified: ${raw}<empty>` };
  const c = portRange(containerPort);
  if (c === undefined) return { problem: `invalid containerPort: ${containerPort}` };
  let h: [number, number] = [0, 0];
  if (hostPort !== "") {
    const r = portRange(hostPort);
    if (r === undefined) return { problem: `invalid hostPort: ${hostPort}` };
    h = r;
  }
  if (hostPort !== "" && c[1] - c[0] !== h[1] - h[0] && c[1] !== c[0]) {
    return { problem: `invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}` };
  }
  const proto = protoRaw.toLowerCase();
  if (proto !== "tcp" && proto !== "udp" && proto !== "sctp") return { problem: `invalid proto: ${proto}` };
  const out: PortMapping[] = [];
  for (let i = 0; i <= c[1] - c[0]; i++) {
    let hp = hostPort === "" ? "" : String(h[0] + i);
    // One container port and a host range: the range is where the daemon picks the host port.
    if (c[0] === c[1] && h[0] !== h[1]) hp = `${hp}-${h[1]}`;
    out.push({ port: `${c[0] + i}/${proto}`, hostIp: ip, hostPort: hp });
  }
  return out;
}

/** --expose 80, 80/udp, 8000-8010: the ports only. */
export function parseExpose(raw: string): string[] | { problem: string } {
  const [proto, port] = splitProto(raw);
  const r = portRange(port);
  if (r === undefined) return { problem: `invalid range format for --expose: ${raw}, error: invalid port ${port}` };
  const out: string[] = [];
  for (let p = r[0]; p <= r[1]; p++) out.push(`${p}/${proto}`);
  return out;
}
