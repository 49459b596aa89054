// Structure-aware mutation of JSON documents, as fast-check arbitraries: a real seed document and
// a short list of edits at paths found in it (replace a value with an interesting one, delete a
// key, add a key, repeat an array element many times, nest). Values that JSON.parse cannot give
// back exactly (integers past 2^53, very deep nesting) are written into the text by markers, so
// the target sees what a hostile file could hold.
import fc from "fast-check";
import { rarely } from "./mutate.ts";

/** A JSON value; bigints stand for integers past 2^53 in the text (see toJsonText). */
export type Json = null | boolean | number | bigint | string | Json[] | { [k: string]: Json };

export type JsonEdit =
  | { op: "replace"; at: number; value: Json }
  | { op: "delete"; at: number }
  | { op: "add"; at: number; key: string; value: Json }
  | { op: "repeat"; at: number; times: number }
  | { op: "wrap"; at: number; inArray: boolean };

/** A marker string that toJsonText turns into a raw integer literal (any size). */
export const bigLiteral = (digits: string): string => `\u0001INT:${digits}\u0001`;
/** A marker string that toJsonText turns into `depth` nested arrays. */
export const deepLiteral = (depth: number): string => `\u0001DEEP:${depth}\u0001`;

export function toJsonText(doc: Json): string {
  const replacer = (_k: string, v: unknown) => (typeof v === "bigint" ? bigLiteral(v.toString()) : v);
  return JSON.stringify(doc, replacer).replace(/"\\u0001(INT|DEEP):(-?\d+)\\u0001"/g, (_m, kind: string, n: string) =>
    kind === "INT" ? n : `${"[".repeat(Number(n))}${"]".repeat(Number(n))}`,
  );
}

const INTERESTING_VALUES: Json[] = [
  null,
  true,
  false,
  0,
  -1,
  1,
  0.5,
  -0.5,
  2 ** 31 - 1,
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 32 - 1,
  2 ** 32,
  2 ** 53,
  1e308,
  -1e308,
  bigLiteral("18446744073709551615"),
  bigLiteral("18446744073709551616"),
  bigLiteral("-9223372036854775809"),
  bigLiteral("9223372036854775807"),
  bigLiteral("340282366920938463463374607431768211456"),
  "",
  "a\u0000b",
  "\u0000",
  "../../../../etc/passwd",
  "/",
  "/proc/self/fd/0",
  "x".repeat(5000),
  "/".repeat(5000),
  "\ud800",
  "%s%n%x",
  [],
  {},
  [null],
  { toString: 1 },
  { valueOf: {} },
  { __proto__x: 1, length: 5 },
  deepLiteral(5000),
];

/** Values that break decoders: wrong types, limits, NULs, long strings, odd objects. */
export function interestingJson(): fc.Arbitrary<Json> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...INTERESTING_VALUES), weight: 4 },
    { arbitrary: fc.string({ maxLength: 40 }), weight: 1 },
    { arbitrary: fc.integer(), weight: 1 },
    { arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }), weight: 1 },
    { arbitrary: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>, weight: 1 },
  );
}

export function jsonEdit(
  keys: readonly string[],
  value: fc.Arbitrary<Json> = interestingJson(),
): fc.Arbitrary<JsonEdit> {
  const at = fc.nat({ max: 1 << 16 });
  return fc.oneof(
    { arbitrary: fc.record({ op: fc.constant("replace" as const), at, value }), weight: 6 },
    { arbitrary: fc.record({ op: fc.constant("delete" as const), at }), weight: 2 },
    {
      arbitrary: fc.record({
        op: fc.constant("add" as const),
        at,
        key: fc.oneof(fc.constantFrom(...keys, "__proto__", "constructor", ""), fc.string({ maxLength: 8 })),
        value,
      }),
      weight: 2,
    },
    {
      arbitrary: fc.record({
        op: fc.constant("repeat" as const),
        at,
        times: fc.oneof(
          { arbitrary: fc.integer({ min: 2, max: 64 }), weight: 20 },
          { arbitrary: fc.constantFrom(1000, 65536, 70000), weight: 1 },
        ),
      }),
      weight: 1,
    },
    { arbitrary: fc.record({ op: fc.constant("wrap" as const), at, inArray: fc.boolean() }), weight: 1 },
  );
}

type Slot = { parent: Json[] | { [k: string]: Json } | null; key: string | number; value: Json };

