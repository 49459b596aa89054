// Value checks of run/create flags that docker makes as each flag is read (its flag types' Set):
// a bad value fails the parse with 'invalid argument "v" for "--flag" flag: <problem>', exit 125.
import { isIP } from "node:net";
import { IPC_NAMESPACED_SYSCTLS, RLIMIT_NAMES } from "../../common/linux-names.ts";
import { goQuote } from "../flags/go-quote.ts";
import { parseGoInt } from "../flags/parse.ts";
import { parseBytes, parseDuration, parseNanoCpus, type Read } from "./units.ts";

const problemOf = <T>(r: Read<T>): string | undefined => ("problem" in r ? r.problem : undefined);

export const checkBytes = (v: string): string | undefined => problemOf(parseBytes(v));
export const checkSwap = (v: string): string | undefined => (v === "-1" ? undefined : checkBytes(v));
export const checkDuration = (v: string): string | undefined => problemOf(parseDuration(v));
export const checkCpus = (v: string): string | undefined => problemOf(parseNanoCpus(v));

const UINT64_MAX = 2n ** 64n - 1n;

/** strconv.ParseUint(v, 0, 64), as pflag's uint64 flag reads it (--io-maxiops): Go's prefixes and '_', no sign. */
export function parseGoUint64(v: string): bigint | "invalid syntax" | "value out of range" {
  if (v.startsWith("+") || v.startsWith("-")) return "invalid syntax";
  // parseGoInt knows Go's literal syntax; its int64 range is not ParseUint's, so the value is read here.
  if (parseGoInt(v) === "invalid syntax") return "invalid syntax";
  const digits = v.replace(/_/g, "");
  const literal = /^0[0-7]+$/.test(digits)
    ? `0o${digits.slice(1)}`
    : digits.replace(/^0([XOB])/, (_, c: string) => `0${c.toLowerCase()}`);
  const n = BigInt(literal);
  return n > UINT64_MAX ? "value out of range" : n;
}

export function checkUint64(v: string): string | undefined {
  const n = parseGoUint64(v);
  return typeof n === "string" ? `strconv.ParseUint: parsing ${goQuote(v)}: ${n}` : undefined;
}

/** Go's net.ParseMAC: 6, 8 or 20 octets as xx:xx.., xx-xx.. or xxxx.xxxx..; docker sends the value as written. */
export function isMacAddress(v: string): boolean {
  const octets = (n: number) => n === 6 || n === 8 || n === 20;
  if (v.length < 14) return false;
  const sep = v[2];
  if (sep === ":" || sep === "-") {
    if ((v.length + 1) % 3 !== 0 || !octets((v.length + 1) / 3)) return false;
    for (let x = 0; x < v.length; x += 3) {
      if (!/^[0-9a-fA-F]{2}$/.test(v.slice(x, x + 2))) return false;
      if (x + 2 < v.length && v[x + 2] !== sep) return false;
    }
    return true;
  }
  if (v[4] === ".") {
    if ((v.length + 1) % 5 !== 0 || !octets((2 * (v.length + 1)) / 5)) return false;
    for (let x = 0; x < v.length; x += 5) {
      if (!/^[0-9a-fA-F]{4}$/.test(v.slice(x, x + 4))) return false;
      if (x + 4 < v.length && v[x + 4] !== ".") return false;
    }
    return true;
  }
  return false;
}

export function checkEnv(v: string): string | undefined {
  return v.split("=")[0] === "" ? `invalid environment variable: ${v}` : undefined;
}

export function checkLabel(v: string): string | undefined {
  return v.split("=")[0]!.trim() === "" ? `invalid label '${v}': empty name` : undefined;
}

/** The IP address docker accepts for --dns (net.ParseIP): canonical form, or undefined. */
export function ipAddress(v: string): string | undefined {
  const s = v.trim();
  return isIP(s) === 0 ? undefined : s;
}

export function checkDns(v: string): string | undefined {
  return ipAddress(v) === undefined ? `IP address is not correctly formatted: ${v}` : undefined;
}

/** --add-host name:ip or name=ip (ip in brackets allowed, or host-gateway) → "name:ip", or the problem. */
export function extraHost(v: string): { value: string } | { problem: string } {
  let cut = v.indexOf("=");
  if (cut < 0) cut = v.indexOf(":");
  const k = cut < 0 ? "" : v.slice(0, cut);
  let ip = cut < 0 ? "" : v.slice(cut + 1);
  if (cut < 0 || k === "" || k.includes(":")) return { problem: `bad format for add-host: ${goQuote(v)}` };
  if (ip !== "host-gateway") {
    if (ip.length > 2 && ip.startsWith("[") && ip.endsWith("]")) ip = ip.slice(1, -1);
    if (isIP(ip) === 0) return { problem: `invalid IP address in add-host: ${goQuote(ip)}` };
  }
  return { value: `${k}:${ip}` };
}

export const checkAddHost = (v: string): string | undefined => problemOf(extraHost(v));

/** The namespaced sysctls docker lets a container set (the rest are the host's). */
export function checkSysctl(v: string): string | undefined {
  const eq = v.indexOf("=");
  const k = eq < 0 ? "" : v.slice(0, eq);
  const allowed = IPC_NAMESPACED_SYSCTLS.has(k) || k.startsWith("fs.mqueue.") || k.startsWith("net.");
  return eq > 0 && allowed ? undefined : `sysctl '${v}' is not allowed`;
}

export interface Ulimit {
  Name: string;
  Hard: number;
  Soft: number;
}

/** strconv.ParseInt(s, 10, 64) with its error words. */
function decimalInt(s: string): { value: number } | { problem: string } {
  if (!/^[+-]?\d+$/.test(s)) return { problem: `strconv.ParseInt: parsing ${goQuote(s)}: invalid syntax` };
  const n = parseGoInt(s.replace(/^([+-]?)0+(?=\d)/, "$1"));
  return typeof n === "number" ? { value: n } : { problem: `strconv.ParseInt: parsing ${goQuote(s)}: ${n}` };
}

/** --ulimit name=soft[:hard]. */
export function parseUlimit(v: string): { value: Ulimit } | { problem: string } {
  const eq = v.indexOf("=");
  if (eq < 0) return { problem: `invalid ulimit argument: ${v}` };
  const name = v.slice(0, eq);
  if (!RLIMIT_NAMES.has(name)) return { problem: `invalid ulimit type: ${name}` };
  const parts = v.slice(eq + 1).split(":");
  if (parts.length > 2) {
    return {
      problem: `too many limit value arguments - [${parts.join(" ")}], can only have up to two, \`soft[:hard]\``,
    };
  }
  let hard: number | undefined;
  if (parts.length === 2) {
    const h = decimalInt(parts[1]!);
    if ("problem" in h) return h;
    hard = h.value;
  }
  const s = decimalInt(parts[0]!);
  if ("problem" in s) return s;
  const soft = s.value;
  hard ??= soft;
  if (hard !== -1 && soft > hard)
    return { problem: `ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}` };
  return { value: { Name: name, Hard: hard, Soft: soft } };
}

export const checkUlimit = (v: string): string | undefined => {
  const r = parseUlimit(v);
  return "problem" in r ? r.problem : undefined;
};
