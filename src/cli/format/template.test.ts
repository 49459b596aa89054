// The Go-template subset against what the real docker CLI printed: testdata/inspect-oracle.json
// holds a container's inspect JSON (from berthd) and, for each template, docker CLI 28's stdout,
// stderr and exit code for `docker inspect --format <template>` on that container. Then the
// parts docker's inspect does not reach (structs with methods, missingkey=default, header
// functions) and hostile templates (bounds, fuzz).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { GO_TYPE, NO_VALUE } from "./go-values.ts";
import {
  compileTemplate,
  HEADER_FUNCS,
  MAX_ITERATIONS,
  MAX_NESTING,
  MAX_OUTPUT_CHARS,
  MAX_TEMPLATE_BYTES,
  TemplateError,
} from "./template.ts";

interface OracleCase {
  template: string;
  stdout: string;
  stderr: string;
  status: number;
}
const oracle = JSON.parse(readFileSync(join(import.meta.dirname, "testdata", "inspect-oracle.json"), "utf8")) as {
  data: unknown;
  cases: OracleCase[];
};

/** What `docker inspect --format` would print: stdout, stderr, exit code. */
function inspectLike(template: string, data: unknown): { stdout: string; stderr: string; status: number } {
  try {
    return { stdout: `${compileTemplate(template, { missingKey: "error" })(data)}\n`, stderr: "", status: 0 };
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
    // docker writes the empty line of the failed element before the error of an execution.
    return { stdout: e.phase === "exec" ? "\n" : "", stderr: `${e.message}\n`, status: e.exitCode };
  }
}

test(`docker inspect --format: ${oracle.cases.length} templates print what docker CLI 28 printed`, () => {
  assert.ok(oracle.cases.length > 100);
  const differ: string[] = [];
  for (const c of oracle.cases) {
    const got = inspectLike(c.template, oracle.data);
    const want = { stdout: c.stdout, stderr: c.stderr, status: c.status };
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      differ.push(`${c.template}\n  docker: ${JSON.stringify(want)}\n  berth:  ${JSON.stringify(got)}`);
    }
  }
  assert.deepEqual(differ, []);
});

test("Go's printing: maps sorted, slices, nil, numbers, bools, <no value>", () => {
  const run = (t: string, d: unknown) => compileTemplate(t)(d);
  assert.equal(run("{{.}}", { b: 1, a: [1, "x", null, true] }), "map[a:[1 x <nil> true] b:1]");
  assert.equal(run("{{.a}}|{{.missing}}|{{.n}}", { a: 1.5, n: null }), "1.5|<no value>|<no value>");
  assert.equal(run("{{.x}} {{.y}} {{.z}}", { x: 1e6, y: 1234567.5, z: 0.00001 }), "1000000 1.2345675e+06 1e-05");
  assert.equal(run("{{.S}}", { S: { Status: "up", Pid: 3 } }), "{up 3}");
  assert.equal(run("{{json .}}", { b: { Z: 1, A: [] }, a: "<&>\u2028" }), '{"a":"<&>\\u2028","b":{"Z":1,"A":[]}}');
  assert.equal(run("{{print .a .b 1 2 .c}}", { a: "x", b: "y", c: null }), "xy1 2 <nil>");
  // docker CLI 28 (docker version --format) printed these two: Go's JSEscapeString and strconv.Quote.
  assert.equal(
    run('{{js "a\'b\\"c<>=&\\n\\t\\u2028\u00e9x"}}', {}),
    "a\\'b\\\"c\\u003C\\u003E\\u003D\\u0026\\u000A\\u0009\\u2028\u00e9x",
  );
  assert.equal(run('{{printf "%q" "a\\x01b\\u00a0\\u2028\u00e9"}}', {}), '"a\\x01b\\u00a0\\u2028\u00e9"');
  // docker CLI 28: upper/lower map each rune alone (STRAßE, i, σ at a word's end).
  assert.equal(
    run('{{upper "straße"}}|{{lower "\u0130"}}|{{lower "ΟΔΟΣ"}}|{{upper "héllo"}}', {}),
    "STRAßE|i|οδοσ|HÉLLO",
  );
  // docker CLI 28: docker version --format '[{{pad "" 2 2}}|{{pad "a" 1 1}}]' prints [| a ].
  assert.equal(run('[{{pad "" 2 2}}|{{pad "a" 1 1}}]', {}), "[| a ]");
  assert.equal(
    run('{{printf "%s %v %d %5.1f|%-4s|%q" .a .a 7 3.14159 "ab" "t\\"x"}}', { a: ["p", "q"] }),
    '[p q] [p q] 7   3.1|ab  |"t\\"x"',
  );
  assert.equal(
    run('{{printf "%d %s"}}|{{printf "%d" "x" 2}}', {}),
    "%!d(MISSING) %!s(MISSING)|%!d(string=x)%!(EXTRA int=2)",
  );
});

