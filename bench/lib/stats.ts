// Small descriptive statistics for benchmark samples. Percentiles interpolate linearly between the
// two nearest ranks (the "type 7" definition most tools use by default), so p50 of an even-sized
// sample is the mean of the two middle values.

/** A sorted copy (ascending); the input is left untouched. */
export function sorted(samples: readonly number[]): number[] {
  return [...samples].sort((a, b) => a - b);
}

/** The p-th percentile (0 <= p <= 100) of the samples; NaN for an empty sample. */
export function percentile(samples: readonly number[], p: number): number {
  if (p < 0 || p > 100 || Number.isNaN(p)) throw new RangeError(`percentile: p must be in [0, 100], got ${p}`);
  if (samples.length === 0) return Number.NaN;
  const s = sorted(samples);
  const rank = (p / 100) * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = s[lo]!;
  const b = s[hi]!;
  return a + (b - a) * (rank - lo);
}

export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

export function mean(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN;
  let sum = 0;
  for (const x of samples) sum += x;
  return sum / samples.length;
}

/** Sample standard deviation (n - 1 in the denominator); NaN below two samples. */
export function stddev(samples: readonly number[]): number {
  if (samples.length < 2) return Number.NaN;
  const m = mean(samples);
  let sq = 0;
  for (const x of samples) sq += (x - m) ** 2;
  return Math.sqrt(sq / (samples.length - 1));
}

export interface Summary {
  n: number;
  min: number;
  max: number;
  mean: number;
  stddev: number;
  median: number;
  p90: number;
  p99: number;
}

export function summarize(samples: readonly number[]): Summary {
  const s = sorted(samples);
  return {
    n: s.length,
    min: s.length > 0 ? s[0]! : Number.NaN,
    max: s.length > 0 ? s[s.length - 1]! : Number.NaN,
    mean: mean(s),
    stddev: stddev(s),
    median: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
  };
}

/** Renders rows as a left-aligned first column and right-aligned others, for terminal tables. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}
