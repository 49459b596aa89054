// containerd's filter language, as List requests and event subscriptions carry it.
//
// A filter string is a comma-separated AND of selectors; a list of filter strings is an OR of them
// (no strings, or an empty string, matches everything). A selector is
//
//   fieldpath [operator value]
//
// - fieldpath: fields joined by "."; a field is a run of [A-Za-z0-9_] or a double-quoted string
//   (`labels."io.cri.name"`). Alone, a fieldpath asks that the field be present.
// - operator: == (present and equal), != (not equal; an absent field counts as ""), ~= (regular
//   expression; an absent field is tested as "").
// - value: everything up to the next "," or blank, or a quoted string. Quotes are Go-style
//   "double quotes" (escapes \a \b \f \n \r \t \v \\ \" \ooo \xhh \uhhhh \Uhhhhhhhh); after ~=
//   also /slashes/ or |pipes|, handy for regular expressions. A value starting with / or | must
//   therefore be double-quoted after == or !=, as in containerd.
// - regular expressions are Go's (RE2) syntax and run on re2js, RE2's engine: matching takes time
//   linear in the input whatever the pattern, so no client's pattern can hold the event loop. A
//   JavaScript RegExp backtracks (`^(a+)+$` against 34 "a"s and a "!" took 84 s).
//
// Blanks may stand before a field, an operator or a value, but not after a value (containerd
// refuses `a==b ,c` and a trailing blank, and so do we). Syntax errors are InvalidArgumentErrors
// whose message points at the offending character the way containerd's do.
import { RE2JS } from "re2js";
import { InvalidArgumentError } from "../../common/errors.ts";
import { goUnquote } from "../../common/go-unquote.ts";

/**
 * Looks a field path up on a candidate. undefined means absent. Following containerd's adaptors,
 * a scalar field is absent when empty, and a label is present whenever its key is set.
 */
export type Adaptor = (fieldPath: string[]) => string | undefined;
export type Matcher = (adaptor: Adaptor) => boolean;

type Operator = "present" | "==" | "!=" | "~=";

interface Selector {
  path: string[];
  op: Operator;
  value: string;
  re: RE2JS | undefined;
}

// ---------------------------------------------------------------------------------------------
// Scanner: splits a filter into fields, separators ("," and "."), operators, values and quoted
// strings. After an operator it reads the next bare word as a value (which may hold any
// character but "," and blanks).

type TokenKind = "eof" | "field" | "value" | "quoted" | "separator" | "operator" | "illegal" | "other";

interface Token {
  kind: TokenKind;
  pos: number;
  text: string;
}

const isFieldChar = (c: string) => /^[A-Za-z0-9_]$/.test(c);
const isBlank = (c: string) => /^\s$/u.test(c);
// Go's unicode.IsGraphic, less blanks: what a bare value may hold besides commas.
const isValueChar = (c: string) => c !== "," && !isBlank(c) && /^[^\p{C}]$/u.test(c);
const isQuote = (c: string) => c === '"' || c === "/" || c === "|";
const isOperatorChar = (c: string) => c === "=" || c === "!" || c === "~";

class Scanner {
  pos = 0;
  /** The next bare word is a value (set after an operator). */
  wantValue = false;
  error = "";

  readonly input: string;

  constructor(input: string) {
    this.input = input;
  }

  /** The character at `pos` ("" at the end); code points, so astral characters stay whole. */
  peek(at = this.pos): string {
    if (at >= this.input.length) return "";
    return String.fromCodePoint(this.input.codePointAt(at)!);
  }

  private advance(): string {
    const c = this.peek();
    this.pos += c.length;
    return c;
  }

  scan(): Token {
    while (isBlank(this.peek())) this.advance();
    const start = this.pos;
    const c = this.advance();
    const tok = (kind: TokenKind): Token => ({ kind, pos: start, text: this.input.slice(start, this.pos) });
    if (c === "") return tok("eof");
    if (c === "\0") {
      this.error = "unexpected null";
      return tok("illegal");
    }
    if (isQuote(c)) return this.scanQuoted(c) ? tok("quoted") : tok("illegal");
    if (c === "," || c === ".") {
      this.wantValue = false;
      return tok("separator");
    }
    if (isOperatorChar(c)) {
      while (isOperatorChar(this.peek())) this.advance();
      this.wantValue = true;
      return tok("operator");
    }
    if (this.wantValue) {
      while (isValueChar(this.peek())) this.advance();
      this.wantValue = false;
      return tok("value");
    }
    if (isFieldChar(c)) {
      while (isFieldChar(this.peek())) this.advance();
      return tok("field");
    }
    return tok("other");
  }

