// Command-line flags the way the docker CLI reads them (Go's pflag under cobra): `--long value`,
// `--long=value`, `-s value`, `-svalue`, `-s=value`, grouped shorthands (`-itd`), booleans that take
// a value only after '=', repeatable lists, `--` ends the flags. A command either takes flags
// anywhere (interspersed: `ps -a x -q`) or stops at its first positional (run/exec/create:
// `run busybox ls -l` leaves `-l` to ls). Errors are pflag's words, which docker prints.
import { UsageError } from "../errors.ts";
import { goQuote } from "./go-quote.ts";

export { type HelpOptions, renderHelp } from "./help.ts";

export type FlagKind = "bool" | "string" | "strings" /* repeatable */ | "int" | "map" /* repeatable k=v */;

export interface FlagDef {
  long: string;
  short?: string;
  kind: FlagKind;
  help: string;
  /** The value before any flag is given; shown in --help as "(default X)" unless it is the kind's zero. */
  default?: string | boolean | number;
  hidden?: boolean;
  /** The value's word in --help ("list", "bytes", "duration", "ulimit"); the kind's own word when absent. */
  type?: string;
  /** Checks one value as it is given (pflag's Value.Set): the problem in docker's words, or undefined. */
  check?: (value: string) => string | undefined;
  /** Another flag's long name whose value this one fills (pflag: two flags on one Var, --net and --network). */
  into?: string;
  /** docker's "version" annotation: the lowest API version that has it (hidden in --help below it, refused when given; gate.ts). */
  minApi?: string;
  /** docker's "ostype" annotation: the one daemon OS it is for ("windows"). */
  osType?: string;
  /** docker's "experimental" annotation: only for a daemon with experimental features on. */
  experimental?: boolean;
}

export type FlagValue = boolean | string | string[] | number;

export interface Parsed {
  /** Every flag given, by long name, and every flag with a default; repeatable kinds hold string[]. */
  flags: Map<string, FlagValue>;
  args: string[];
  /** The long names given on the command line (pflag's Changed): a default and an explicit value differ. */
  set: ReadonlySet<string>;
}

export interface ParseOptions {
  /** false: flags end at the first positional argument (run, create, exec). */
  interspersed: boolean;
  /** The command's words after "berth", for the hint: "run", "container ls". */
  command: string;
}

/** Bounds on what one command line may hold: far past any real use, short of exhausting memory. */
export const MAX_ARG_BYTES = 128 * 1024;
export const MAX_ARGS = 4096;

const TRUE_WORDS = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const FALSE_WORDS = new Set(["0", "f", "F", "FALSE", "false", "False"]);

/** strconv.ParseBool, which pflag's booleans and docker's --mount fields use; undefined when not a bool. */
export function parseGoBool(value: string): boolean | undefined {
  return TRUE_WORDS.has(value) ? true : FALSE_WORDS.has(value) ? false : undefined;
}

/** The help flag cobra adds to every command (`-h` only when the command leaves it free). */
function withHelp(defs: readonly FlagDef[]): readonly FlagDef[] {
  if (defs.some((d) => d.long === "help")) return defs;
  const shortFree = !defs.some((d) => d.short === "h");
  return [
    ...defs,
    { long: "help", ...(shortFree ? { short: "h" } : {}), kind: "bool", help: "Print usage", hidden: true },
  ];
}

export function parseFlags(argv: readonly string[], defs: readonly FlagDef[], opts: ParseOptions): Parsed {
  const fail = (line: string): UsageError => new UsageError(`${line}\nSee 'berth ${opts.command} --help'.`);
  checkBounds(argv, fail);
  const all = withHelp(defs);
  const byLong = new Map(all.map((d) => [d.long, d]));
  const byShort = new Map(all.filter((d) => d.short !== undefined).map((d) => [d.short!, d]));
  const flags = new Map<string, FlagValue>();
  for (const d of all) {
    if (d.default !== undefined && d.kind !== "strings" && d.kind !== "map") flags.set(d.long, d.default);
  }
  const set = new Set<string>();
  const assign = (d: FlagDef, value: string): void => {
    const parsed = typedValue(d, value);
    if (typeof parsed === "object") {
      throw fail(`invalid argument ${goQuote(value)} for ${goQuote(flagLabel(d))} flag: ${parsed.problem}`);
    }
    const key = d.into ?? d.long;
    if (d.kind === "strings" || d.kind === "map") {
      const prev = set.has(key) ? flags.get(key) : undefined;
      flags.set(key, [...(Array.isArray(prev) ? prev : []), value]);
    } else flags.set(key, parsed);
    set.add(key);
  };

  const args: string[] = [];
  let rest = [...argv];
  while (rest.length > 0) {
    const s = rest.shift()!;
    if (s.length < 2 || s[0] !== "-") {
      args.push(s);
      if (!opts.interspersed) {
        args.push(...rest);
        break;
      }
      continue;
    }
    if (s === "--") {
      args.push(...rest);
      break;
    }
    if (s[1] === "-") {
      rest = longArg(s, rest, byLong, assign, fail);
      continue;
    }
    let shorts = s.slice(1);
    while (shorts.length > 0) [shorts, rest] = shortArg(shorts, rest, byShort, assign, fail);
  }
  return { flags, args, set };
}

