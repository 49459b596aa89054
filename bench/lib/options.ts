// Command-line flags of the benches: `--flag value` or `--flag=value`, integers checked against a
// minimum, anything else handed to the bench's own usage() (which exits).

/** Calls `on` for each argument; `value()` takes the flag's value: the inline one, else the next argument. */
export function eachFlag(
  argv: readonly string[],
  on: (flag: string, value: () => string | undefined, arg: string) => void,
): void {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf("=");
    const [flag, inline] = a.startsWith("--") && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    on(flag, () => inline ?? argv[++i], a);
  }
}

/** `v` as an integer of at least `min`; else `usage` says which flag needs what (and exits). */
export function intFlag(usage: (msg: string) => never, flag: string, v: string | undefined, min: number): number {
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n) || n < min) usage(`${flag} needs an integer >= ${min}`);
  return n;
}

/** A bench's usage(): prints `msg` (if any) and the synopsis, then exits 2. */
export function usageOf(bench: string, synopsis: string): (msg?: string) => never {
  return (msg) => {
    if (msg) console.error(`${bench}: ${msg}`);
    console.error(`usage: node bench/${bench}.ts ${synopsis}`);
    process.exit(2);
  };
}