  /** Reads up to the closing quote, checking escapes; false (with `error` set) when malformed. */
  private scanQuoted(quote: string): boolean {
    let ok = true;
    for (;;) {
      const c = this.advance();
      if (c === quote) return ok;
      if (c === "" || c === "\n") {
        this.error = "quoted literal not terminated";
        return false;
      }
      if (c === "\\") ok = this.scanEscape(quote) && ok;
    }
  }

  private scanEscape(quote: string): boolean {
    const c = this.advance();
    const digits = (n: number, base: number) => {
      for (let i = 0; i < n; i++) {
        const d = this.peek();
        if (d === "" || Number.isNaN(Number.parseInt(d, base))) {
          this.error ||= "illegal numeric escape sequence";
          return false;
        }
        this.advance();
      }
      return true;
    };
    if ((c !== "" && "abfnrtv\\".includes(c)) || c === quote) return true;
    if (c >= "0" && c <= "7") return digits(2, 8);
    if (c === "x") return digits(2, 16);
    if (c === "u") return digits(4, 16);
    if (c === "U") return digits(8, 16);
    this.error ||= "illegal escape sequence";
    // Step back so an unterminated literal is still reported as such.
    if (c === "" || c === "\n") this.pos -= c.length;
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Parser

class Parser {
  private readonly input: string;
  private readonly sc: Scanner;

  constructor(input: string) {
    this.input = input;
    this.sc = new Scanner(input);
  }

  private fail(pos: number, msg: string): never {
    const s = this.input;
    const where = pos < s.length ? `[${s.slice(0, pos)} >|${s[pos]}|< ${s.slice(pos + 1)}]` : `[${s}]`;
    throw new InvalidArgumentError(`filters: parse error: ${where}: ${msg}: invalid argument`);
  }

  private quoted(tok: Token, altQuotesAllowed: boolean): string {
    if (!altQuotesAllowed && tok.text[0] !== '"') this.fail(tok.pos, "invalid quote encountered");
    // Go's strconv.Unquote with "/" and "|" as further quotes (common/go-unquote.ts).
    return goUnquote(tok.text) ?? this.fail(tok.pos, "unquoting failed: quote syntax error");
  }

  parse(): Selector[] {
    const out = [this.selector()];
    for (;;) {
      const c = this.sc.peek();
      if (c === "") return out;
      if (c !== ",") this.fail(this.sc.pos, `unexpected input: ${c}`);
      this.sc.scan();
      out.push(this.selector());
    }
  }

  private selector(): Selector {
    const path = this.fieldPath();
    const next = this.sc.peek();
    if (next === "," || next === "") return { path, op: "present", value: "", re: undefined };
    const opTok = this.sc.scan();
    if (opTok.kind === "illegal") this.fail(opTok.pos, this.sc.error);
    if (opTok.kind !== "operator") this.fail(opTok.pos, 'expected an operator ("=="|"!="|"~=")');
    if (opTok.text !== "==" && opTok.text !== "!=" && opTok.text !== "~=") {
      this.fail(opTok.pos, `unsupported operator ${JSON.stringify(opTok.text)}`);
    }
    const op = opTok.text;
    const v = this.sc.scan();
    let value: string;
    if (v.kind === "value" || v.kind === "field") value = v.text;
    else if (v.kind === "quoted") value = this.quoted(v, op === "~=");
    else if (v.kind === "illegal") this.fail(v.pos, this.sc.error);
    else if (v.kind === "eof") this.fail(v.pos, "unexpected end of filter: expected a value");
    else this.fail(v.pos, "expected value or quoted");
    return {
      path,
      op,
      value,
      re: op === "~=" ? compileRegexp(value, (why) => this.fail(v.pos, why)) : undefined,
    };
  }

  private fieldPath(): string[] {
    const path = [this.field()];
    while (this.sc.peek() === ".") {
      this.sc.scan();
      path.push(this.field());
    }
    return path;
  }

  private field(): string {
    const tok = this.sc.scan();
    if (tok.kind === "field") return tok.text;
    if (tok.kind === "quoted") return this.quoted(tok, false);
    if (tok.kind === "illegal") this.fail(tok.pos, this.sc.error);
    return this.fail(tok.pos, "expected field or quoted");
  }
}

/**
 * Longest `~=` pattern, in bytes. containerd sets none (its gRPC message limit is the bound); a
 * filter's pattern selects names or labels, and 1 KiB holds any such pattern with room to spare.
 */
export const MAX_REGEXP_LENGTH = 1024;
/**
 * Largest compiled pattern, in RE2 instructions. Matching is linear in the input, but each input
 * character may step every instruction: `(?:a?){1000}a{1000}` (3002 instructions, which Go
 * accepts) takes about a second per 4 KiB label here. A pattern written out without counted
 * repetition compiles to about one instruction per byte, so MAX_REGEXP_LENGTH plus some slack
 * refuses only what `{n}` multiplied; the worst then costs tens of milliseconds per 4 KiB value.
 */
export const MAX_REGEXP_INSTRUCTIONS = 1200;

/** A Go (RE2) regular expression on RE2's engine; `fail` gets why it is refused. */
function compileRegexp(src: string, fail: (why: string) => never): RE2JS {
  const bytes = Buffer.byteLength(src);
  if (bytes > MAX_REGEXP_LENGTH) return fail(`regexp of ${bytes} bytes is longer than ${MAX_REGEXP_LENGTH} bytes`);
  let re: RE2JS;
  try {
    re = RE2JS.compile(src);
  } catch (err) {
    // re2js words its syntax errors as Go does ("error parsing regexp: missing closing ): `(`").
    return fail(`invalid regexp: ${(err as Error).message}`);
  }
  const size = re.re2Input.numberOfInstructions();
  if (size > MAX_REGEXP_INSTRUCTIONS) {
    return fail(`regexp compiles to ${size} instructions, more than ${MAX_REGEXP_INSTRUCTIONS}`);
  }
  return re;
}

function matches(sel: Selector, adaptor: Adaptor): boolean {
  const v = adaptor(sel.path);
  switch (sel.op) {
    case "present":
      return v !== undefined;
    case "==":
      return v !== undefined && v === sel.value;
    case "!=":
      return (v ?? "") !== sel.value;
    case "~=":
      return sel.re!.test(v ?? "");
  }
}

/** Parses one filter string (an AND of selectors). "" matches everything. */
export function parseFilter(filter: string): Matcher {
  if (filter === "") return () => true;
  const selectors = new Parser(filter).parse();
  return (adaptor) => selectors.every((sel) => matches(sel, adaptor));
}

/** Parses filter strings into one matcher: true when any of them matches (none: always true). */
export function parseFilters(filters: readonly string[]): Matcher {
  if (filters.length === 0) return () => true;
  const alternatives = filters.map(parseFilter);
  return (adaptor) => alternatives.some((m) => m(adaptor));
}

/**
 * An adaptor over a flat record of scalar fields plus a labels map, the shape of most containerd
 * objects: `name` looks up fields["name"] (absent when undefined or ""), `labels.a.b` looks up
 * label "a.b" (present whenever set, even to ""). Dotted paths other than labels look up the
 * joined key, so nested fields can be given as fields["runtime.name"].
 */
export function recordAdaptor(
  fields: Record<string, string | undefined>,
  labels: Record<string, string> = {},
): Adaptor {
  return (path) => {
    if (path.length === 0) return undefined;
    if (path[0] === "labels") return labelLookup(labels, path.slice(1));
    const v = fields[path.join(".")];
    return v === undefined || v === "" ? undefined : v;
  };
}

/** containerd's label lookup: the rest of the path joined with "." names the key. */
export function labelLookup(labels: Record<string, string>, rest: string[]): string | undefined {
  const key = rest.join(".");
  return Object.hasOwn(labels, key) ? labels[key] : undefined;
}
