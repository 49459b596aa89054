// Values as Go's fmt and encoding/json show them, for the template engine (template.ts). The
// values are JSON values (the Engine API's answers) and docker's Go structs stood in for by
// objects marked with GO_TYPE. What Go's types would tell and JSON does not, a few rules guess:
// - integral numbers print as integers (docker's typed fields are ints; its raw fallback decodes
//   numbers with UseNumber, also printing their text);
// - an object whose keys all look like Go's exported field names (Status, HostIp) stands for a
//   struct: printed `{v1 v2}` and encoded in its own key order; any other object is a map:
//   printed `map[k:v]` and encoded with its keys sorted, as Go does.

/** Go's invalid value: a missing map key, printed "<no value>". */
import { goQuote } from "../flags/go-quote.ts";

export const NO_VALUE: unique symbol = Symbol("no value");
/** The Go type name of an object that stands for a struct (a ps row: "*formatter.ContainerContext"). */
export const GO_TYPE: unique symbol = Symbol.for("berth.goType");

export function isNil(v: unknown): boolean {
  return v === null || v === undefined || v === NO_VALUE;
}

/** An object marked as one of docker's Go structs (fields and methods, never a map). */
export function isGoStruct(v: unknown): boolean {
  return typeof v === "object" && v !== null && GO_TYPE in v;
}

const EXPORTED = /^[A-Z][A-Za-z0-9]*$/;

/** A struct (by GO_TYPE or by its keys), not a map. */
function structLike(o: object): boolean {
  if (GO_TYPE in o) return true;
  const keys = Object.keys(o);
  return keys.length > 0 && keys.every((k) => EXPORTED.test(k));
}

/** Go's text/template truth: zero values and empty things are false; structs always true. */
export function truth(v: unknown): boolean {
  if (isNil(v)) return false;
  switch (typeof v) {
    case "boolean":
      return v;
    case "number":
      return v !== 0;
    case "string":
      return v.length > 0;
    case "function":
      return true;
    case "object":
      if (Array.isArray(v)) return v.length > 0;
      return isGoStruct(v) || Object.keys(v as object).length > 0;
    default:
      return false;
  }
}

/** The Go type a value would have after encoding/json decoded it (docker's raw inspect view). */
export function goTypeName(v: unknown): string {
  if (isNil(v)) return "<nil>";
  switch (typeof v) {
    case "string":
      return "string";
    case "number":
      return Number.isInteger(v) ? "int" : "float64";
    case "boolean":
      return "bool";
    case "object":
      if (Array.isArray(v)) return "[]interface {}";
      if (GO_TYPE in (v as object)) return String((v as Record<symbol, unknown>)[GO_TYPE]);
      return "map[string]interface {}";
    default:
      return "func()";
  }
}

/**
 * Go's %v of a number: integral ones as ints (docker's typed fields), others as a float64 does
 * (strconv 'g', shortest: an exponent from 1e6 on or below 1e-4).
 */
