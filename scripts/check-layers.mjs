// The import order of src/: a folder imports only the folders before it (README.md, "Layout").
// Reads every .ts under src/ (not the generated src/proto/gen), finds each import, export-from and
// import() with a literal specifier, and prints one line per offence: an import of a later layer,
// an import that leaves src/ (test/, bench/, ...), an import of test-only code, or a folder that is
// not a layer. Test code (x.test.ts, and x.testing.ts: a folder's set-ups for its own unit tests) may
// import anything. Bare specifiers (node:*, packages) are not the order's business.
// Usage: node scripts/check-layers.mjs [ROOT]   (exit 1 when anything is out of order)
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

export const LAYERS = ["common", "proto", "rpc", "oci", "runc", "shim", "containerd", "client", "engine", "cli"];
const GENERATED = "proto/gen";
const isTestCode = (path) => path.endsWith(".test.ts") || path.endsWith(".testing.ts");

// A token is an identifier or keyword, a string literal (value without quotes) or one punctuator.
// Comments, template literals and regular expressions are skipped, so an import written inside
// one of them is not taken for a real one.
const tokenize = (text) => {
  const tokens = [];
  let line = 1;
  let i = 0;
  // Each open `{` in code pushes "code"; `${` inside a template pushes "template", so the `}` that
  // closes it resumes the template.
  const braces = [];
  const count = (from, to) => {
    for (let k = from; k < to; k++) if (text[k] === "\n") line++;
  };
  const regexMayStart = () => {
    const last = tokens.at(-1);
    if (!last) return true;
    if (last.kind === "string") return false;
    if (last.kind === "word")
      return /^(return|typeof|case|do|else|in|of|new|delete|void|throw|instanceof|yield|await)$/.test(last.value);
    return !/^[)\]}]$/.test(last.value);
  };
  const template = () => {
    // At the character after a backtick or after the `}` that ends a `${...}`.
    while (i < text.length) {
      const c = text[i];
      if (c === "\\") i += 2;
      else if (c === "`") {
        i++;
        return;
      } else if (c === "$" && text[i + 1] === "{") {
        braces.push("template");
        i += 2;
        return;
      } else {
        if (c === "\n") line++;
        i++;
      }
    }
  };
  while (i < text.length) {
    const c = text[i];
    const next = text[i + 1];
    if (c === "\n") {
      line++;
      i++;
    } else if (/\s/.test(c)) i++;
    else if (c === "/" && next === "/") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === "/" && next === "*") {
      const end = text.indexOf("*/", i + 2);
      const stop = end < 0 ? text.length : end + 2;
      count(i, stop);
      i = stop;
    } else if (c === '"' || c === "'") {
      const start = line;
      let value = "";
      i++;
      while (i < text.length && text[i] !== c && text[i] !== "\n") {
        if (text[i] === "\\") {
          if (text[i + 1] === "\n") line++;
          value += text[i + 1] ?? "";
          i += 2;
        } else value += text[i++];
      }
      i++;
      tokens.push({ kind: "string", value, line: start });
    } else if (c === "`") {
      i++;
      template();
      tokens.push({ kind: "template", value: "`", line });
    } else if (c === "/" && regexMayStart()) {
      let inClass = false;
      i++;
      while (i < text.length && text[i] !== "\n") {
        if (text[i] === "\\") i++;
        else if (text[i] === "[") inClass = true;
        else if (text[i] === "]") inClass = false;
        else if (text[i] === "/" && !inClass) break;
        i++;
      }
      i++;
      while (i < text.length && /\w/.test(text[i])) i++;
      tokens.push({ kind: "regex", value: "/", line });
    } else if (/[\w$]/.test(c)) {
      let value = "";
      while (i < text.length && /[\w$]/.test(text[i])) value += text[i++];
      tokens.push({ kind: "word", value, line });
    } else if (c === "}" && braces.at(-1) === "template") {
      braces.pop();
      i++;
      template();
    } else {
      if (c === "{") braces.push("code");
      else if (c === "}") braces.pop();
      tokens.push({ kind: "punct", value: c, line });
      i++;
    }
  }
  return tokens;
};