test("missingkey=default (Go's): a missing key is <no value>; a field of a null is a nil pointer", () => {
  assert.equal(compileTemplate("{{.a.b.c}}")({}), "<no value>");
  assert.throws(
    () => compileTemplate("{{.a.b}}")({ a: null }),
    (e: unknown) =>
      e instanceof TemplateError &&
      e.detail === 'template: :1:4: executing "" at <.a.b>: nil pointer evaluating interface {}.b',
  );
});

test('a struct with methods (docker\'s formatter contexts): fields, .Label "k", unknown fields', () => {
  const row = {
    [GO_TYPE]: "*formatter.ContainerContext",
    Names: "web",
    Label(name: string) {
      return ({ "com.x": "y" } as Record<string, string>)[name] ?? "";
    },
  };
  assert.equal(compileTemplate('{{.Names}} {{.Label "com.x"}}|{{.Label "nope"}}')(row), "web y|");
  assert.throws(
    () => compileTemplate("{{.Nope}}")(row),
    (e: unknown) =>
      e instanceof TemplateError &&
      e.detail ===
        `template: :1:2: executing "" at <.Nope>: can't evaluate field Nope in type *formatter.ContainerContext`,
  );
  assert.throws(
    () => compileTemplate("{{.Label}}")(row),
    (e: unknown) => e instanceof TemplateError && /wrong number of args for Label: want 1 got 0/.test(e.detail),
  );
});

test("docker's header functions return their argument as it is (a table's header row)", () => {
  const header = { Names: "NAMES", Image: "IMAGE" };
  assert.equal(compileTemplate("{{upper .Names}} {{lower .Image}}", { funcs: HEADER_FUNCS })(header), "NAMES IMAGE");
});

test("control flow: else if, range else, break/continue, range over ints and maps, variables, with-else", () => {
  const run = (t: string, d: unknown) => compileTemplate(t)(d);
  assert.equal(run("{{if .a}}A{{else if .b}}B{{else}}C{{end}}", { b: 1 }), "B");
  assert.equal(run("{{range .l}}x{{else}}empty{{end}}", { l: [] }), "empty");
  assert.equal(run("{{range $i, $v := .l}}{{if eq $i 2}}{{break}}{{end}}{{$v}}{{end}}", { l: [1, 2, 3, 4] }), "12");
  assert.equal(run("{{range 4}}{{if eq . 1}}{{continue}}{{end}}{{.}}{{end}}", {}), "023");
  assert.equal(run("{{range $k, $v := .}}{{$k}}={{$v}};{{end}}", { b: 2, a: 1 }), "a=1;b=2;");
  assert.equal(run("{{$x := 1}}{{range .l}}{{$x = .}}{{end}}{{$x}}", { l: [5, 6] }), "6");
  assert.equal(run("{{with .a}}{{.}}{{else with .b}}b={{.}}{{end}}", { b: 2 }), "b=2");
  assert.equal(run("{{$}}", "root"), "root");
  assert.equal(run("a \n {{- .x -}} \n b", { x: 1 }), "a1b");
});