export function goFloat(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "+Inf" : "-Inf";
  if (Number.isInteger(x) && Math.abs(x) < 1e21) return Object.is(x, -0) ? "-0" : String(x);
  const [mant, expText] = x.toExponential().split("e") as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) return `${mant}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  return String(x);
}

function printNumber(x: number): string {
  return goFloat(x);
}

/** Values nest at most this deep when printed or encoded (a daemon's answer is not trusted). */
export const MAX_VALUE_DEPTH = 1000;

/** A value nested deeper than MAX_VALUE_DEPTH: the template's execution fails with it. */
export class ValueDepthError extends Error {}

function deeper(depth: number): number {
  if (depth >= MAX_VALUE_DEPTH) throw new ValueDepthError(`value nested deeper than ${MAX_VALUE_DEPTH}`);
  return depth + 1;
}

/** fmt's %v of a value inside something (nil is "<nil>"). */
function fmtValue(v: unknown, depth = 0): string {
  if (isNil(v)) return "<nil>";
  switch (typeof v) {
    case "string":
      return v;
    case "number":
      return printNumber(v);
    case "boolean":
      return String(v);
    case "object": {
      const d = deeper(depth);
      if (Array.isArray(v)) return `[${v.map((e) => fmtValue(e, d)).join(" ")}]`;
      const o = v as Record<string, unknown>;
      if (structLike(o)) {
        const values = Object.values(o).filter((x) => typeof x !== "function");
        return `{${values.map((e) => fmtValue(e, d)).join(" ")}}`;
      }
      const keys = Object.keys(o).sort();
      return `map[${keys.map((k) => `${k}:${fmtValue(o[k], d)}`).join(" ")}]`;
    }
    default:
      return typeof v === "function" ? "<func>" : String(v);
  }
}

/**
 * A value as text/template prints an action's result: "<no value>" for nothing at all (a missing
 * key, a JSON null); inside print/printf (`fmt`), nil is "<nil>".
 */
export function goPrint(v: unknown, fmt = false): string {
  if (isNil(v)) return fmt ? "<nil>" : "<no value>";
  return fmtValue(v);
}

/** encoding/json's number: shortest, an exponent outside [1e-6, 1e21), two exponent digits at least. */
function jsonNumber(x: number): string {
  if (!Number.isFinite(x)) return "null";
  const s = String(x);
  return s.replace(/e([+-])(\d)$/, "e$10$2");
}

const HTML_ESCAPES: Record<string, string> = { "<": "\\u003c", ">": "\\u003e", "&": "\\u0026" };

/**
 * docker's `json` template function: encoding/json with HTML escaping off, no trailing newline.
 * An object with toJSON (docker's formatter contexts, whose MarshalJSON uses json.Marshal) is
 * encoded from what toJSON gives, with HTML escaping on, as theirs is.
 */
export function goJson(v: unknown, escapeHTML = false, depth = 0): string {
  if (isNil(v)) return "null";
  switch (typeof v) {
    case "string": {
      const s = JSON.stringify(v).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
      return escapeHTML ? s.replace(/[<>&]/g, (c) => HTML_ESCAPES[c]!) : s;
    }
    case "number":
      return jsonNumber(v);
    case "boolean":
      return String(v);
    case "object": {
      const d = deeper(depth);
      if (Array.isArray(v)) return `[${v.map((e) => goJson(e, escapeHTML, d)).join(",")}]`;
      const o = v as Record<string, unknown> & { toJSON?: () => unknown };
      if (typeof o.toJSON === "function") return goJson(o.toJSON(), true, d);
      const keys = Object.keys(o).filter((k) => typeof o[k] !== "function");
      if (!structLike(o)) keys.sort();
      return `{${keys.map((k) => `${goJson(k, escapeHTML)}:${goJson(o[k], escapeHTML, d)}`).join(",")}}`;
    }
    default:
      return "null";
  }
}

/** An object's keys sorted, as encoding/json writes a map (docker's contexts marshal one). */
export function sortedKeys(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k];
  return out;
}

// ---------------------------------------------------------------------------------------------
// fmt.Sprintf, for the verbs --format templates use

interface Spec {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width?: number;
  prec?: number;
}

function pad(s: string, spec: Spec, numeric = false): string {
  const w = spec.width ?? 0;
  const len = [...s].length;
  if (len >= w) return s;
  if (spec.minus) return s + " ".repeat(w - len);
  if (spec.zero && numeric) {
    const sign = /^[+-]/.test(s) ? s[0]! : "";
    return sign + "0".repeat(w - len) + s.slice(sign.length);
  }
  return " ".repeat(w - len) + s;
}

function badVerb(verb: string, v: unknown): string {
  if (isNil(v)) return `%!${verb}(<nil>)`;
  return `%!${verb}(${goTypeName(v)}=${fmtValue(v)})`;
}

function signed(s: string, x: number, spec: Spec): string {
  if (x >= 0 && !Object.is(x, -0)) {
    if (spec.plus) return `+${s}`;
    if (spec.space) return ` ${s}`;
  }
  return s;
}

function fmtInt(x: number, verb: string, spec: Spec): string | undefined {
  const neg = x < 0;
  const a = BigInt(Math.abs(x));
  let digits: string;
  switch (verb) {
    case "d":
    case "v":
      digits = a.toString(10);
      break;
    case "b":
      digits = a.toString(2);
      break;
    case "o":
      digits = (spec.sharp ? "0" : "") + a.toString(8);
      break;
    case "O":
      digits = `0o${a.toString(8)}`;
      break;
    case "x":
      digits = (spec.sharp ? "0x" : "") + a.toString(16);
      break;
    case "X":
      digits = (spec.sharp ? "0X" : "") + a.toString(16).toUpperCase();
      break;
    case "c":
      return String.fromCodePoint(x);
    case "q":
      return `'${String.fromCodePoint(x)}'`;
    case "U":
      return `U+${a.toString(16).toUpperCase().padStart(4, "0")}`;
    default:
      return undefined;
  }
  if (spec.prec !== undefined) digits = digits.padStart(spec.prec, "0");
  return signed(neg ? `-${digits}` : digits, x, spec);
}

function fmtFloat(x: number, verb: string, spec: Spec): string | undefined {
  let s: string;
  switch (verb) {
    case "v":
    case "g":
    case "G":
      s = spec.prec === undefined ? goFloat(x) : gPrec(x, spec.prec);
      if (verb === "G") s = s.toUpperCase();
      break;
    case "f":
    case "F":
      s = x.toFixed(spec.prec ?? 6);
      break;
    case "e":
    case "E": {
      const [m, e] = x.toExponential(spec.prec ?? 6).split("e") as [string, string];
      const n = Number(e);
      s = `${m}e${n < 0 ? "-" : "+"}${String(Math.abs(n)).padStart(2, "0")}`;
      if (verb === "E") s = s.toUpperCase();
      break;
    }
    default:
      return undefined;
  }
  return signed(s, x, spec);
}

function gPrec(x: number, prec: number): string {
  const p = prec === 0 ? 1 : prec;
  const [m, e] = x.toExponential(p - 1).split("e") as [string, string];
  const exp = Number(e);
  if (exp < -4 || exp >= p) {
    const mant = m.includes(".") ? m.replace(/0+$/, "").replace(/\.$/, "") : m;
    return `${mant}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  const f = x.toFixed(Math.max(0, p - 1 - exp));
  return f.includes(".") ? f.replace(/0+$/, "").replace(/\.$/, "") : f;
}

