// Docker's --format: the subset of Go's text/template people use with docker (fields, pipelines,
// if/range/with, variables, `{{- -}}` trimming, docker's functions json/join/split/lower/upper/
// title/pad/truncate and Go's builtins), printing values the way Go's fmt does (go-values.ts).
// Errors carry Go's words, positions included: scripts match on them.
//
// The data is what the Engine API answered (JSON), so values are JSON values; objects that stand
// for docker's Go structs (a ps row) carry GO_TYPE and may hold methods (functions) such as
// `.Label "k"`. Not supported: define/template/block (a parse error says so).
import { goUnquote } from "../../common/go-unquote.ts";
import { goIsPrint } from "../flags/go-quote.ts";
import {
  goJson,
  goPrint,
  goSprintf,
  goTypeName,
  isGoStruct,
  isNil,
  NO_VALUE,
  truth,
  ValueDepthError,
} from "./go-values.ts";

/** A template that does not parse (exit 64, as `docker inspect` does) or fails while executing (exit 1). */
export class TemplateError extends Error {
  readonly phase: "parse" | "exec";
  /** Go's own words ("template: :1: function \"foo\" not defined"), without docker's prefix. */
  readonly detail: string;
  readonly exitCode: number;
  /** `message` and `exitCode` default to docker inspect's ("template parsing error: ...", 64 or 1). */
  constructor(phase: "parse" | "exec", detail: string, message?: string, exitCode?: number) {
    super(message ?? `template parsing error: ${detail}`);
    this.name = "TemplateError";
    this.phase = phase;
    this.detail = detail;
    this.exitCode = exitCode ?? (phase === "parse" ? 64 : 1);
  }
}

export interface TemplateOptions {
  /** "error": a missing map key fails (docker inspect's raw fallback); "default" (Go's): <no value>. */
  missingKey?: "error" | "default";
  /** Replace the functions of these names (docker's header functions, which return their input). */
  funcs?: Record<string, GoFunc>;
}

/** Template source longer than this is refused (a --format flag, not a program). */
export const MAX_TEMPLATE_BYTES = 64 * 1024;
/** One execution writes at most this many characters. */
export const MAX_OUTPUT_CHARS = 16 * 1024 * 1024;
/** One execution runs at most this many range iterations in all. */
export const MAX_ITERATIONS = 1_000_000;
/** Controls and parentheses nest at most this deep. */
export const MAX_NESTING = 100;

// ---------------------------------------------------------------------------------------------
// Lexer (Go's text/template/parse/lex.go, for the default delimiters)

type Kind =
  | "text"
  | "left"
  | "right"
  | "space"
  | "field"
  | "variable"
  | "identifier"
  | "keyword"
  | "bool"
  | "nil"
  | "dot"
  | "number"
  | "char"
  | "charConstant"
  | "string"
  | "rawString"
  | "pipe"
  | "assign"
  | "declare"
  | "lparen"
  | "rparen"
  | "eof"
  | "error";

interface Token {
  kind: Kind;
  val: string;
  pos: number;
  line: number;
}

const KEYWORDS = new Set(["block", "break", "continue", "define", "else", "end", "if", "range", "template", "with"]);

const isSpace = (c: string | undefined) => c === " " || c === "\t" || c === "\r" || c === "\n";
const isAlnum = (c: string | undefined) => c !== undefined && c !== "" && /^[\p{L}\p{Nd}_]$/u.test(c);
const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";

/** Go's %#U of a character: U+007D '}' */
function charName(c: string): string {
  const cp = c.codePointAt(0) ?? 0;
  return `U+${cp.toString(16).toUpperCase().padStart(4, "0")} '${c}'`;
}