test("parse errors in Go's words", () => {
  const detail = (t: string) => {
    try {
      compileTemplate(t);
      return "parsed";
    } catch (e) {
      assert.ok(e instanceof TemplateError && e.phase === "parse" && e.exitCode === 64);
      return e.detail;
    }
  };
  assert.equal(detail("{{.A"), "template: :1: unclosed action");
  assert.equal(detail("{{}}"), "template: :1: missing value for command");
  assert.equal(detail("x\n{{ | .A}}"), 'template: :2: unexpected "|" in command');
  assert.equal(detail("{{.A | }}"), "parsed");
  assert.equal(detail("{{range .}}{{end}}{{break}}"), "template: :1: {{break}} outside {{range}}");
  assert.equal(detail("{{if .}}"), "template: :1: unexpected EOF");
  assert.equal(detail("{{$x}}"), 'template: :1: undefined variable "$x"');
  assert.equal(detail('{{"a}}'), "template: :1: unterminated quoted string");
  assert.equal(detail("{{/* x"), "template: :1: unclosed comment");
  assert.equal(detail("{{(.a}}"), "template: :1: unclosed left paren");
  assert.equal(detail("{{.a)}}"), "template: :1: unexpected right paren");
  assert.equal(detail("{{3x}}"), 'template: :1: bad number syntax: "3x"');
  // docker accepts define/template/block; berth's subset says it has none (an honest error).
  assert.equal(detail('{{define "x"}}{{end}}'), "template: :1: {{define}} is not supported by berth's --format");
});

test("hostile templates: size, nesting, iterations and output are bounded; junk fails as a TemplateError", () => {
  const fails = (f: () => unknown, re: RegExp) =>
    assert.throws(f, (e: unknown) => e instanceof TemplateError && re.test(e.detail));
  fails(() => compileTemplate("x".repeat(MAX_TEMPLATE_BYTES + 1)), /longer than 65536 bytes/);
  fails(() => compileTemplate(`{{${"(".repeat(MAX_NESTING + 5)}1${")".repeat(MAX_NESTING + 5)}}}`), /nesting deeper/);
  fails(() => compileTemplate(`${"{{if 1}}".repeat(MAX_NESTING + 5)}${"{{end}}".repeat(MAX_NESTING + 5)}`), /nesting/);
  const t0 = Date.now();
  fails(() => compileTemplate("{{range 100000000}}{{end}}")({}), new RegExp(`more than ${MAX_ITERATIONS} range`));
  fails(() => compileTemplate("{{range 100000}}{{$.s}}{{end}}")({ s: "y".repeat(1000) }), /output longer than/);
  assert.ok(MAX_OUTPUT_CHARS >= 1 << 20);
  // Values kept in variables are bounded too: a string doubled 40 times ran the heap out.
  fails(() => compileTemplate('{{$x := "ab"}}{{range 40}}{{$x = print $x $x}}{{end}}{{len $x}}')({}), /result longer/);
  fails(() => compileTemplate('{{$x := "ab"}}{{range 40}}{{$x = printf "%s%s" $x $x}}{{end}}')({}), /result longer/);
  assert.ok(Date.now() - t0 < 20_000);
  // A deep but legal template still works (nesting below the bound).
  assert.equal(compileTemplate(`${"{{if 1}}".repeat(50)}ok${"{{end}}".repeat(50)}`)({}), "ok");
  // Fuzz: random action soup parses or fails as TemplateError, never anything else, never hangs.
  const alphabet = [
    "{{",
    "}}",
    "{{-",
    " -}}",
    ".",
    "a",
    "$",
    "$x",
    ":=",
    "=",
    "|",
    "(",
    ")",
    '"',
    "`",
    "'",
    " ",
    "\n",
    "if",
    "else",
    "end",
    "range",
    "with",
    "1",
    "-",
    "printf",
    "index",
    ",",
    "/*",
    "*/",
    "\\",
    "json",
    "nil",
    "\u00e9",
  ];
  let seed = 42;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (let i = 0; i < 3000; i++) {
    let src = "";
    for (let j = rnd(20); j >= 0; j--) src += alphabet[rnd(alphabet.length)];
    try {
      compileTemplate(src)({ a: [1, { b: null }], x: "s" });
    } catch (e) {
      assert.ok(e instanceof TemplateError, `${JSON.stringify(src)}: ${String(e)}`);
    }
  }
  assert.equal(NO_VALUE.toString(), "Symbol(no value)");
  // A hostile daemon's answer nested 5000 deep: printed or encoded, it fails as a TemplateError.
  let deep: unknown = 1;
  for (let i = 0; i < 5000; i++) deep = [deep];
  fails(() => compileTemplate("{{.}}")(deep), /value nested deeper than 1000/);
  fails(() => compileTemplate("{{json .}}")(deep), /error calling json: value nested deeper than 1000/);
});
