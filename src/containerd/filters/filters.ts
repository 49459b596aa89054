// containerd's filter language for List requests: `name==foo,labels."a.b"!=c` is an AND of
// selectors; several filter strings are ORed. A selector is a field path (dot-separated, each part
// bare or double-quoted), optionally an operator (==, !=, ~= regexp) and a value (bare or quoted);
// a bare field path means "present and non-empty". No filters match everything.
import { InvalidArgumentError } from "../../common/errors.ts";

/** Looks a field path up on a candidate: undefined when absent. */
export type Adaptor = (fieldPath: string[]) => string | undefined;
export type Matcher = (adaptor: Adaptor) => boolean;

interface Selector {
  path: string[];
  op: "==" | "!=" | "~=" | "present";
  value: string;
  re?: RegExp;
}

function tokenizeValue(s: string, i: number): [string, number] {
  if (s[i] === '"' || s[i] === "'" || s[i] === "/") {
    const q = s[i]!;
    let out = "";
    i++;
    while (i < s.length && s[i] !== q) {
      if (s[i] === "\\" && i + 1 < s.length) i++;
      out += s[i++];
    }
    if (s[i] !== q) throw new InvalidArgumentError(`filter ${JSON.stringify(s)}: unterminated quote`);
    return [out, i + 1];
  }
  let j = i;
  while (j < s.length && s[j] !== ",") j++;
  return [s.slice(i, j), j];
}

function parseOne(s: string): Selector[] {
  const out: Selector[] = [];
  let i = 0;
  while (i < s.length) {
    const path: string[] = [];
    for (;;) {
      if (s[i] === '"') {
        const [v, j] = tokenizeValue(s, i);
        path.push(v);
        i = j;
      } else {
        const m = /^[A-Za-z0-9_-]+/.exec(s.slice(i));
        if (!m) throw new InvalidArgumentError(`filter ${JSON.stringify(s)}: expected a field name at ${i}`);
        path.push(m[0]);
        i += m[0].length;
      }
      if (s[i] !== ".") break;
      i++;
    }
    const op = s.slice(i, i + 2);
    if (op === "==" || op === "!=" || op === "~=") {
      const [value, j] = tokenizeValue(s, i + 2);
      i = j;
      let re: RegExp | undefined;
      if (op === "~=") {
        try {
          re = new RegExp(value);
        } catch {
          throw new InvalidArgumentError(
            `filter ${JSON.stringify(s)}: bad regular expression ${JSON.stringify(value)}`,
          );
        }
      }
      out.push({ path, op, value, re });
    } else {
      out.push({ path, op: "present", value: "" });
    }
    if (i < s.length) {
      if (s[i] !== ",")
        throw new InvalidArgumentError(`filter ${JSON.stringify(s)}: unexpected ${JSON.stringify(s[i])} at ${i}`);
      i++;
    }
  }
  return out;
}

export function parseFilters(filters: readonly string[]): Matcher {
  const alternatives = filters.filter((f) => f.trim() !== "").map((f) => parseOne(f.trim()));
  if (alternatives.length === 0) return () => true;
  return (adaptor) =>
    alternatives.some((sels) =>
      sels.every((sel) => {
        const v = adaptor(sel.path);
        switch (sel.op) {
          case "present":
            return v !== undefined && v !== "";
          case "==":
            return v === sel.value;
          case "!=":
            return v !== sel.value;
          case "~=":
            return v !== undefined && sel.re!.test(v);
          default:
            return false;
        }
      }),
    );
}

/** An adaptor over a flat record plus a labels map (the common shape of containerd objects). */
export function recordAdaptor(
  fields: Record<string, string | undefined>,
  labels: Record<string, string> = {},
): Adaptor {
  return (path) => {
    if (path.length === 0) return undefined;
    if (path[0] === "labels") return labels[path.slice(1).join(".")];
    return path.length === 1 ? fields[path[0]!] : fields[path.join(".")];
  };
}
