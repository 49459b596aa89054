// The value types of docker's run flags, read as the docker CLI reads them and refused in its
// words: sizes (go-units' RAMInBytes: 64m, 1.5g, 512KiB), Go durations (5s, 1m30s, 250ms) and
// --cpus (a rational number of CPUs, kept as nano-CPUs). Each returns the value or the problem.

import { goQuote } from "../flags/go-quote.ts";

export type Read<T> = { value: T } | { problem: string };

const BINARY: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** A size in bytes: a decimal number, then optionally k/m/g/t/p (binary), with b or ib after it. */
export function parseBytes(s: string): Read<number> {
  const sep = Math.max(...[..."0123456789. "].map((c) => s.lastIndexOf(c)));
  if (sep === -1) return { problem: `invalid size: '${s}'` };
  const num = s[sep] === " " ? s.slice(0, sep) : s.slice(0, sep + 1);
  let sfx = s.slice(sep + 1);
  const size = parseGoFloat(num);
  if (size === undefined) return { problem: `strconv.ParseFloat: parsing "${num}": invalid syntax` };
  if (size < 0) return { problem: `invalid size: '${s}'` };
  if (sfx === "") return { value: Math.trunc(size) };
  const badSuffix = { problem: `invalid suffix: '${sfx.length > 3 ? sfx : sfx.toLowerCase()}'` };
  if (sfx.length > 3) return badSuffix;
  sfx = sfx.toLowerCase();
  if (sfx[0] === "b") return sfx.length > 1 ? badSuffix : { value: Math.trunc(size) };
  const mul = BINARY[sfx[0]!];
  if (mul === undefined) return badSuffix;
  if ((sfx.length === 2 && sfx[1] !== "b") || (sfx.length === 3 && sfx.slice(1) !== "ib")) return badSuffix;
  return { value: Math.trunc(size * mul) };
}

/** strconv.ParseFloat's decimal forms (what a size's number can be); undefined when it is not one. */
function parseGoFloat(s: string): number | undefined {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return undefined;
  return Number(s);
}

const NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, μs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration, in nanoseconds: "1h30m", "1.5s", "-2ms", "0". */
export function parseDuration(s: string): Read<number> {
  const invalid = { problem: `time: invalid duration ${goQuote(s)}` };
  let rest = s;
  let sign = 1;
  if (rest[0] === "-" || rest[0] === "+") {
    if (rest[0] === "-") sign = -1;
    rest = rest.slice(1);
  }
  if (rest === "0") return { value: 0 };
  if (rest === "") return invalid;
  let total = 0;
  while (rest !== "") {
    const m = /^(\d*)(\.(\d*))?/.exec(rest)!;
    if (m[1] === "" && (m[3] ?? "") === "") return invalid;
    rest = rest.slice(m[0].length);
    const unit = /^[^\d.]+/.exec(rest)?.[0];
    if (unit === undefined) return { problem: `time: missing unit in duration ${goQuote(s)}` };
    const mul = NS[unit];
    if (mul === undefined) return { problem: `time: unknown unit ${goQuote(unit)} in duration ${goQuote(s)}` };
    rest = rest.slice(unit.length);
    total += Number(`${m[1] || "0"}.${m[3] || "0"}`) * mul;
  }
  if (total > 2 ** 63 - 1) return invalid;
  return { value: sign * Math.round(total) };
}

/** --cpus: big.Rat's forms (1.5, 3/2, 1e-3) times 1e9, which must come out whole. */
export function parseNanoCpus(s: string): Read<number> {
  const rational = parseRational(s);
  if (rational === undefined) return { problem: `failed to parse ${s} as a rational number` };
  const [num, den] = rational;
  const nano = num * 1_000_000_000n;
  if (nano % den !== 0n) return { problem: "value is too precise" };
  return { value: Number(nano / den) };
}

/** A rational as [numerator, denominator > 0], or undefined. */
function parseRational(s: string): [bigint, bigint] | undefined {
  const frac = /^([+-]?\d+)\/(\d+)$/.exec(s);
  if (frac !== null) {
    const den = BigInt(frac[2]!);
    return den === 0n ? undefined : [BigInt(frac[1]!), den];
  }
  const dec = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,4}))?$/.exec(s);
  if (dec === null || `${dec[2]}${dec[3] ?? ""}` === "") return undefined;
  const digits = BigInt(`${dec[2]}${dec[3] ?? ""}` || "0");
  const exp = Number(dec[4] ?? "0") - (dec[3] ?? "").length;
  const sign = dec[1] === "-" ? -1n : 1n;
  return exp >= 0 ? [sign * digits * 10n ** BigInt(exp), 1n] : [sign * digits, 10n ** BigInt(-exp)];
}
