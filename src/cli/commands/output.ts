// What the list commands share: docker's --format handling through the format helper (the
// default table, "table ...", "json", a template a row), and --filter values as the API's filters.
import { UsageError } from "../errors.ts";
import { renderFormatted, type TableSpec } from "../format/table.ts";
import type { Io } from "./command.ts";

/** A list as docker prints it for `format` (undefined: the default table). */
export function printList(io: Io, format: string | undefined, rows: readonly unknown[], table: TableSpec): void {
  io.out.write(renderFormatted(format, rows, table));
}

/** --filter k=v (repeated) as the API's filters: {"k": {"v": true}}; undefined when none. */
/** Go's strings.TrimSpace: Unicode's White_Space at both ends (U+0085 yes, JS's U+FEFF no). */
export function goTrimSpace(s: string): string {
  return s.replace(GO_SPACE_START, "").replace(GO_SPACE_END, "");
}
const GO_SPACES = "\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const GO_SPACE_START = new RegExp(`^[${GO_SPACES}]+`);
const GO_SPACE_END = new RegExp(`[${GO_SPACES}]+$`);

export function filtersOf(values: readonly string[], command: string): string | undefined {
  if (values.length === 0) return undefined;
  const out: Record<string, Record<string, boolean>> = {};
  for (const v of values) {
    if (v === "") continue; // docker's FilterOpt ignores an empty filter
    const eq = v.indexOf("=");
    if (eq < 0) {
      throw new UsageError(
        `invalid argument ${JSON.stringify(v)} for "-f, --filter" flag: bad format of filter (expected name=value)\nSee 'berth ${command} --help'.`,
      );
    }
    // Both sides trimmed as Go's strings.TrimSpace trims, the name lowercased: docker's FilterOpt.
    const key = goTrimSpace(v.slice(0, eq)).toLowerCase();
    out[key] ??= {};
    (out[key] as Record<string, boolean>)[goTrimSpace(v.slice(eq + 1))] = true;
  }
  return Object.keys(out).length === 0 ? undefined : JSON.stringify(out);
}