/** Every module specifier a TypeScript source names, with the line of its statement. */
export const importsOf = (text) => {
  const tokens = tokenize(text);
  const found = [];
  const isWord = (t, w) => t?.kind === "word" && t.value === w;
  const isPunct = (t, p) => t?.kind === "punct" && t.value === p;
  // From index k, the string after the `from` that ends this import/export clause, if any.
  const fromClause = (k) => {
    for (; k < tokens.length && !isPunct(tokens[k], ";"); k++) {
      if (isWord(tokens[k], "from") && tokens[k + 1]?.kind === "string") return tokens[k + 1].value;
      // An export of a declaration (export const x = ..., export function f) has no from clause.
      if (isPunct(tokens[k], "=") || isPunct(tokens[k], "(")) return undefined;
    }
    return undefined;
  };
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    if (t.kind !== "word" || isPunct(tokens[k - 1], ".")) continue;
    const next = tokens[k + 1];
    if (t.value === "import") {
      if (isPunct(next, "(")) {
        // import("x") and the type form typeof import("x"); a computed specifier cannot be checked.
        if (tokens[k + 2]?.kind === "string") found.push({ specifier: tokens[k + 2].value, line: t.line });
        else found.push({ specifier: undefined, line: t.line });
      } else if (isPunct(next, ".")) {
        // import.meta
      } else if (next?.kind === "string") found.push({ specifier: next.value, line: t.line });
      else if (next?.kind === "word" || isPunct(next, "{") || isPunct(next, "*")) {
        const specifier = fromClause(k + 1);
        if (specifier !== undefined) found.push({ specifier, line: t.line });
      }
    } else if (t.value === "export" && (isPunct(next, "{") || isPunct(next, "*") || isWord(next, "type"))) {
      const specifier = fromClause(k + 1);
      if (specifier !== undefined) found.push({ specifier, line: t.line });
    }
  }
  return found;
};

const sourcesUnder = (dir) => {
  const files = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourcesUnder(path));
    else if (entry.isFile() && entry.name.endsWith(".ts")) files.push(path);
  }
  return files;
};

const posix = (path) => path.split(sep).join("/");

/** The offences in ROOT/src, each "file:line: message", sorted by file. */
export const checkLayers = (root) => {
  const src = join(root, "src");
  const offences = [];
  const layerOf = (path) => {
    const inSrc = posix(relative(src, path));
    if (inSrc.startsWith("../") || !inSrc.includes("/")) return undefined;
    return inSrc.split("/")[0];
  };
  for (const file of sourcesUnder(src).sort()) {
    const inSrc = posix(relative(src, file));
    if (inSrc.startsWith(`${GENERATED}/`) || isTestCode(file)) continue;
    const shown = posix(relative(root, file));
    const layer = layerOf(file);
    const rank = LAYERS.indexOf(layer);
    if (rank < 0) {
      offences.push(
        `${shown}:1: ${layer === undefined ? shown : `src/${layer}`} is not in a layer (${LAYERS.join(", ")})`,
      );
      continue;
    }
    for (const { specifier, line } of importsOf(readFileSync(file, "utf8"))) {
      const at = `${shown}:${line}: src/${layer}`;
      if (specifier === undefined) {
        offences.push(`${at} imports a computed specifier, which cannot be checked`);
        continue;
      }
      if (!specifier.startsWith(".") && !specifier.startsWith("/")) continue;
      const target = resolve(dirname(file), specifier);
      const targetLayer = layerOf(target);
      if (targetLayer === undefined) {
        offences.push(`${at} may not import ${posix(relative(root, target))} (outside src/)`);
        continue;
      }
      const targetRank = LAYERS.indexOf(targetLayer);
      if (isTestCode(target)) offences.push(`${at} may not import ${posix(relative(root, target))} (test code)`);
      else if (targetRank < 0) offences.push(`${at} may not import src/${targetLayer} (not a layer)`);
      else if (targetRank > rank) offences.push(`${at} may not import src/${targetLayer} (later layer)`);
    }
  }
  return offences;
};

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), ".."));
  const offences = checkLayers(root);
  for (const offence of offences) console.error(offence);
  if (offences.length > 0) {
    console.error(`check-layers: ${offences.length} offence(s) against the layer order ${LAYERS.join(" < ")}`);
    process.exit(1);
  }
}
