import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidArgumentError } from "../../common/errors.ts";
import {
  type Adaptor,
  MAX_REGEXP_INSTRUCTIONS,
  MAX_REGEXP_LENGTH,
  parseFilter,
  parseFilters,
  recordAdaptor,
} from "./filters.ts";

interface Obj {
  id: string;
  name: string;
  kind?: string;
  labels?: Record<string, string>;
}

const objects: Obj[] = [
  { id: "a", name: "alpine", kind: "image", labels: { "io.x/role": "base", tier: "gold" } },
  { id: "b", name: "busybox", kind: "image", labels: { tier: "silver", empty: "" } },
  { id: "c", name: "centos", labels: { "with space": "yes", 'odd \\ and "': "q" } },
  { id: "d", name: "debian:12", kind: "image" },
  { id: "e", name: "", kind: "snapshot", labels: { note: "comma, inside", path: "/usr/bin" } },
];

const adaptorOf = (o: Obj): Adaptor => recordAdaptor({ id: o.id, name: o.name, kind: o.kind }, o.labels);

function select(...filters: string[]): string[] {
  const m = parseFilters(filters);
  return objects.filter((o) => m(adaptorOf(o))).map((o) => o.id);
}

test("no filters, or an empty filter string, match everything", () => {
  assert.deepEqual(select(), ["a", "b", "c", "d", "e"]);
  assert.deepEqual(select(""), ["a", "b", "c", "d", "e"]);
  assert.deepEqual(select("", "id==a"), ["a", "b", "c", "d", "e"]);
});

test("equality, inequality and presence", () => {
  assert.deepEqual(select("name==busybox"), ["b"]);
  assert.deepEqual(select("name!=busybox"), ["a", "c", "d", "e"]);
  assert.deepEqual(select("kind"), ["a", "b", "d", "e"]);
  // An empty scalar field is absent; != compares it as "".
  assert.deepEqual(select("name"), ["a", "b", "c", "d"]);
  assert.deepEqual(select('name!=""'), ["a", "b", "c", "d"]);
  assert.deepEqual(select('name==""'), []);
  assert.deepEqual(select("name==debian:12"), ["d"]);
});

test("labels: presence (even when empty), values, dotted and quoted keys", () => {
  assert.deepEqual(select("labels.tier"), ["a", "b"]);
  assert.deepEqual(select("labels.empty"), ["b"]);
  assert.deepEqual(select("labels.tier==gold"), ["a"]);
  assert.deepEqual(select('labels."io.x/role"==base'), ["a"]);
  // Unquoted dots join back into one key.
  assert.deepEqual(select("labels.io.x"), []);
  assert.deepEqual(select('labels."with space"'), ["c"]);
  assert.deepEqual(select('labels."odd \\\\ and \\""==q'), ["c"]);
  assert.deepEqual(select("labels.missing!=x"), ["a", "b", "c", "d", "e"]);
});

test("comma is AND, several filter strings are OR", () => {
  assert.deepEqual(select("kind==image,labels.tier"), ["a", "b"]);
  assert.deepEqual(select("kind==image,labels.tier,name~=^b"), ["b"]);
  assert.deepEqual(select("name==alpine", "name==centos"), ["a", "c"]);
  assert.deepEqual(select("name==alpine,kind==snapshot", "id==e"), ["e"]);
});

test("regular expressions: bare, /slashed/, |piped|, quoted, with flags; absent fields test as empty", () => {
  assert.deepEqual(select("name~=^[ab]"), ["a", "b"]);
  assert.deepEqual(select("name~=/^[ab]/"), ["a", "b"]);
  assert.deepEqual(select("name~=|o[sx]|"), ["b", "c"]);
  assert.deepEqual(select('name~="^deb.*:1[0-9]$"'), ["d"]);
  assert.deepEqual(select("name~=(?i)^ALP"), ["a"]);
  assert.deepEqual(select("name~=^$"), ["e"]);
  assert.deepEqual(select("kind~=^$"), ["c"]);
  // A digit class: "\\d" in a quoted string is the regexp \d.
  assert.deepEqual(select('name~="\\\\d"'), ["d"]);
  // In a /.../ literal, \/ is an escaped slash.
  assert.deepEqual(select("labels.path~=/^\\/usr\\//"), ["e"]);
});

