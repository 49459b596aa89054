// Go's json.Indent: the same tokens, new whitespace. docker inspect prints the daemon's raw JSON
// this way, so numbers and escapes stay exactly as the daemon wrote them.

export function indentJson(raw: string, indent = "    "): string {
  let out = "";
  let depth = 0;
  let inString = false;
  let needIndent = false; // an opening bracket was written; its first value starts a new line
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (inString) {
      out += c;
      if (c === "\\") out += raw[++i] ?? "";
      else if (c === '"') inString = false;
      continue;
    }
    if (c === " " || c === "\t" || c === "\n" || c === "\r") continue;
    if (needIndent && c !== "]" && c !== "}") {
      out += `\n${indent.repeat(depth)}`;
      needIndent = false;
    }
    switch (c) {
      case "{":
      case "[":
        out += c;
        depth++;
        needIndent = true;
        break;
      case "}":
      case "]":
        depth--;
        if (needIndent)
          needIndent = false; // empty: "{}" / "[]" as Go writes them
        else out += `\n${indent.repeat(depth)}`;
        out += c;
        break;
      case ",":
        out += `,\n${indent.repeat(depth)}`;
        break;
      case ":":
        out += ": ";
        break;
      case '"':
        inString = true;
        out += c;
        break;
      default:
        out += c;
    }
  }
  return out;
}