function lex(src: string): Token[] {
  const out: Token[] = [];
  let pos = 0;
  let start = 0;
  let startLine = 1;
  let parenDepth = 0;
  // Lines counted forward once (positions only grow, but for a trimmed text's start).
  let lcPos = 0;
  let lcLine = 1;
  const lineAt = (p: number) => {
    if (p < lcPos) {
      lcPos = 0;
      lcLine = 1;
    }
    for (; lcPos < p; lcPos++) if (src.charCodeAt(lcPos) === 10) lcLine++;
    return lcLine;
  };
  const emit = (kind: Kind, val = src.slice(start, pos)) => {
    out.push({ kind, val, pos: start, line: startLine });
    start = pos;
    startLine = lineAt(pos);
  };
  const fail = (msg: string) => {
    out.push({ kind: "error", val: msg, pos: start, line: startLine });
    return false;
  };
  const atRightDelim = (): { delim: boolean; trim: boolean } => {
    if (isSpace(src[pos]) && src[pos + 1] === "-" && src.startsWith("}}", pos + 2)) return { delim: true, trim: true };
    return { delim: src.startsWith("}}", pos), trim: false };
  };
  const atTerminator = () => {
    const c = src[pos];
    if (c === undefined || isSpace(c)) return true;
    if (".,|:)(".includes(c)) return true;
    return src.startsWith("}}", pos);
  };
  const skipSpaceAfterTrim = () => {
    while (isSpace(src[pos])) pos++;
    start = pos;
    startLine = lineAt(pos);
  };

  // Returns false once an error token is out (lexing stops there).
  const text = (): boolean => {
    const i = src.indexOf("{{", pos);
    if (i < 0) {
      pos = src.length;
      if (pos > start) emit("text");
      emit("eof", "");
      return false;
    }
    const trimLeft = src[i + 2] === "-" && isSpace(src[i + 3]);
    let end = i;
    if (trimLeft) while (end > start && isSpace(src[end - 1])) end--;
    if (end > start) {
      out.push({ kind: "text", val: src.slice(start, end), pos: start, line: startLine });
    }
    pos = i;
    start = i;
    startLine = lineAt(i);
    pos += 2;
    if (trimLeft) pos += 2;
    // A comment: {{/* ... */}}
    if (src.startsWith("/*", pos)) {
      const close = src.indexOf("*/", pos + 2);
      if (close < 0) return fail("unclosed comment");
      pos = close + 2;
      const r = atRightDelim();
      if (!r.delim) return fail("comment ends before closing delimiter");
      pos += r.trim ? 4 : 2;
      start = pos;
      if (r.trim) skipSpaceAfterTrim();
      startLine = lineAt(pos);
      return true;
    }
    emit("left");
    start = pos;
    return inside();
  };

  const inside = (): boolean => {
    for (;;) {
      const r = atRightDelim();
      if (r.delim) {
        if (parenDepth !== 0) return fail("unclosed left paren");
        if (r.trim) {
          pos += 2; // the space and the dash
          start = pos;
        }
        pos += 2;
        emit("right");
        if (r.trim) skipSpaceAfterTrim();
        return true;
      }
      const c = src[pos];
      if (c === undefined) return fail("unclosed action");
      if (isSpace(c)) {
        let n = 0;
        while (isSpace(src[pos])) {
          pos++;
          n++;
        }
        // " -}}": the last space belongs to the trim marker.
        if (src[pos] === "-" && src.startsWith("}}", pos + 1)) {
          pos--;
          if (n === 1) continue;
        }
        emit("space");
        continue;
      }
      pos++;
      if (c === "=") emit("assign");
      else if (c === ":") {
        if (src[pos] !== "=") return fail("expected :=");
        pos++;
        emit("declare");
      } else if (c === "|") emit("pipe");
      else if (c === '"') {
        if (!quoted('"', "unterminated quoted string")) return false;
        emit("string");
      } else if (c === "`") {
        const close = src.indexOf("`", pos);
        if (close < 0) return fail("unterminated raw quoted string");
        pos = close + 1;
        emit("rawString");
      } else if (c === "$") {
        if (!fieldOrVariable("variable")) return false;
      } else if (c === "'") {
        if (!quoted("'", "unterminated character constant")) return false;
        emit("charConstant");
      } else if (c === "." && !(pos < src.length && isDigit(src[pos]))) {
        if (!fieldOrVariable("field")) return false;
      } else if (c === "." || c === "+" || c === "-" || isDigit(c)) {
        pos--;
        if (!scanNumber()) return fail(`bad number syntax: ${JSON.stringify(src.slice(start, pos))}`);
        emit("number");
      } else if (isAlnum(c)) {
        while (isAlnum(src[pos])) pos++;
        if (!atTerminator()) return fail(`bad character ${charName(String.fromCodePoint(src.codePointAt(pos)!))}`);
        const word = src.slice(start, pos);
        if (KEYWORDS.has(word)) emit("keyword");
        else if (word === "true" || word === "false") emit("bool");
        else if (word === "nil") emit("nil");
        else emit("identifier");
      } else if (c === "(") {
        emit("lparen");
        parenDepth++;
      } else if (c === ")") {
        parenDepth--;
        if (parenDepth < 0) return fail("unexpected right paren");
        emit("rparen");
      } else if (c.charCodeAt(0) < 0x7f && c.charCodeAt(0) >= 0x20) emit("char");
      else {
        const full = String.fromCodePoint(src.codePointAt(pos - 1)!);
        return fail(`unrecognized character in action: ${charName(full)}`);
      }
    }
  };

  // The rest of a "..." or '...' token, escapes skipped over (unquote reads them).
  const quoted = (quote: string, unterminated: string): boolean => {
    for (;;) {
      const d = src[pos++];
      if (d === "\\") {
        if (src[pos] === undefined || src[pos] === "\n") return fail(unterminated);
        pos++;
        continue;
      }
      if (d === undefined || d === "\n") return fail(unterminated);
      if (d === quote) return true;
    }
  };

  const fieldOrVariable = (kind: "field" | "variable"): boolean => {
    if (atTerminator()) {
      emit(kind === "variable" ? "variable" : "dot");
      return true;
    }
    while (isAlnum(src[pos])) pos++;
    if (!atTerminator()) return fail(`bad character ${charName(String.fromCodePoint(src.codePointAt(pos)!))}`);
    emit(kind);
    return true;
  };

  const accept = (set: string) => {
    if (src[pos] !== undefined && set.includes(src[pos]!)) {
      pos++;
      return true;
    }
    return false;
  };
  const acceptRun = (set: string) => {
    while (src[pos] !== undefined && set.includes(src[pos]!)) pos++;
  };
  const scanNumber = (): boolean => {
    accept("+-");
    let digits = "0123456789_";
    if (accept("0")) {
      if (accept("xX")) digits = "0123456789abcdefABCDEF_";
      else if (accept("oO")) digits = "01234567_";
      else if (accept("bB")) digits = "01_";
    }
    acceptRun(digits);
    if (accept(".")) acceptRun(digits);
    if (digits.length === 11 && accept("eE")) {
      accept("+-");
      acceptRun("0123456789_");
    }
    if (digits.length === 23 && accept("pP")) {
      accept("+-");
      acceptRun("0123456789_");
    }
    accept("i");
    if (isAlnum(src[pos])) {
      pos++;
      return false;
    }
    return true;
  };

  while (text()) {
    /* one text and one action per turn */
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Parse tree (Go's text/template/parse nodes, the ones this subset has)

type Node =
  | { t: "list"; pos: number; nodes: Node[] }
  | { t: "text"; pos: number; text: string }
  | { t: "action"; pos: number; line: number; pipe: Pipe }
  | Control
  | { t: "break" | "continue"; pos: number }
  | { t: "end" | "else"; pos: number };

interface Control {
  t: "if" | "with" | "range";
  pos: number;
  line: number;
  pipe: Pipe;
  list: Node;
  elseList?: Node;
}

interface Pipe {
  t: "pipe";
  pos: number;
  decl: string[];
  isAssign: boolean;
  cmds: Command[];
}

interface Command {
  t: "command";
  pos: number;
  args: Arg[];
}

type Arg =
  | { t: "field"; pos: number; ident: string[] }
  | { t: "variable"; pos: number; ident: string[] }
  | { t: "chain"; pos: number; node: Arg; field: string[] }
  | { t: "identifier"; pos: number; name: string }
  | { t: "dot"; pos: number }
  | { t: "nil"; pos: number }
  | { t: "bool"; pos: number; val: boolean }
  | { t: "number"; pos: number; text: string; val: number }
  | { t: "string"; pos: number; quoted: string; val: string }
  | Pipe;

function argString(a: Arg): string {
  switch (a.t) {
    case "field":
      return a.ident.map((i) => `.${i}`).join("");
    case "variable":
      return a.ident.join(".");
    case "chain": {
      const inner = a.node.t === "pipe" ? `(${argString(a.node)})` : argString(a.node);
      return inner + a.field.map((f) => `.${f}`).join("");
    }
    case "identifier":
      return a.name;
    case "dot":
      return ".";
    case "nil":
      return "nil";
    case "bool":
      return String(a.val);
    case "number":
      return a.text;
    case "string":
      return a.quoted;
    case "pipe": {
      const decl = a.decl.length ? `${a.decl.join(", ")} ${a.isAssign ? "=" : ":="} ` : "";
      return decl + a.cmds.map((c) => commandString(c)).join(" | ");
    }
  }
}

function commandString(c: Command): string {
  return c.args.map((a) => (a.t === "pipe" ? `(${argString(a)})` : argString(a))).join(" ");
}

class ParseFailure extends Error {}

function parseNumber(text: string, kind: "number" | "charConstant"): number | undefined {
  if (kind === "charConstant") {
    const s = goUnquote(text);
    if (s === undefined || [...s].length !== 1) return undefined;
    return s.codePointAt(0);
  }
  if (text.endsWith("i")) return undefined; // complex numbers: not in this subset
  const t = text.replaceAll("_", "");
  const sign = t.startsWith("-") ? -1 : 1;
  const u = t.replace(/^[+-]/, "");
  if (/^0[xX][0-9a-fA-F]+$/.test(u)) return sign * Number.parseInt(u.slice(2), 16);
  if (/^0[oO][0-7]+$/.test(u)) return sign * Number.parseInt(u.slice(2), 8);
  if (/^0[bB][01]+$/.test(u)) return sign * Number.parseInt(u.slice(2), 2);
  if (/^0[0-7]+$/.test(u)) return sign * Number.parseInt(u.slice(1), 8);
  if (/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(u)) return sign * Number(u);
  return undefined;
}

class Parser {
  readonly #src: string;
  readonly #toks: Token[];
  readonly #funcs: Set<string>;
  #i = 0;
  #last: Token;
  #vars: string[] = ["$"];
  #rangeDepth = 0;
  #depth = 0;
  #actionLine = 0;

  constructor(src: string, funcs: Set<string>) {
    this.#src = src;
    this.#toks = lex(src);
    this.#funcs = funcs;
    this.#last = this.#toks[0] ?? { kind: "eof", val: "", pos: 0, line: 1 };
  }

  fail(msg: string): never {
    throw new ParseFailure(`template: :${this.#last.line}: ${msg}`);
  }

  #next(): Token {
    const t = this.#toks[this.#i] ?? this.#toks[this.#toks.length - 1]!;
    if (this.#i < this.#toks.length) this.#i++;
    this.#last = t;
    return t;
  }
  #backup(n = 1) {
    this.#i -= n;
  }
  #peek(): Token {
    return this.#toks[this.#i] ?? this.#toks[this.#toks.length - 1]!;
  }
  #nextNonSpace(): Token {
    let t = this.#next();
    while (t.kind === "space") t = this.#next();
    return t;
  }
  #peekNonSpace(): Token {
    const t = this.#nextNonSpace();
    this.#backup();
    return t;
  }
  #tokenString(t: Token): string {
    if (t.kind === "eof") return "EOF";
    if (t.kind === "error") return t.val;
    if (t.kind === "keyword" || t.kind === "bool" || t.kind === "nil") return `<${t.val}>`;
    if ([...t.val].length > 10) return `${JSON.stringify([...t.val].slice(0, 10).join(""))}...`;
    return JSON.stringify(t.val);
  }
  #unexpected(t: Token, context: string): never {
    if (t.kind === "error") {
      const extra =
        this.#actionLine !== 0 && this.#actionLine !== t.line ? ` in action started at :${this.#actionLine}` : "";
      this.fail(`${t.val}${extra}`);
    }
    this.fail(`unexpected ${this.#tokenString(t)} in ${context}`);
  }
  #expect(kind: Kind, context: string): Token {
    const t = this.#nextNonSpace();
    if (t.kind !== kind) this.#unexpected(t, context);
    return t;
  }
  #nest<T>(f: () => T): T {
    if (++this.#depth > MAX_NESTING) this.fail(`nesting deeper than ${MAX_NESTING}`);
    try {
      return f();
    } finally {
      this.#depth--;
    }
  }

  parse(): Node {
    const root: Node = { t: "list", pos: this.#peek().pos, nodes: [] };
    while (this.#peek().kind !== "eof") {
      const n = this.#textOrAction();
      if (n.t === "end" || n.t === "else") this.fail(`unexpected {{${n.t}}}`);
      root.nodes.push(n);
    }
    return root;
  }

  #textOrAction(): Node {
    const t = this.#nextNonSpace();
    if (t.kind === "text") return { t: "text", pos: t.pos, text: t.val };
    if (t.kind === "left") {
      this.#actionLine = t.line;
      try {
        return this.#action();
      } finally {
        this.#actionLine = 0;
      }
    }
    this.#unexpected(t, "input");
  }

  #action(): Node {
    const t = this.#nextNonSpace();
    if (t.kind === "keyword") {
      switch (t.val) {
        case "if":
        case "with":
        case "range":
          return this.#nest(() => this.#control(t.val as "if" | "with" | "range"));
        case "else": {
          const p = this.#peekNonSpace();
          if (p.kind === "keyword" && (p.val === "if" || p.val === "with")) return { t: "else", pos: p.pos };
          return { t: "else", pos: this.#expect("right", "else").pos };
        }
        case "end":
          return { t: "end", pos: this.#expect("right", "end").pos };
        case "break":
        case "continue": {
          const r = this.#nextNonSpace();
          if (r.kind !== "right") this.#unexpected(r, `{{${t.val}}}`);
          if (this.#rangeDepth === 0) this.fail(`{{${t.val}}} outside {{range}}`);
          return { t: t.val, pos: t.pos };
        }
        default:
          this.fail(`{{${t.val}}} is not supported by berth's --format`);
      }
    }
    this.#backup();
    const tok = this.#peek();
    return { t: "action", pos: tok.pos, line: tok.line, pipe: this.#pipeline("command", "right") };
  }

  #control(context: "if" | "with" | "range"): Node {
    const mark = this.#vars.length;
    try {
      const pipe = this.#pipeline(context, "right");
      if (context === "range") this.#rangeDepth++;
      let [list, next] = this.#itemList();
      if (context === "range") this.#rangeDepth--;
      let elseList: Node | undefined;
      if (next.t === "else") {
        const p = this.#peek();
        if (context !== "range" && p.kind === "keyword" && p.val === context) {
          this.#next();
          elseList = { t: "list", pos: next.pos, nodes: [this.#nest(() => this.#control(context))] };
        } else {
          [elseList, next] = this.#itemList();
          if (next.t !== "end") this.fail(`expected end; found {{${next.t}}}`);
        }
      }
      void list;
      return { t: context, pos: pipe.pos, line: this.#last.line, pipe, list, elseList };
    } finally {
      this.#vars.length = mark;
    }
  }

  #itemList(): [Node, Node] {
    const list: Node = { t: "list", pos: this.#peekNonSpace().pos, nodes: [] };
    while (this.#peekNonSpace().kind !== "eof") {
      const n = this.#textOrAction();
      if (n.t === "end" || n.t === "else") return [list, n];
      list.nodes.push(n);
    }
    this.fail("unexpected EOF");
  }

  #pipeline(context: string, end: Kind): Pipe {
    const first = this.#peekNonSpace();
    const pipe: Pipe = { t: "pipe", pos: first.pos, decl: [], isAssign: false, cmds: [] };
    for (;;) {
      const v = this.#peekNonSpace();
      if (v.kind !== "variable") break;
      const at = this.#i;
      this.#nextNonSpace();
      const next = this.#peekNonSpace();
      if (next.kind === "assign" || next.kind === "declare") {
        pipe.isAssign = next.kind === "assign";
        this.#nextNonSpace();
        pipe.decl.push(v.val);
        this.#vars.push(v.val);
        break;
      }
      if (next.kind === "char" && next.val === ",") {
        this.#nextNonSpace();
        pipe.decl.push(v.val);
        this.#vars.push(v.val);
        if (context === "range" && pipe.decl.length < 2) {
          const k = this.#peekNonSpace().kind;
          if (k === "variable" || k === "right" || k === "rparen") continue;
          this.fail("range can only initialize variables");
        }
        this.fail(`too many declarations in ${context}`);
      }
      // Not a declaration: the variable is an operand.
      this.#i = at;
      break;
    }
    for (;;) {
      const t = this.#nextNonSpace();
      if (t.kind === end) {
        if (pipe.cmds.length === 0) this.fail(`missing value for ${context}`);
        pipe.cmds.slice(1).forEach((c, i) => {
          const k = c.args[0]?.t;
          if (k === "bool" || k === "dot" || k === "nil" || k === "number" || k === "string") {
            this.fail(`non executable command in pipeline stage ${i + 2}`);
          }
        });
        return pipe;
      }
      switch (t.kind) {
        case "bool":
        case "charConstant":
        case "dot":
        case "field":
        case "identifier":
        case "number":
        case "nil":
        case "rawString":
        case "string":
        case "variable":
        case "lparen":
          this.#backup();
          pipe.cmds.push(this.#command());
          break;
        default:
          this.#unexpected(t, context);
      }
    }
  }

  #command(): Command {
    const cmd: Command = { t: "command", pos: this.#peekNonSpace().pos, args: [] };
    for (;;) {
      this.#peekNonSpace();
      const operand = this.#operand();
      if (operand) cmd.args.push(operand);
      const t = this.#next();
      if (t.kind === "space") continue;
      if (t.kind === "right" || t.kind === "rparen") this.#backup();
      else if (t.kind !== "pipe") this.#unexpected(t, "operand");
      break;
    }
    if (cmd.args.length === 0) this.fail("empty command");
    return cmd;
  }

  #operand(): Arg | undefined {
    const node = this.#term();
    if (!node) return undefined;
    if (this.#peek().kind !== "field") return node;
    const pos = this.#peek().pos;
    const fields: string[] = [];
    while (this.#peek().kind === "field") fields.push(this.#next().val.slice(1));
    switch (node.t) {
      case "field":
        return { t: "field", pos, ident: [...node.ident, ...fields] };
      case "variable":
        return { t: "variable", pos, ident: [...node.ident, ...fields] };
      case "bool":
      case "string":
      case "number":
      case "nil":
      case "dot":
        return this.fail(`unexpected . after term ${JSON.stringify(argString(node))}`);
      default:
        return { t: "chain", pos, node, field: fields };
    }
  }

  #term(): Arg | undefined {
    const t = this.#nextNonSpace();
    switch (t.kind) {
      case "identifier":
        if (!this.#funcs.has(t.val)) this.fail(`function ${JSON.stringify(t.val)} not defined`);
        return { t: "identifier", pos: t.pos, name: t.val };
      case "dot":
        return { t: "dot", pos: t.pos };
      case "nil":
        return { t: "nil", pos: t.pos };
      case "variable": {
        const ident = t.val.split(".");
        if (!this.#vars.includes(ident[0]!)) this.fail(`undefined variable ${JSON.stringify(ident[0])}`);
        return { t: "variable", pos: t.pos, ident };
      }
      case "field":
        return { t: "field", pos: t.pos, ident: [t.val.slice(1)] };
      case "bool":
        return { t: "bool", pos: t.pos, val: t.val === "true" };
      case "number":
      case "charConstant": {
        const val = parseNumber(t.val, t.kind);
        if (val === undefined) this.fail(`illegal number syntax: ${JSON.stringify(t.val)}`);
        return { t: "number", pos: t.pos, text: t.val, val };
      }
      case "lparen":
        return this.#nest(() => this.#pipeline("parenthesized pipeline", "rparen"));
      case "string":
      case "rawString": {
        const val = goUnquote(t.val);
        if (val === undefined) this.fail("invalid syntax");
        return { t: "string", pos: t.pos, quoted: t.val, val };
      }
    }
    this.#backup();
    return undefined;
  }

  /** Go's ErrorContext: "line:col" of a node and its text (20 characters at most). */
  context(pos: number, text: string): string {
    const before = this.#src.slice(0, pos);
    const nl = before.lastIndexOf("\n");
    const col = nl < 0 ? Buffer.byteLength(before) : Buffer.byteLength(before.slice(nl + 1));
    const lineNo = 1 + (before.match(/\n/g)?.length ?? 0);
    return `:${lineNo}:${col}: executing "" at <${text}>`;
  }
}

// ---------------------------------------------------------------------------------------------
// Execution (Go's text/template/exec.go)

/** A function callable from a template: it receives evaluated arguments (NO_VALUE for missing). */
export type GoFunc = ((...args: unknown[]) => unknown) & { variadicFrom?: number; arity?: number; lazy?: boolean };

class ExecFailure extends Error {}
class BreakSignal {}
class ContinueSignal {}
const BREAK = new BreakSignal();
const CONTINUE = new ContinueSignal();
/** The pipeline's "final" value when nothing was piped in. */
const MISSING = Symbol("missing");

/** Thrown by a function: becomes "error calling <name>: <message>". */
export class CallError extends Error {}
/** Thrown by argument checks: becomes the message itself (Go's evalArg words), at that argument. */
class ArgError extends Error {
  readonly argIndex: number;
  constructor(message: string, argIndex: number) {
    super(message);
    this.argIndex = argIndex;
  }
}

function fn(f: (...args: unknown[]) => unknown, arity: number, variadicFrom?: number): GoFunc {
  const g = f as GoFunc;
  g.arity = arity;
  if (variadicFrom !== undefined) g.variadicFrom = variadicFrom;
  return g;
}

/** The type docker's raw inspect view names in a failed call (its numbers are json.Number). */
function rawTypeName(v: unknown): string {
  return typeof v === "number" ? "json.Number" : goTypeName(v);
}

function wantString(v: unknown, argIndex: number): string {
  if (typeof v === "string") return v;
  throw new ArgError(`wrong type for value; expected string; got ${rawTypeName(v)}`, argIndex);
}

function wantInt(v: unknown, argIndex: number): number {
  if (typeof v === "number" && Number.isInteger(v)) return v;
  throw new ArgError(`wrong type for value; expected int; got ${rawTypeName(v)}`, argIndex);
}

type Basic = "bool" | "int" | "float" | "string" | "invalid" | "other";
function basicKind(v: unknown): Basic {
  if (isNil(v)) return "invalid";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  if (typeof v === "string") return "string";
  return "other";
}

function eq(a: unknown, ...rest: unknown[]): boolean {
  if (rest.length === 0) throw new CallError("missing argument for comparison");
  const k1 = basicKind(a);
  for (const b of rest) {
    const k2 = basicKind(b);
    if (k1 === "invalid" || k2 === "invalid") {
      if (k1 === k2) return true;
      if (k1 === "other" || k2 === "other") continue;
      throw new CallError("incompatible types for comparison");
    }
    if (k1 !== k2) throw new CallError("incompatible types for comparison");
    if (k1 === "other") throw new CallError(`non-comparable type ${goPrint(a)}: ${goTypeName(a)}`);
    if (a === b) return true;
  }
  return false;
}

function lt(a: unknown, b: unknown): boolean {
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (k1 === "invalid" || k1 === "other" || k2 === "invalid" || k2 === "other") {
    throw new CallError("invalid type for comparison");
  }
  if (k1 !== k2) throw new CallError("incompatible types for comparison");
  if (k1 === "bool") throw new CallError("invalid type for comparison");
  return (a as number | string) < (b as number | string);
}

function index(item: unknown, ...keys: unknown[]): unknown {
  let cur = item;
  if (isNil(cur)) throw new CallError("index of untyped nil");
  for (const k of keys) {
    if (isNil(cur)) throw new CallError("index of nil pointer");
    if (Array.isArray(cur) || typeof cur === "string") {
      if (isNil(k)) throw new CallError("cannot index slice/array with nil");
      if (typeof k !== "number" || !Number.isInteger(k)) {
        throw new CallError(`cannot index slice/array with type ${goTypeName(k)}`);
      }
      const len = typeof cur === "string" ? Buffer.byteLength(cur) : cur.length;
      if (k < 0 || k >= len) throw new CallError(`index out of range: ${k}`);
      cur = typeof cur === "string" ? Buffer.from(cur)[k] : cur[k];
    } else if (typeof cur === "object" && !isGoStruct(cur)) {
      if (typeof k !== "string") throw new CallError(`value has type ${goTypeName(k)}; should be string`);
      const obj = cur as Record<string, unknown>;
      if (Object.hasOwn(obj, k)) cur = obj[k];
      else {
        // A labels-like map (every value a string) is map[string]string in docker's types: a
        // missing key is "", as docker prints it; otherwise Go's zero interface.
        const values = Object.values(obj);
        cur = values.every((x) => typeof x === "string") ? "" : null;
      }
    } else throw new CallError(`can't index item of type ${goTypeName(cur)}`);
  }
  return cur;
}

function sliceOf(item: unknown, ...idx: unknown[]): unknown {
  if (isNil(item)) throw new CallError("slice of untyped nil");
  if (idx.length > 3) throw new CallError(`too many slice indexes: ${idx.length}`);
  const isStr = typeof item === "string";
  if (!isStr && !Array.isArray(item)) throw new CallError(`can't slice item of type ${goTypeName(item)}`);
  if (isStr && idx.length === 3) throw new CallError("cannot 3-index slice a string");
  const len = isStr ? Buffer.byteLength(item as string) : (item as unknown[]).length;
  const n = idx.map((x) => {
    if (typeof x !== "number" || !Number.isInteger(x))
      throw new CallError(`cannot index slice/array with type ${goTypeName(x)}`);
    if (x < 0 || x > len) throw new CallError(`index out of range: ${x}`);
    return x;
  });
  const from = n[0] ?? 0;
  const to = n[1] ?? len;
  if (from > to) throw new CallError(`invalid slice index: ${from} > ${to}`);
  return isStr
    ? Buffer.from(item as string)
        .subarray(from, to)
        .toString()
    : (item as unknown[]).slice(from, to);
}

function length(v: unknown): number {
  if (v === null) throw new CallError("len of nil pointer");
  if (typeof v === "string") return Buffer.byteLength(v);
  if (Array.isArray(v)) return v.length;
  if (typeof v === "object" && v !== null && !isGoStruct(v)) return Object.keys(v).length;
  throw new CallError(`len of type ${goTypeName(v)}`);
}

/** Go's strings.Title: the first letter of each word (a letter, digit or _ run) upper-cased. */
function title(s: string): string {
  let prev = " ";
  let out = "";
  for (const c of s) {
    out += /[\p{L}\p{Nd}_']/u.test(prev) ? c : c.toUpperCase();
    prev = c;
  }
  return out;
}

function htmlEscape(s: string): string {
  return s.replace(/[\0"'&<>]/g, (c) =>
    c === "\0" ? "\uFFFD" : { '"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;" }[c]!,
  );
}

const JS_ESCAPES: Record<string, string> = {
  "\\": "\\\\",
  "'": "\\'",
  '"': '\\"',
  "<": "\\u003C",
  ">": "\\u003E",
  "&": "\\u0026",
  "=": "\\u003D",
};

/** text/template's JSEscapeString: quotes backslashed, <>&= and controls as \u00XX, unprintable runes as \uXXXX. */
function jsEscape(s: string): string {
  let out = "";
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    const e = JS_ESCAPES[ch];
    if (e !== undefined) out += e;
    else if (cp < 0x20) out += `\\u00${cp.toString(16).toUpperCase().padStart(2, "0")}`;
    else if (cp < 0x80 || goIsPrint(ch)) out += ch;
    else out += `\\u${cp.toString(16).toUpperCase().padStart(4, "0")}`;
  }
  return out;
}

/**
 * strings.ToUpper/ToLower: each rune by its own simple mapping, never by context. JS's full
 * mapping turns ß into SS and a word's last Σ into ς; a rune whose mapping is longer stays as it is,
 * but İ, whose simple lower case Go has as i.
 */
function simpleCase(s: string, to: "upper" | "lower"): string {
  let out = "";
  for (const ch of s) {
    if (to === "lower" && ch === "\u0130") {
      out += "i";
      continue;
    }
    const m = to === "upper" ? ch.toUpperCase() : ch.toLowerCase();
    out += m.length === ch.length ? m : ch;
  }
  return out;
}

function evalArgsString(args: unknown[]): string {
  // Go's html/js/urlquery: one string argument as it is, else fmt.Sprint of them all.
  if (args.length === 1 && typeof args[0] === "string") return args[0];
  return goSprint(args);
}

function goSprint(args: unknown[]): string {
  let out = "";
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== "string" && typeof args[i - 1] !== "string") out += " ";
    out += goPrint(a, true);
  });
  return out;
}

const BUILTINS: Record<string, GoFunc> = {
  and: Object.assign(
    fn(() => undefined, 1, 1),
    { lazy: true },
  ),
  or: Object.assign(
    fn(() => undefined, 1, 1),
    { lazy: true },
  ),
  not: fn((a) => !truth(a), 1),
  len: fn((a) => length(a), 1),
  index: fn((a, ...k) => index(a, ...k), 1, 1),
  slice: fn((a, ...k) => sliceOf(a, ...k), 1, 1),
  print: fn((...a) => goSprint(a), 0, 0),
  println: fn((...a) => `${a.map((x) => goPrint(x, true)).join(" ")}\n`, 0, 0),
  printf: fn((f, ...a) => goSprintf(wantString(f, 0), a), 1, 1),
  eq: fn((a, ...b) => eq(a, ...b), 1, 1),
  ne: fn((a, b) => !eq(a, b), 2),
  lt: fn((a, b) => lt(a, b), 2),
  le: fn((a, b) => lt(a, b) || eq(a, b), 2),
  gt: fn((a, b) => !(lt(a, b) || eq(a, b)), 2),
  ge: fn((a, b) => !lt(a, b), 2),
  html: fn((...a) => htmlEscape(evalArgsString(a)), 0, 0),
  js: fn((...a) => jsEscape(evalArgsString(a)), 0, 0),
  urlquery: fn(
    (...a) =>
      encodeURIComponent(evalArgsString(a))
        .replace(/%20/g, "+")
        .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    0,
    0,
  ),
  call: fn(
    (f) => {
      throw new CallError(`non-function of type ${goTypeName(f)}`);
    },
    1,
    1,
  ),
  // docker's (cli/templates): json, split, join, title, lower, upper, pad, truncate
  json: fn((v) => goJson(v), 1),
  split: fn((s, sep) => {
    const str = wantString(s, 0);
    const by = wantString(sep, 1);
    return by === "" ? [...str] : str.split(by);
  }, 2),
  join: fn((list, sep) => {
    const by = wantString(sep, 1);
    if (!Array.isArray(list) || !list.every((x) => typeof x === "string")) {
      throw new ArgError(`wrong type for value; expected []string; got ${rawTypeName(list)}`, 0);
    }
    return list.join(by);
  }, 2),
  title: fn((s) => title(wantString(s, 0)), 1),
  lower: fn((s) => simpleCase(wantString(s, 0), "lower"), 1),
  upper: fn((s) => simpleCase(wantString(s, 0), "upper"), 1),
  // docker's padWithSpace leaves an empty string empty.
  pad: fn((s, before, after) => {
    const str = wantString(s, 0);
    const b = wantInt(before, 1);
    const a = wantInt(after, 2);
    if (str === "") return "";
    return " ".repeat(Math.min(Math.max(0, b), 1 << 20)) + str + " ".repeat(Math.min(Math.max(0, a), 1 << 20));
  }, 3),
  truncate: fn((s, n) => {
    const chars = [...wantString(s, 0)];
    const l = wantInt(n, 1);
    return chars.length > l ? chars.slice(0, Math.max(0, l)).join("") : chars.join("");
  }, 2),
};

/** docker's header functions (a table's header row): each returns its first argument as it is. */
export const HEADER_FUNCS: Record<string, GoFunc> = {
  json: fn((v) => v, 1),
  split: fn((v) => v, 2),
  join: fn((v) => v, 2),
  title: fn((v) => v, 1),
  lower: fn((v) => v, 1),
  upper: fn((v) => v, 1),
  truncate: fn((v) => v, 2),
};

class Exec {
  readonly #parser: Parser;
  readonly #funcs: Record<string, GoFunc>;
  readonly #missingError: boolean;
  #out: string[] = [];
  #outLen = 0;
  #iterations = 0;
  #vars: { name: string; value: unknown }[] = [];
  #at: { pos: number; text: string } = { pos: 0, text: "" };

  constructor(parser: Parser, funcs: Record<string, GoFunc>, missingError: boolean) {
    this.#parser = parser;
    this.#funcs = funcs;
    this.#missingError = missingError;
  }

  run(root: Node, data: unknown): string {
    this.#vars = [{ name: "$", value: data }];
    this.#walk(data, root);
    return this.#out.join("");
  }

  #fail(msg: string): never {
    throw new ExecFailure(`template: ${this.#parser.context(this.#at.pos, this.#at.text)}: ${msg}`);
  }

  #atArg(a: Arg) {
    this.#at = { pos: a.pos, text: a.t === "pipe" ? argString(a) : argString(a) };
  }

  /** A value printed into the output; one nested too deep fails here, at this action. */
  #print(v: unknown) {
    try {
      this.#write(goPrint(v));
    } catch (e) {
      if (e instanceof ValueDepthError) this.#fail(e.message);
      throw e;
    }
  }

  #write(s: string) {
    this.#outLen += s.length;
    if (this.#outLen > MAX_OUTPUT_CHARS) this.#fail(`output longer than ${MAX_OUTPUT_CHARS} characters`);
    this.#out.push(s);
  }

  #walk(dot: unknown, node: Node): void {
    switch (node.t) {
      case "list":
        for (const n of node.nodes) this.#walk(dot, n);
        return;
      case "text":
        this.#write(node.text);
        return;
      case "action": {
        this.#at = { pos: node.pos, text: commandsText(node.pipe) };
        const v = this.#pipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.#print(v);
        return;
      }
      case "if":
      case "with": {
        const mark = this.#vars.length;
        const v = this.#pipeline(dot, node.pipe);
        if (truth(v)) this.#walk(node.t === "with" ? v : dot, node.list);
        else if (node.elseList) this.#walk(dot, node.elseList);
        this.#vars.length = mark;
        return;
      }
      case "range":
        this.#range(dot, node);
        return;
      case "break":
        throw BREAK;
      case "continue":
        throw CONTINUE;
      default:
        return;
    }
  }

  #range(dot: unknown, node: Control): void {
    const mark = this.#vars.length;
    const v = this.#pipeline(dot, node.pipe);
    const inner = this.#vars.length;
    const decl = node.pipe.decl;
    const one = (key: unknown, elem: unknown) => {
      if (++this.#iterations > MAX_ITERATIONS) this.#fail(`more than ${MAX_ITERATIONS} range iterations`);
      if (decl.length > 0) {
        if (node.pipe.isAssign) this.#setVar(decl[0]!, decl.length > 1 ? key : elem);
        else this.#vars[this.#vars.length - 1]!.value = elem;
      }
      if (decl.length > 1) {
        if (node.pipe.isAssign) this.#setVar(decl[1]!, elem);
        else this.#vars[this.#vars.length - 2]!.value = key;
      }
      try {
        this.#walk(elem, node.list);
      } catch (e) {
        if (e !== CONTINUE) throw e;
      } finally {
        this.#vars.length = inner;
      }
    };
    let ran = false;
    try {
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) one(i, v[i]);
        ran = v.length > 0;
      } else if (typeof v === "number" && Number.isInteger(v)) {
        if (decl.length > 1) this.#fail(`can't use ${v} to iterate over more than one variable`);
        for (let i = 0; i < v; i++) one(i, i);
        ran = v > 0;
      } else if (typeof v === "object" && v !== null && !isGoStruct(v)) {
        const keys = Object.keys(v).sort();
        for (const k of keys) one(k, (v as Record<string, unknown>)[k]);
        ran = keys.length > 0;
      } else if (!isNil(v)) {
        this.#fail(`range can't iterate over ${goPrint(v)}`);
      }
    } catch (e) {
      if (e !== BREAK) throw e;
      ran = true;
    }
    if (!ran && node.elseList) this.#walk(dot, node.elseList);
    this.#vars.length = mark;
  }

  #setVar(name: string, value: unknown) {
    for (let i = this.#vars.length - 1; i >= 0; i--) {
      if (this.#vars[i]!.name === name) {
        this.#vars[i]!.value = value;
        return;
      }
    }
    this.#fail(`undefined variable: ${name}`);
  }

  #varValue(name: string): unknown {
    for (let i = this.#vars.length - 1; i >= 0; i--) if (this.#vars[i]!.name === name) return this.#vars[i]!.value;
    this.#fail(`undefined variable: ${name}`);
  }

  #pipeline(dot: unknown, pipe: Pipe): unknown {
    let value: unknown = MISSING;
    for (const cmd of pipe.cmds) {
      value = this.#command(dot, cmd, value);
      // Go digs a nil interface down to "no value".
      if (value === null) value = NO_VALUE;
    }
    for (const name of pipe.decl) {
      if (pipe.isAssign) this.#setVar(name, value);
      else this.#vars.push({ name, value });
    }
    return value;
  }

  #command(dot: unknown, cmd: Command, final: unknown): unknown {
    const first = cmd.args[0]!;
    switch (first.t) {
      case "field":
        this.#atArg(first);
        return this.#fieldChain(dot, dot, first.ident, cmd.args, final);
      case "chain": {
        this.#atArg(first);
        if (first.node.t === "nil") this.#fail(`indirection through explicit nil in ${argString(first)}`);
        const base = this.#arg(dot, first.node);
        this.#atArg(first);
        return this.#fieldChain(dot, base, first.field, cmd.args, final);
      }
      case "identifier":
        return this.#function(dot, first, cmd.args, final);
      case "pipe":
        this.#notAFunction(cmd.args, final);
        return this.#pipeline(dot, first);
      case "variable": {
        this.#atArg(first);
        const v = this.#varValue(first.ident[0]!);
        if (first.ident.length === 1) {
          this.#notAFunction(cmd.args, final);
          return v;
        }
        return this.#fieldChain(dot, v, first.ident.slice(1), cmd.args, final);
      }
    }
    this.#atArg(first);
    this.#notAFunction(cmd.args, final);
    switch (first.t) {
      case "bool":
        return first.val;
      case "dot":
        return dot;
      case "nil":
        return this.#fail("nil is not a command");
      case "number":
        return first.val;
      case "string":
        return first.val;
    }
  }

  #notAFunction(args: Arg[], final: unknown) {
    if (args.length > 1 || final !== MISSING) this.#fail(`can't give argument to non-function ${argString(args[0]!)}`);
  }

  #fieldChain(dot: unknown, receiver: unknown, ident: string[], args: Arg[], final: unknown): unknown {
    let r = receiver;
    let inStruct = false;
    for (let i = 0; i < ident.length - 1; i++) {
      const next = this.#field(dot, ident[i]!, [], MISSING, r, inStruct);
      inStruct = isGoStruct(r);
      r = next;
    }
    return this.#field(dot, ident[ident.length - 1]!, args, final, r, inStruct);
  }

  /** Go's evalField. `inStruct`: the receiver is a struct's field (typed), not a map's value (interface {}). */
  #field(dot: unknown, name: string, args: Arg[], final: unknown, receiver: unknown, inStruct: boolean): unknown {
    if (receiver === NO_VALUE || receiver === MISSING) {
      if (this.#missingError) this.#fail(`nil data; no entry for key ${JSON.stringify(name)}`);
      return NO_VALUE;
    }
    if (receiver === null) this.#fail(`nil pointer evaluating interface {}.${name}`);
    const hasArgs = args.length > 1 || final !== MISSING;
    if (typeof receiver === "object" && !Array.isArray(receiver)) {
      const obj = receiver as Record<string, unknown>;
      const own = Object.hasOwn(obj, name) || (isGoStruct(obj) && name in obj);
      const v = own ? obj[name] : undefined;
      if (typeof v === "function") {
        const method = (...a: unknown[]) => (v as (...x: unknown[]) => unknown).apply(obj, a);
        return this.#call(dot, fn(method, v.length), name, args, final, false, this.#at);
      }
      if (isGoStruct(obj)) {
        if (own) {
          if (hasArgs) this.#fail(`${name} has arguments but cannot be invoked as function`);
          return v;
        }
        this.#fail(`can't evaluate field ${name} in type ${goTypeName(obj)}`);
      }
      if (hasArgs) this.#fail(`${name} is not a method but has arguments`);
      if (!own) {
        if (this.#missingError) this.#fail(`map has no entry for key ${JSON.stringify(name)}`);
        return NO_VALUE;
      }
      return v;
    }
    this.#fail(`can't evaluate field ${name} in type ${inStruct ? goTypeName(receiver) : "interface {}"}`);
  }

  #function(dot: unknown, id: Extract<Arg, { t: "identifier" }>, args: Arg[], final: unknown): unknown {
    this.#atArg(id);
    const f = this.#funcs[id.name];
    if (!f) this.#fail(`${JSON.stringify(id.name)} is not a defined function`);
    const cmdAt = { pos: args[0]!.pos, text: commandString({ t: "command", pos: args[0]!.pos, args }) };
    return this.#call(dot, f, id.name, args, final, true, cmdAt);
  }

  /** Go's evalCall: arity, and/or's short circuit, the arguments, the call; errors at `callAt`. */
  #call(
    dot: unknown,
    f: GoFunc,
    name: string,
    argNodes: Arg[],
    final: unknown,
    builtin: boolean,
    callAt: { pos: number; text: string },
  ): unknown {
    const args = argNodes.slice(1);
    const numIn = args.length + (final !== MISSING ? 1 : 0);
    const arity = f.arity ?? f.length;
    if (f.variadicFrom !== undefined) {
      if (numIn < f.variadicFrom) {
        this.#fail(`wrong number of args for ${name}: want at least ${f.variadicFrom} got ${args.length}`);
      }
    } else if (numIn !== arity) this.#fail(`wrong number of args for ${name}: want ${arity} got ${numIn}`);
    if (builtin && f.lazy && (name === "and" || name === "or")) {
      let v: unknown = NO_VALUE;
      for (const a of args) {
        v = this.#arg(dot, a);
        if (truth(v) === (name === "or")) return v;
      }
      return final !== MISSING ? final : v;
    }
    const values = args.map((a) => this.#arg(dot, a));
    if (final !== MISSING) values.push(final);
    let result: unknown;
    try {
      result = f(...values);
    } catch (e) {
      if (e instanceof ExecFailure) throw e;
      if (e instanceof ArgError) {
        const a = args[e.argIndex];
        if (a) this.#atArg(a);
        // A literal of the wrong kind is reported as Go's evalArg reports it.
        const literal = a && (a.t === "number" || a.t === "string" || a.t === "bool" || a.t === "nil");
        if (literal) {
          const want = e.message.includes("expected string") ? "string" : "integer";
          this.#fail(`expected ${want}; found ${argString(a)}`);
        }
        this.#fail(e.message);
      }
      this.#at = callAt;
      this.#fail(`error calling ${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
    // A value kept in a variable is never written, so the output bound does not see it: a string
    // doubled in a range ({{$x = print $x $x}}) would grow until the heap ran out.
    if ((typeof result === "string" || Array.isArray(result)) && result.length > MAX_OUTPUT_CHARS) {
      this.#at = callAt;
      this.#fail(`error calling ${name}: result longer than ${MAX_OUTPUT_CHARS}`);
    }
    return result;
  }

  #arg(dot: unknown, a: Arg): unknown {
    this.#atArg(a);
    switch (a.t) {
      case "dot":
        return dot;
      case "nil":
        return null;
      case "field":
        return this.#fieldChain(dot, dot, a.ident, [a], MISSING);
      case "variable": {
        const v = this.#varValue(a.ident[0]!);
        return a.ident.length === 1 ? v : this.#fieldChain(dot, v, a.ident.slice(1), [a], MISSING);
      }
      case "pipe":
        return this.#pipeline(dot, a);
      case "identifier":
        return this.#call(dot, this.#funcs[a.name]!, a.name, [a], MISSING, true, this.#at);
      case "chain": {
        const base = this.#arg(dot, a.node);
        return this.#fieldChain(dot, base, a.field, [a], MISSING);
      }
      case "bool":
      case "number":
      case "string":
        return a.val;
    }
  }
}

function commandsText(p: Pipe): string {
  return argString(p);
}

/**
 * Parses `src` once; the function it returns executes it for one value. Throws TemplateError
 * ("template: :1: ..." in Go's words) for a template that does not parse, and the function throws
 * it for one that fails while executing.
 */
export function compileTemplate(src: string, opts: TemplateOptions = {}): (data: unknown) => string {
  if (Buffer.byteLength(src) > MAX_TEMPLATE_BYTES) {
    throw new TemplateError("parse", `template: : longer than ${MAX_TEMPLATE_BYTES} bytes`);
  }
  const funcs = { ...BUILTINS, ...opts.funcs };
  const parser = new Parser(src, new Set(Object.keys(funcs)));
  let root: Node;
  try {
    root = parser.parse();
  } catch (e) {
    if (e instanceof ParseFailure) throw new TemplateError("parse", e.message);
    throw e;
  }
  const missingError = opts.missingKey === "error";
  return (data: unknown) => {
    try {
      return new Exec(parser, funcs, missingError).run(root, data);
    } catch (e) {
      if (e instanceof ExecFailure) throw new TemplateError("exec", e.message);
      throw e;
    }
  };
}
