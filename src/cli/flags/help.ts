// `--help` laid out as the docker CLI 28 lays it out (cobra's template, pflag's FlagUsagesWrapped):
// the usage line, the summary, the aliases, then one line per visible flag — shorthand, long name
// and type aligned in a column, the help text wrapped beside it to the width (79 columns when
// stdin is not a terminal, as docker does).
import { goQuote } from "./go-quote.ts";
import type { FlagDef } from "./parse.ts";

export interface HelpOptions {
  /** "docker container ls, docker container list, docker ps" — printed under "Aliases:". */
  aliases?: string;
  /** The line width; docker uses the terminal's columns minus one, or 79. */
  width?: number;
}

export function renderHelp(usage: string, summary: string, defs: readonly FlagDef[], opts: HelpOptions = {}): string {
  let out = `Usage:  ${usage}\n\n${summary.trim()}\n`;
  if (opts.aliases !== undefined) out += `\nAliases:\n  ${opts.aliases}\n`;
  const options = renderFlagUsages(defs, opts.width ?? 79);
  if (options !== "") out += `\nOptions:\n${options}`;
  return out;
}

/** The word after the flag's name: its type, or nothing for a boolean. */
function typeWord(d: FlagDef): string {
  if (d.type !== undefined) return d.type;
  switch (d.kind) {
    case "bool":
      return "";
    case "strings":
      return "list";
    default:
      return d.kind;
  }
}

/** " (default X)" unless the default is the kind's zero; strings quoted, as pflag does. */
function defaultNote(d: FlagDef): string {
  const v = d.default;
  if (v === undefined || v === false || v === "" || v === 0) return "";
  if (typeof v === "string" && typeWord(d) === "string") return ` (default ${goQuote(v)})`;
  return ` (default ${String(v)})`;
}

/** pflag's FlagUsagesWrapped(cols), flags in name order. Each line ends with "\n". */
export function renderFlagUsages(defs: readonly FlagDef[], cols: number): string {
  const visible = defs
    .filter((d) => d.hidden !== true)
    .sort((a, b) => (a.long < b.long ? -1 : a.long > b.long ? 1 : 0));
  const heads = visible.map((d) => {
    const name = d.short !== undefined ? `  -${d.short}, --${d.long}` : `      --${d.long}`;
    const type = typeWord(d);
    return type === "" ? name : `${name} ${type}`;
  });
  // pflag's maxlen counts the separator it puts after the head; the text starts two columns past it.
  const indent = Math.max(0, ...heads.map((h) => h.length + 1)) + 2;
  return visible
    .map((d, i) => {
      const head = heads[i]!;
      const pad = " ".repeat(indent - 2 - head.length);
      return `${head} ${pad} ${wrap(indent, cols, d.help + defaultNote(d))}\n`;
    })
    .join("");
}

/** pflag's wrap: text from column i to width w, a little slop to avoid a short last line. */
function wrap(i: number, w: number, s: string): string {
  if (w === 0) return s.replaceAll("\n", `\n${" ".repeat(i)}`);
  let width = w - i;
  let out = "";
  if (width < 24) {
    i = 16;
    width = w - i;
    out += `\n${" ".repeat(i)}`;
  }
  if (width < 24) return s.replaceAll("\n", out);
  const slop = 5;
  width -= slop;
  const indentNl = `\n${" ".repeat(i)}`;
  let [line, rest] = wrapN(width, slop, s);
  out += line.replaceAll("\n", indentNl);
  while (rest !== "") {
    [line, rest] = wrapN(width, slop, rest);
    out += indentNl + line.replaceAll("\n", indentNl);
  }
  return out;
}

/** Up to i characters of s broken at whitespace, and the rest; i+slop when that takes it all. */
function wrapN(i: number, slop: number, s: string): [string, string] {
  if (i + slop > s.length) return [s, ""];
  const head = s.slice(0, i);
  const w = Math.max(head.lastIndexOf(" "), head.lastIndexOf("\t"), head.lastIndexOf("\n"));
  if (w <= 0) return [s, ""];
  const nl = head.lastIndexOf("\n");
  if (nl > 0 && nl < w) return [s.slice(0, nl), s.slice(nl + 1)];
  return [s.slice(0, w), s.slice(w + 1)];
}