test("values: punctuation is bare, blanks and commas need quotes, a leading / or | needs double quotes", () => {
  assert.deepEqual(select('labels.note=="comma, inside"'), ["e"]);
  assert.deepEqual(select('labels.path=="/usr/bin"'), ["e"]);
  assert.deepEqual(select('labels.path=="\\x2fusr\\u002fbin"'), ["e"]);
  assert.deepEqual(select("name==debian:12,id==d"), ["d"]);
  assert.throws(() => parseFilter("labels.path==/usr/bin/"), /invalid quote encountered/);
  assert.throws(() => parseFilter("labels.path==/usr"), /quoted literal not terminated/);
});

test("blanks before fields, operators and values are skipped", () => {
  assert.deepEqual(select("name == alpine"), ["a"]);
  assert.deepEqual(select("kind==image, labels.tier==gold"), ["a"]);
  assert.deepEqual(select(" name"), ["a", "b", "c", "d"]);
});

test("syntax errors are InvalidArgumentErrors that point at the offending character", () => {
  const cases: [string, string][] = [
    ["name==foo,", "filters: parse error: [name==foo,]: expected field or quoted: invalid argument"],
    ["labels.", "filters: parse error: [labels.]: expected field or quoted: invalid argument"],
    ["name==", "filters: parse error: [name==]: unexpected end of filter: expected a value: invalid argument"],
    ["id~=,x", "filters: parse error: [id~= >|,|< x]: expected value or quoted: invalid argument"],
    ["labels.|k|==v", "filters: parse error: [labels. >|||< k|==v]: invalid quote encountered: invalid argument"],
    ["labels.?k", "filters: parse error: [labels. >|?|< k]: expected field or quoted: invalid argument"],
    ["labels.a/b==c", "filters: parse error: [labels.a >|/|< b==c]: quoted literal not terminated: invalid argument"],
    ["name=foo", 'filters: parse error: [name >|=|< foo]: unsupported operator "=": invalid argument'],
    ["name===foo", 'filters: parse error: [name >|=|< ==foo]: unsupported operator "===": invalid argument'],
    ["name<foo", 'filters: parse error: [name >|<|< foo]: expected an operator ("=="|"!="|"~="): invalid argument'],
    ["foo-bar==x", 'filters: parse error: [foo >|-|< bar==x]: expected an operator ("=="|"!="|"~="): invalid argument'],
    ["name==a b", "filters: parse error: [name==a >| |< b]: unexpected input:  : invalid argument"],
    ["name==a ", "filters: parse error: [name==a >| |< ]: unexpected input:  : invalid argument"],
    ['name=="\\q"', 'filters: parse error: [name== >|"|< \\q"]: illegal escape sequence: invalid argument'],
    ['name=="\\x4"', 'filters: parse error: [name== >|"|< \\x4"]: illegal numeric escape sequence: invalid argument'],
    ['name=="\\/"', 'filters: parse error: [name== >|"|< \\/"]: illegal escape sequence: invalid argument'],
    [
      "name~=(",
      "filters: parse error: [name~= >|(|< ]: invalid regexp: error parsing regexp: missing closing ): `(`: invalid argument",
    ],
    ["   ", "filters: parse error: [   ]: expected field or quoted: invalid argument"],
  ];
  for (const [input, message] of cases) {
    assert.throws(
      () => parseFilters(["name==ok", input]),
      (err: unknown) => {
        assert.ok(err instanceof InvalidArgumentError, input);
        assert.equal(err.message, message, input);
        return true;
      },
    );
  }
});

test("recordAdaptor: nested fields by joined key, absent paths", () => {
  const a = recordAdaptor({ "runtime.name": "io.containerd.runc.v2", image: "" }, { x: "1" });
  assert.equal(a(["runtime", "name"]), "io.containerd.runc.v2");
  assert.equal(a(["image"]), undefined);
  assert.equal(a(["labels"]), undefined);
  assert.equal(a(["labels", "x"]), "1");
  assert.equal(a([]), undefined);
  assert.ok(parseFilter("runtime.name~=runc")(a));
});