/** Every value in the document with where it sits (the root has no parent). */
function slots(doc: Json): Slot[] {
  const out: Slot[] = [];
  const walk = (value: Json, parent: Slot["parent"], key: string | number, depth: number) => {
    out.push({ parent, key, value });
    if (depth > 12 || value === null || typeof value !== "object") return;
    if (Array.isArray(value)) for (const [i, v] of value.entries()) walk(v, value, i, depth + 1);
    else for (const k of Object.keys(value)) walk(value[k]!, value, k, depth + 1);
  };
  walk(doc, null, "", 0);
  return out;
}

function set(slot: Slot, value: Json): void {
  if (Array.isArray(slot.parent)) slot.parent[slot.key as number] = value;
  else if (slot.parent)
    Object.defineProperty(slot.parent, slot.key, { value, enumerable: true, writable: true, configurable: true });
}

/** Applies the edits to a deep copy of `seed`; an edit's `at` picks a slot of the current document. */
export function applyJsonEdits(seed: Json, edits: readonly JsonEdit[]): Json {
  let doc = structuredClone(seed);
  for (const e of edits) {
    const all = slots(doc);
    const slot = all[e.at % all.length]!;
    switch (e.op) {
      case "replace":
        if (slot.parent === null) doc = structuredClone(e.value);
        else set(slot, structuredClone(e.value));
        break;
      case "delete":
        if (Array.isArray(slot.parent)) slot.parent.splice(slot.key as number, 1);
        else if (slot.parent) delete slot.parent[slot.key as string];
        break;
      case "add":
        // Into the nearest object at or above the slot: a new key (own "__proto__" included).
        if (slot.value && typeof slot.value === "object" && !Array.isArray(slot.value))
          Object.defineProperty(slot.value, e.key, {
            value: structuredClone(e.value),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        else if (Array.isArray(slot.value)) slot.value.push(structuredClone(e.value));
        break;
      case "repeat":
        if (Array.isArray(slot.value) && slot.value.length > 0 && slot.value.length < 100_000) {
          const first = slot.value[0]!;
          // Many copies of a small element, few of a big one: a few MB at most.
          const size = toJsonText(first).length;
          const times = Math.max(1, Math.min(e.times, Math.floor(4_000_000 / size)));
          const copies: Json[] = Array.from({ length: times }, (_, i) =>
            typeof first === "string" ? `${first}${i}` : structuredClone(first),
          );
          slot.value.push(...copies);
        } else if (typeof slot.value === "string") {
          // Long, but not so long that the input's size is all an input measures.
          set(slot, slot.value.repeat(Math.max(1, Math.min(e.times, Math.floor(100_000 / (slot.value.length || 1))))));
        }
        break;
      case "wrap":
        if (slot.parent !== null) set(slot, e.inArray ? [slot.value] : { value: slot.value });
        break;
    }
  }
  return doc;
}

/** Every key of a document (for "add" edits: known keys in the wrong places). */
export function keysOf(docs: readonly Json[]): string[] {
  const keys = new Set<string>();
  const walk = (v: Json) => {
    if (v === null || typeof v !== "object") return;
    if (Array.isArray(v)) for (const x of v) walk(x);
    else
      for (const [k, x] of Object.entries(v)) {
        keys.add(k);
        walk(x);
      }
  };
  for (const d of docs) walk(d);
  return [...keys].sort();
}

/** Mutated documents as JSON text, now and then with a byte-level slip in the text itself. */
export function mutatedJsonText(seeds: readonly Json[], opts: { maxEdits?: number } = {}): fc.Arbitrary<string> {
  const keys = keysOf(seeds);
  return fc
    .record({
      seed: fc.nat({ max: seeds.length - 1 }),
      edits: fc.array(jsonEdit(keys), { maxLength: opts.maxEdits ?? 5 }),
      slip: rarely(
        fc.record({
          at: fc.nat(),
          text: fc.constantFrom("", ",", "}", "]", '"', "{", "0", "\\u0000", "\u0000", "\\ud800"),
        }),
        10,
      ),
    })
    .map(({ seed, edits, slip }) => {
      const text = toJsonText(applyJsonEdits(seeds[seed]!, edits));
      if (!slip) return text;
      const at = slip.at % (text.length + 1);
      return text.slice(0, at) + slip.text + text.slice(at);
    });
}