/** One verb applied to one value (slices and maps: to each element, as fmt does). */
function fmtOne(v: unknown, verb: string, spec: Spec): string {
  if (verb === "T") return pad(isNil(v) ? "<nil>" : goTypeName(v), spec);
  if (verb === "v" && isNil(v)) return pad("<nil>", spec);
  if (isNil(v)) return badVerb(verb, v);
  if (Array.isArray(v) && verb !== "T") {
    if (verb === "s" || verb === "v" || verb === "d" || verb === "q" || verb === "x" || verb === "X") {
      if ((verb === "x" || verb === "X") && v.every((e) => typeof e === "string")) {
        return pad(v.map((e) => hexOf(e, verb)).join(""), spec);
      }
      return pad(`[${v.map((e) => fmtOne(e, verb, { ...spec, width: undefined })).join(" ")}]`, spec);
    }
  }
  switch (typeof v) {
    case "string": {
      const text = spec.prec !== undefined ? [...v].slice(0, spec.prec).join("") : v;
      if (verb === "s" || verb === "v") return pad(text, spec);
      if (verb === "q") return pad(goQuote(text), spec);
      if (verb === "x" || verb === "X") return pad(hexOf(text, verb), spec);
      return badVerb(verb, v);
    }
    case "boolean":
      if (verb === "t" || verb === "v") return pad(String(v), spec);
      return badVerb(verb, v);
    case "number": {
      const s = Number.isInteger(v) && !"eEfFgG".includes(verb) ? fmtInt(v, verb, spec) : fmtFloat(v, verb, spec);
      if (s === undefined) return badVerb(verb, v);
      return pad(s, spec, !"cqU".includes(verb));
    }
    case "object": {
      if (verb !== "v" && verb !== "s") return badVerb(verb, v);
      return pad(fmtValue(v), spec);
    }
    default:
      return badVerb(verb, v);
  }
}

function hexOf(s: string, verb: string): string {
  const h = Buffer.from(s).toString("hex");
  return verb === "X" ? h.toUpperCase() : h;
}

/** fmt.Sprintf for the usual verbs (%s %v %d %q %x %X %o %b %c %U %t %f %e %g %T %%), flags and widths. */
export function goSprintf(format: string, args: readonly unknown[]): string {
  let out = "";
  let argi = 0;
  let i = 0;
  while (i < format.length) {
    const c = format[i]!;
    if (c !== "%") {
      out += c;
      i++;
      continue;
    }
    i++;
    const spec: Spec = { minus: false, plus: false, sharp: false, space: false, zero: false };
    for (; i < format.length; i++) {
      const f = format[i];
      if (f === "-") spec.minus = true;
      else if (f === "+") spec.plus = true;
      else if (f === "#") spec.sharp = true;
      else if (f === " ") spec.space = true;
      else if (f === "0") spec.zero = true;
      else break;
    }
    const num = (): number | undefined => {
      if (format[i] === "*") {
        i++;
        const a = args[argi++];
        return typeof a === "number" && Number.isInteger(a) ? Math.min(a, 1 << 20) : undefined;
      }
      let s = "";
      while (format[i] !== undefined && format[i]! >= "0" && format[i]! <= "9") s += format[i++];
      return s ? Math.min(Number(s), 1 << 20) : undefined;
    };
    spec.width = num();
    if (spec.width !== undefined && spec.width < 0) {
      spec.minus = true;
      spec.width = -spec.width;
    }
    if (format[i] === ".") {
      i++;
      spec.prec = num() ?? 0;
    }
    const verb = format[i];
    if (verb === undefined) {
      out += "%!(NOVERB)";
      break;
    }
    i++;
    if (verb === "%") {
      out += "%";
      continue;
    }
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    out += fmtOne(args[argi++], verb, spec);
  }
  if (argi < args.length) {
    const extra = args.slice(argi).map((a) => (isNil(a) ? "<nil>" : `${goTypeName(a)}=${fmtValue(a)}`));
    out += `%!(EXTRA ${extra.join(", ")})`;
  }
  return out;
}