function checkBounds(argv: readonly string[], fail: (line: string) => UsageError): void {
  if (argv.length > MAX_ARGS) throw fail(`too many arguments: ${argv.length} (berth takes at most ${MAX_ARGS})`);
  argv.forEach((a, i) => {
    const bytes = Buffer.byteLength(a);
    if (bytes > MAX_ARG_BYTES) {
      throw fail(
        `argument ${i + 1} is too long: ${bytes} bytes (berth takes at most ${MAX_ARG_BYTES} in one argument)`,
      );
    }
  });
}

type Assign = (d: FlagDef, value: string) => void;

function longArg(
  s: string,
  rest: string[],
  byLong: ReadonlyMap<string, FlagDef>,
  assign: Assign,
  fail: (line: string) => UsageError,
): string[] {
  const body = s.slice(2);
  if (body[0] === "-" || body[0] === "=") throw fail(`bad flag syntax: ${s}`);
  const eq = body.indexOf("=");
  const name = eq >= 0 ? body.slice(0, eq) : body;
  const d = byLong.get(name);
  if (d === undefined) throw fail(`unknown flag: --${name}`);
  if (eq >= 0) assign(d, body.slice(eq + 1));
  else if (d.kind === "bool") assign(d, "true");
  else if (rest.length > 0) {
    assign(d, rest[0]!);
    return rest.slice(1);
  } else throw fail(`flag needs an argument: ${s}`);
  return rest;
}

/** One shorthand off the front of a group: what is left of the group and of the arguments. */
function shortArg(
  shorts: string,
  rest: string[],
  byShort: ReadonlyMap<string, FlagDef>,
  assign: Assign,
  fail: (line: string) => UsageError,
): [string, string[]] {
  const c = shorts[0]!;
  const d = byShort.get(c);
  if (d === undefined) throw fail(`unknown shorthand flag: ${goChar(c)} in -${shorts}`);
  if (shorts.length > 2 && shorts[1] === "=") {
    assign(d, shorts.slice(2));
    return ["", rest];
  }
  if (d.kind === "bool") {
    assign(d, "true");
    return [shorts.slice(1), rest];
  }
  if (shorts.length > 1) {
    assign(d, shorts.slice(1));
    return ["", rest];
  }
  if (rest.length > 0) {
    assign(d, rest[0]!);
    return ["", rest.slice(1)];
  }
  throw fail(`flag needs an argument: ${goChar(c)} in -${shorts}`);
}

/** "-n, --last" or "--cpus": how pflag names a flag in its value errors. */
function flagLabel(d: FlagDef): string {
  return d.short !== undefined ? `-${d.short}, --${d.long}` : `--${d.long}`;
}

/** Go's %q of one byte: 'z'. */
function goChar(c: string): string {
  const q = goQuote(c);
  return `'${q.slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`;
}

function typedValue(d: FlagDef, value: string): boolean | string | number | { problem: string } {
  let parsed: boolean | string | number = value;
  if (d.kind === "bool") {
    const b = parseGoBool(value);
    if (b === undefined) return { problem: `strconv.ParseBool: parsing ${goQuote(value)}: invalid syntax` };
    parsed = b;
  } else if (d.kind === "int") {
    const n = parseGoInt(value);
    if (typeof n === "string") return { problem: `strconv.ParseInt: parsing ${goQuote(value)}: ${n}` };
    parsed = n;
  }
  const problem = d.check?.(value);
  return problem === undefined ? parsed : { problem };
}

const INT64_MAX = 2n ** 63n - 1n;

/** strconv.ParseInt(s, 0, 64): sign, 0x/0o/0b/leading-0 prefixes, '_' between digits (Go's literals: 1_000, 0x_1f). */
export function parseGoInt(s: string): number | "invalid syntax" | "value out of range" {
  const m = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9_]*)$/.exec(s);
  if (m === null) return "invalid syntax";
  let digits = m[2]!;
  if (digits.includes("_")) {
    // Go's underscoreOK: a '_' follows a digit or the base prefix and a digit follows it.
    if (/__|_$/.test(digits)) return "invalid syntax";
    digits = digits.replace(/_/g, "");
  }
  let body: string;
  if (/^0[xX]/.test(digits)) body = `0x${digits.slice(2)}`;
  else if (/^0[oO]/.test(digits)) body = `0o${digits.slice(2)}`;
  else if (/^0[bB]/.test(digits)) body = `0b${digits.slice(2)}`;
  else if (digits.length > 1 && digits[0] === "0") body = `0o${digits.slice(1)}`;
  else body = digits;
  if (body.length === 2 && /^0[xob]$/.test(body)) return "invalid syntax";
  let n = BigInt(body);
  if (m[1] === "-") n = -n;
  if (n > INT64_MAX || n < -INT64_MAX - 1n) return "value out of range";
  return Number(n);
}
