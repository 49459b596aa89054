// Docker's --format rules for lists (ps, images, ...): the default table, `table ...` custom
// tables whose header row is the same template run over docker's header names, `json` (a JSON
// object a line), or a template per row; laid out as Go's text/tabwriter does with the writer
// docker makes (min width 10, padding 3, spaces).
import { compileTemplate, HEADER_FUNCS, TemplateError } from "./template.ts";

export interface TableSpec {
  /** The default table's columns, in order (header text as docker prints it). */
  columns: { header: string; field: string /* template, e.g. "{{.ID}}" */ }[];
  /** Headers of fields a custom `table` format may name that the default table does not show. */
  extraHeaders?: Record<string, string>;
}

/**
 * Go's text/tabwriter over `text` (cells end with a tab; the last cell of a line is no column).
 * A column's width holds over each run of consecutive lines that have a cell in it: at least
 * `minWidth`, else its widest cell plus `padding`. Computed in one pass (runs of a column nest
 * inside the runs of the columns left of it), so a line of a million cells is no deep recursion.
 */
export function tabwrite(text: string, minWidth = 10, padding = 3): string {
  const lines = text.split("\n").map((l) => l.split("\t"));
  const width = (s: string) => [...s].length;
  const open: { max: number }[] = [];
  const runs = lines.map((cells) => {
    const columns = cells.length - 1;
    open.length = Math.min(open.length, columns);
    const mine: { max: number }[] = [];
    for (let j = 0; j < columns; j++) {
      const run = open[j] ?? { max: minWidth };
      open[j] = run;
      run.max = Math.max(run.max, width(cells[j]!) + padding);
      mine.push(run);
    }
    return mine;
  });
  return lines
    .map((cells, i) =>
      cells.map((c, j) => (j < cells.length - 1 ? c + " ".repeat(runs[i]![j]!.max - width(c)) : c)).join(""),
    )
    .join("\n");
}

/** docker's preFormat: `\t` and `\n` written out become tabs and newlines; outer spaces go. */
function finalFormat(format: string): string {
  return format.trim().replaceAll("\\t", "\t").replaceAll("\\n", "\n");
}

/** A template error, in the words docker's formatter uses for lists (exit 1). */
function listError(e: unknown): unknown {
  if (!(e instanceof TemplateError)) return e;
  return new TemplateError(e.phase, e.detail, `template parsing error: ${e.detail}`, 1);
}

/** The header names of a table's fields: the default columns' and the extra ones ({{.ID}} -> ID). */
function headerContext(table: TableSpec): Record<string, unknown> {
  const headers: Record<string, unknown> = {};
  for (const c of table.columns) {
    const m = /^\{\{\s*\.(\w+)\s*\}\}$/.exec(c.field);
    if (m) headers[m[1]!] = c.header;
  }
  Object.assign(headers, table.extraHeaders);
  // docker's SubHeaderContext.Label: the last dot-separated part of the label's name.
  headers["Label"] = (name: unknown) => String(name).split(".").pop()!.replace(/[-_]/g, " ");
  return headers;
}

/**
 * The rows as docker's --format shows them: undefined/"" or "table" -> the default table;
 * "table <template>" -> that table with a header row; "json" -> `{{json .}}` a line; anything
 * else -> the template once per row. The text ends with a newline after each line. Throws
 * TemplateError with docker's formatter words ("template parsing error: ...", exit 1).
 */
export function renderFormatted(format: string | undefined, rows: readonly unknown[], table: TableSpec): string {
  const f = format === undefined || format === "" ? "table" : format;
  const isTable = f.startsWith("table");
  let src: string;
  if (f === "table") src = table.columns.map((c) => c.field).join("\t");
  else if (isTable) src = finalFormat(f.slice("table".length));
  else if (f === "json") src = "{{json .}}";
  else src = finalFormat(f);
  let body = "";
  try {
    const row = compileTemplate(src);
    for (const r of rows) body += `${row(r)}\n`;
    if (!isTable) return body;
    const header = compileTemplate(src, { funcs: HEADER_FUNCS })(headerContext(table));
    return tabwrite(`${header}\n${body}`);
  } catch (e) {
    throw listError(e);
  }
}
