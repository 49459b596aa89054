// Command-line flags the way Go programs (runc, containerd, ctr) read them. runc parses with Go's flag package, so
// `-bundle x`, `--bundle x`, `--bundle=x` and `-b x` are all the same flag, booleans take no
// value (`-d`, `--detach=true`), and parsing stops at the first positional argument or `--`
// (`exec ID sh -c ...` passes `-c` to the command). No npm parser has exactly these rules.
import { InvalidArgumentError } from "./errors.ts";

export type FlagKind = "bool" | "string" | "strings" | "int";

export interface FlagSpec {
  kind: FlagKind;
  /** Other names: single letters or long aliases. */
  aliases?: readonly string[];
  usage: string;
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

export interface Parsed {
  values: Map<string, string | string[] | boolean | number>;
  positionals: string[];
}

export class UsageError extends InvalidArgumentError {}

export function parseFlags(argv: readonly string[], specs: FlagSpecs): Parsed {
  const byName = new Map<string, string>();
  for (const [name, s] of Object.entries(specs)) {
    byName.set(name, name);
    for (const a of s.aliases ?? []) byName.set(a, name);
  }
  const values = new Map<string, string | string[] | boolean | number>();
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      i++;
      break;
    }
    if (!arg.startsWith("-") || arg === "-") break;
    const body = arg.replace(/^--?/, "");
    const eq = body.indexOf("=");
    const key = eq >= 0 ? body.slice(0, eq) : body;
    const name = byName.get(key);
    if (name === undefined) throw new UsageError(`flag provided but not defined: -${key}`);
    const spec = specs[name]!;
    let value: string | undefined = eq >= 0 ? body.slice(eq + 1) : undefined;
    if (spec.kind === "bool") {
      if (value === undefined) values.set(name, true);
      else if (/^(1|t|true|TRUE|True)$/.test(value)) values.set(name, true);
      else if (/^(0|f|false|FALSE|False)$/.test(value)) values.set(name, false);
      else throw new UsageError(`invalid boolean value "${value}" for -${key}`);
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: -${key}`);
      value = argv[++i]!;
    }
    if (spec.kind === "int") {
      if (!/^-?\d+$/.test(value)) throw new UsageError(`invalid value "${value}" for flag -${key}: parse error`);
      values.set(name, Number(value));
    } else if (spec.kind === "strings") {
      const prev = values.get(name);
      values.set(name, [...(Array.isArray(prev) ? prev : []), value]);
    } else values.set(name, value);
  }
  return { values, positionals: argv.slice(i) };
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.values.get(name);
  return typeof v === "string" ? v : undefined;
}

export function bool(p: Parsed, name: string): boolean {
  return p.values.get(name) === true;
}

export function int(p: Parsed, name: string): number | undefined {
  const v = p.values.get(name);
  return typeof v === "number" ? v : undefined;
}

export function strs(p: Parsed, name: string): string[] {
  const v = p.values.get(name);
  return Array.isArray(v) ? v : [];
}

export function usageText(specs: FlagSpecs): string {
  return Object.entries(specs)
    .map(([name, s]) => {
      const names = [name, ...(s.aliases ?? [])].map((n) => (n.length === 1 ? `-${n}` : `--${n}`)).join(", ");
      return `   ${names.padEnd(28)} ${s.usage}`;
    })
    .join("\n");
}