test("image names with slashes and colons as bare values; quoted dotted label keys", () => {
  const img = recordAdaptor({ name: "docker.io/library/busybox:1" }, { "a.b": "c", env: "prod" });
  assert.equal(parseFilters(["name==docker.io/library/busybox:1"])(img), true);
  assert.equal(parseFilters(["name!=docker.io/library/busybox:1"])(img), false);
  assert.equal(parseFilters(["name~=busybox"])(img), true);
  assert.equal(parseFilters(["labels.env"])(img), true);
  assert.equal(parseFilters(["labels.missing"])(img), false);
  assert.equal(parseFilters(['labels."a.b"==c'])(img), true);
  assert.equal(parseFilters(["labels.a.b==c"])(img), true);
  assert.equal(parseFilters(["labels.env==prod,name~=alpine"])(img), false);
  assert.equal(parseFilters(["name~=alpine", "labels.env==prod"])(img), true);
  assert.throws(() => parseFilters(["==x"]), /expected field or quoted/);
  assert.throws(() => parseFilters(['labels."a==b']), /quoted literal not terminated/);
});

test("~= is Go's regexp syntax (RE2), not JavaScript's", () => {
  const a = recordAdaptor({ name: "docker.io/library/busybox:1.36" }, { k: "A\u00e9" });
  const m = (f: string) => parseFilter(f)(a);
  assert.ok(m("name~=(?i)^DOCKER\\.IO/"), "a leading flag group");
  assert.ok(m("name~=^docker(?i:\\.IO)"), "a scoped flag group");
  assert.ok(m("name~=(?P<lib>library)/"), "Go's named group");
  assert.ok(m("name~=\\x{62}usybox"), "\\x{hh} escapes");
  assert.ok(m("name~=\\Qbusybox:1.\\E"), "\\Q...\\E literals");
  assert.ok(m("name~=[[:digit:]]\\.[[:digit:]]+\\z"), "POSIX classes and \\z");
  assert.ok(m("labels.k~=^\\p{Lu}\\pL$"), "Unicode classes over code points");
  assert.ok(m("name~=(?U)^d.+"), "(?U), Go's ungreedy flag");
  // Go refuses these where JavaScript accepts them (lookarounds, backreferences, \\u escapes).
  for (const re of ["(?=a)", "(?<=a)b", "(a)\\1", "\\u0041", "a**", "\\Z", "x{1001}"]) {
    assert.throws(() => parseFilter(`name~=${re}`), InvalidArgumentError, re);
  }
});

test("~= runs in linear time: the catastrophic patterns of a backtracking engine answer at once", () => {
  const cases: [string, string][] = [
    ["^(a+)+$", `${"a".repeat(5000)}!`],
    ["(a|aa)+$", `${"a".repeat(5000)}!`],
    ["(a*)*b", "a".repeat(5000)],
    ["(.*a){20}", `a${"x".repeat(40)}`.repeat(19)],
    ["(x+x+)+y", "x".repeat(5000)],
    ["^(\\w+\\s?)+$", `${"word ".repeat(1000)}!`],
  ];
  for (const [re, input] of cases) {
    const t0 = performance.now();
    assert.equal(parseFilter(`name~=${re}`)(recordAdaptor({ name: input })), false, re);
    // A backtracking engine needs minutes to hours for these; RE2 needs milliseconds.
    assert.ok(performance.now() - t0 < 2000, `${re} took ${Math.round(performance.now() - t0)} ms`);
  }
});

test("~= patterns are bounded: length in bytes and compiled size", () => {
  assert.ok(parseFilter(`name~=${"a".repeat(MAX_REGEXP_LENGTH)}`));
  assert.throws(
    () => parseFilter(`name~=${"a".repeat(MAX_REGEXP_LENGTH - 1)}\u00e9`),
    /regexp of 1025 bytes is longer than 1024 bytes: invalid argument$/,
  );
  assert.ok(parseFilter(`name~=[a-z]{${MAX_REGEXP_INSTRUCTIONS - 200}}`));
  assert.throws(
    () => parseFilter("name~=(?:a?){1000}a{1000}"),
    /regexp compiles to 3002 instructions, more than 1200: invalid argument$/,
  );
});
