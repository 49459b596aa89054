// The route table: method + path pattern → handler, as dockerd's router matches. Every path is
// served with and without a version prefix (`/v1.41/containers/json` and `/containers/json`);
// `{name}` takes one path segment, `{name:*}` the rest of the path (image names hold slashes).
// A path that is not clean (`//`, `/./`, `/../`) is redirected to its clean form with 301, as
// dockerd's router does, and a parameter that decodes to `..` (or, for `{name}`, to a value
// with a slash) matches nothing, so `..` never reaches a handler as a name. An unknown path and a known
// path asked with another method are both "page not found": dockerd answers no 405.
import { InvalidArgumentError } from "../../common/errors.ts";

export type RouteResult<H> =
  | { kind: "match"; handler: H; params: Record<string, string>; version: string | undefined; pattern: string }
  | { kind: "redirect"; location: string }
  | { kind: "not-found" };

interface Route<H> {
  method: string;
  pattern: string;
  regex: RegExp;
  names: string[];
  /** Per name: true for `{name}` (one segment), false for `{name:*}`. */
  oneSegment: boolean[];
  handler: H;
}

/** `/v<digits and dots>` then the path: dockerd's `/v{version:[0-9.]+}` prefix. */
const VERSIONED = /^\/v([0-9.]+)(\/.*)$/;

export class Router<H> {
  readonly #routes: Route<H>[] = [];

  /** Adds a route; a pattern registered twice for one method is a programming error. */
  add(method: string, pattern: string, handler: H): this {
    const { regex, names, oneSegment } = compilePattern(pattern);
    if (this.#routes.some((r) => r.method === method && r.pattern === pattern)) {
      throw new Error(`route ${method} ${pattern} registered twice`);
    }
    this.#routes.push({ method, pattern, regex, names, oneSegment, handler });
    return this;
  }

  /** The route for a request's method and raw path (without the query). */
  match(method: string, rawPath: string): RouteResult<H> {
    const clean = cleanPath(rawPath);
    if (clean !== rawPath) return { kind: "redirect", location: clean };
    const v = VERSIONED.exec(rawPath);
    const candidates: [string | undefined, string][] = v ? [[v[1], v[2]!]] : [];
    // `/v1.41` could also be a plain path; dockerd tries the versioned form first.
    candidates.push([undefined, rawPath]);
    for (const [version, path] of candidates) {
      for (const route of this.#routes) {
        if (route.method !== method) continue;
        const m = route.regex.exec(path);
        if (!m) continue;
        const params = decodeParams(route, m);
        if (!params) continue;
        return { kind: "match", handler: route.handler, params, version, pattern: route.pattern };
      }
    }
    return { kind: "not-found" };
  }
}

function compilePattern(pattern: string): { regex: RegExp; names: string[]; oneSegment: boolean[] } {
  if (!pattern.startsWith("/")) throw new Error(`route pattern ${pattern} must start with /`);
  const names: string[] = [];
  const oneSegment: boolean[] = [];
  let source = "";
  let rest = pattern;
  for (;;) {
    const open = rest.indexOf("{");
    if (open < 0) break;
    const close = rest.indexOf("}", open);
    if (close < 0) throw new Error(`route pattern ${pattern}: unclosed {`);
    source += escapeRegex(rest.slice(0, open));
    const [name, kind] = rest.slice(open + 1, close).split(":");
    if (!name || !/^\w+$/.test(name) || names.includes(name)) throw new Error(`route pattern ${pattern}: bad name`);
    names.push(name);
    oneSegment.push(kind !== "*");
    source += kind === "*" ? "(.+)" : "([^/]+)";
    rest = rest.slice(close + 1);
  }
  source += escapeRegex(rest);
  return { regex: new RegExp(`^${source}$`), names, oneSegment };
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The route's parameters, percent-decoded; undefined when a decoded value is not what the
 * pattern stands for: a one-segment parameter holding a slash (`%2F`), or any `.` or `..`
 * segment (`%2e%2e`), which dockerd's router, decoding before it cleans, never lets through.
 */
function decodeParams<H>(route: Route<H>, m: RegExpExecArray): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (const [i, name] of route.names.entries()) {
    const value = decodeParam(m[i + 1]!);
    if (route.oneSegment[i] && value.includes("/")) return undefined;
    if (value.split("/").some((seg) => seg === "." || seg === "..")) return undefined;
    params[name] = value;
  }
  return params;
}

/** A path parameter as the client meant it (percent-decoded); a malformed escape is a 400. */
function decodeParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new InvalidArgumentError(`invalid escape in path: ${JSON.stringify(raw)}`);
  }
}

/**
 * The path with `//` collapsed and `.` and `..` resolved (never above /), keeping a trailing
 * slash: the form dockerd's router redirects to.
 */
export function cleanPath(path: string): string {
  if (path === "") return "/";
  const out: string[] = [];
  const parts = path.split("/");
  for (const part of parts) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  let clean = `/${out.join("/")}`;
  if (path.endsWith("/") && clean !== "/") clean += "/";
  return clean;
}
