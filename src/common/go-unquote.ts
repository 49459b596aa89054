// Go's strconv.Unquote, for the two places that read Go-quoted text: the CLI's templates
// ("...", '...', `...`) and containerd's filter syntax, which also quotes with / and |.

const SIMPLE: Record<string, string> = {
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
  "\\": "\\",
};

/**
 * `tok` (its quotes included) decoded, or undefined where Go reports a syntax error. The first
 * character is the quote: a backquote is raw (no escapes; carriage returns dropped), any other
 * takes Go's escapes (\a \b \f \n \r \t \v \\, \xHH, \uHHHH, \UHHHHHHHH without surrogates, \ooo up
 * to 255) and an escaped quote only for its own quote; the quote itself never appears unescaped.
 */
export function goUnquote(tok: string): string | undefined {
  const quote = tok[0];
  if (quote === undefined || tok.length < 2 || tok[tok.length - 1] !== quote) return undefined;
  const body = tok.slice(1, -1);
  if (quote === "`") return body.includes("`") ? undefined : body.replaceAll("\r", "");
  let out = "";
  for (let i = 0; i < body.length; ) {
    const c = body[i]!;
    if (c === quote) return undefined;
    if (c !== "\\") {
      out += c;
      i++;
      continue;
    }
    const e = body[i + 1];
    i += 2;
    if (e === undefined) return undefined;
    if (SIMPLE[e] !== undefined) out += SIMPLE[e];
    else if (e === quote) out += quote;
    else if (e === "x" || e === "u" || e === "U") {
      const n = e === "x" ? 2 : e === "u" ? 4 : 8;
      const hex = body.slice(i, i + n);
      if (!new RegExp(`^[0-9A-Fa-f]{${n}}$`).test(hex)) return undefined;
      const v = Number.parseInt(hex, 16);
      if (e === "x") out += String.fromCharCode(v);
      else if (v > 0x10ffff || (v >= 0xd800 && v < 0xe000)) return undefined;
      else out += String.fromCodePoint(v);
      i += n;
    } else if (e >= "0" && e <= "7") {
      const oct = body.slice(i - 1, i + 2);
      if (!/^[0-7]{3}$/.test(oct) || Number.parseInt(oct, 8) > 255) return undefined;
      out += String.fromCharCode(Number.parseInt(oct, 8));
      i += 2;
    } else return undefined;
  }
  return out;
}
