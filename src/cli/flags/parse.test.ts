// parseFlags against pflag's rules and the docker CLI's words (captured from docker 28.2 and 20.10:
// both print the same first line; berth adds 20.10's "See 'berth x --help'." hint).
import assert from "node:assert/strict";
import { test } from "node:test";
import { UsageError } from "../errors.ts";
import { type FlagDef, MAX_ARG_BYTES, MAX_ARGS, parseFlags, parseGoInt } from "./parse.ts";

const RUN: FlagDef[] = [
  { long: "detach", short: "d", kind: "bool", help: "" },
  { long: "interactive", short: "i", kind: "bool", help: "" },
  { long: "tty", short: "t", kind: "bool", help: "" },
  { long: "rm", kind: "bool", help: "" },
  { long: "sig-proxy", kind: "bool", help: "", default: true },
  { long: "name", kind: "string", help: "" },
  { long: "env", short: "e", kind: "strings", help: "" },
  { long: "sysctl", kind: "map", help: "" },
  {
    long: "cpus",
    kind: "string",
    help: "",
    check: (v) => (/^\d+(\.\d+)?$/.test(v) ? undefined : `failed to parse ${v} as a rational number`),
  },
  { long: "hostname", short: "h", kind: "string", help: "" },
  { long: "help", kind: "bool", help: "Print usage" },
];
const PS: FlagDef[] = [
  { long: "all", short: "a", kind: "bool", help: "" },
  { long: "last", short: "n", kind: "int", help: "", default: -1 },
  { long: "quiet", short: "q", kind: "bool", help: "" },
];
const run = (argv: string[]) => parseFlags(argv, RUN, { interspersed: false, command: "run" });
const ps = (argv: string[]) => parseFlags(argv, PS, { interspersed: true, command: "ps" });

function usageError(f: () => unknown, message: string): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof UsageError, String(e));
    assert.equal(e.message, message);
    assert.equal(e.exitCode, 125);
    return true;
  });
}

test("long and short forms, grouped shorthands, values after '=' or attached", () => {
  const p = run(["-itd", "--name=web", "-e", "A=1", "-eB=2", "-e=C=3", "--env", "D=4", "--rm", "busybox", "ls", "-l"]);
  assert.equal(p.flags.get("interactive"), true);
  assert.equal(p.flags.get("tty"), true);
  assert.equal(p.flags.get("detach"), true);
  assert.equal(p.flags.get("rm"), true);
  assert.equal(p.flags.get("name"), "web");
  assert.deepEqual(p.flags.get("env"), ["A=1", "B=2", "C=3", "D=4"]);
  assert.deepEqual(p.args, ["busybox", "ls", "-l"]);
  assert.deepEqual([...p.set].sort(), ["detach", "env", "interactive", "name", "rm", "tty"]);
});

test("defaults are present and not marked set; a bool takes a value only after '='", () => {
  const p = run(["--sig-proxy=false", "-d=false", "--rm", "x"]);
  assert.equal(p.flags.get("sig-proxy"), false);
  assert.equal(p.flags.get("detach"), false);
  const q = run(["x"]);
  assert.equal(q.flags.get("sig-proxy"), true);
  assert.equal(q.set.has("sig-proxy"), false);
  // `--rm false`: false is the image, not the flag's value.
  assert.deepEqual(run(["--rm", "false"]).args, ["false"]);
});

test("interspersed commands take flags after arguments; run stops at the image; -- ends flags", () => {
  const p = ps(["x", "-a", "y", "--last", "3", "-q"]);
  assert.deepEqual(p.args, ["x", "y"]);
  assert.equal(p.flags.get("last"), 3);
  assert.deepEqual(ps(["--", "-a"]).args, ["-a"]);
  assert.deepEqual(run(["--rm", "--", "img", "--name"]).args, ["img", "--name"]);
  assert.deepEqual(run(["img", "--nosuch"]).args, ["img", "--nosuch"]);
  assert.deepEqual(ps(["-", "-a"]).args, ["-"]);
  assert.equal(ps(["-n", "0x10"]).flags.get("last"), 16);
  assert.equal(ps(["-n-5"]).flags.get("last"), -5);
  assert.equal(ps(["--last=010"]).flags.get("last"), 8);
});

test("the help flag: --help always, -h unless the command uses it", () => {
  assert.equal(ps(["-h"]).flags.get("help"), true);
  assert.equal(ps(["--help"]).flags.get("help"), true);
  assert.equal(run(["-h", "box", "img"]).flags.get("hostname"), "box");
  assert.equal(run(["--help"]).flags.get("help"), true);
});

test("docker's words for unknown flags, missing values and bad values", () => {
  usageError(() => run(["--nosuch", "busybox"]), "unknown flag: --nosuch\nSee 'berth run --help'.");
  usageError(() => run(["-z"]), "unknown shorthand flag: 'z' in -z\nSee 'berth run --help'.");
  usageError(() => run(["-itz", "busybox"]), "unknown shorthand flag: 'z' in -z\nSee 'berth run --help'.");
  usageError(() => run(["-zit", "busybox"]), "unknown shorthand flag: 'z' in -zit\nSee 'berth run --help'.");
  usageError(() => run(["--name"]), "flag needs an argument: --name\nSee 'berth run --help'.");
  usageError(() => ps(["-n"]), "flag needs an argument: 'n' in -n\nSee 'berth ps --help'.");
  usageError(
    () => ps(["--last", "abc"]),
    'invalid argument "abc" for "-n, --last" flag: strconv.ParseInt: parsing "abc": invalid syntax\nSee \'berth ps --help\'.',
  );
  usageError(
    () => ps(["--last="]),
    'invalid argument "" for "-n, --last" flag: strconv.ParseInt: parsing "": invalid syntax\nSee \'berth ps --help\'.',
  );
  usageError(
    () => run(["--rm=yes", "busybox"]),
    'invalid argument "yes" for "--rm" flag: strconv.ParseBool: parsing "yes": invalid syntax\nSee \'berth run --help\'.',
  );
  usageError(
    () => run(["--cpus", "abc", "busybox"]),
    'invalid argument "abc" for "--cpus" flag: failed to parse abc as a rational number\nSee \'berth run --help\'.',
  );
  usageError(
    () => ps(["-n", "99999999999999999999"]),
    'invalid argument "99999999999999999999" for "-n, --last" flag: strconv.ParseInt: parsing "99999999999999999999": value out of range\nSee \'berth ps --help\'.',
  );
  usageError(() => ps(["--=x"]), "bad flag syntax: --=x\nSee 'berth ps --help'.");
  usageError(() => ps(["---a"]), "bad flag syntax: ---a\nSee 'berth ps --help'.");
  usageError(
    () => ps(["--last", "\u0001\n"]),
    'invalid argument "\\x01\\n" for "-n, --last" flag: strconv.ParseInt: parsing "\\x01\\n": invalid syntax\nSee \'berth ps --help\'.',
  );
});

test("hostile input: an oversized argument or too many arguments is refused before parsing", () => {
  const big = "a".repeat(MAX_ARG_BYTES + 1);
  usageError(
    () => run(["--name", big, "x"]),
    `argument 2 is too long: ${MAX_ARG_BYTES + 1} bytes (berth takes at most ${MAX_ARG_BYTES} in one argument)\nSee 'berth run --help'.`,
  );
  assert.equal(run(["--name", "a".repeat(MAX_ARG_BYTES), "x"]).args[0], "x");
  const many = Array.from({ length: MAX_ARGS + 1 }, () => "-a");
  usageError(
    () => ps(many),
    `too many arguments: ${MAX_ARGS + 1} (berth takes at most ${MAX_ARGS})\nSee 'berth ps --help'.`,
  );
  assert.equal(ps(many.slice(1)).flags.get("all"), true);
});

test("parseGoInt reads strconv.ParseInt(s, 0, 64)", () => {
  assert.equal(parseGoInt("42"), 42);
  assert.equal(parseGoInt("+7"), 7);
  assert.equal(parseGoInt("0b101"), 5);
  assert.equal(parseGoInt("0o17"), 15);
  assert.equal(parseGoInt("0x1_0"), 16);
  assert.equal(parseGoInt("1_000"), 1000); // docker ps --last 1_0 is 10: Go's base 0 takes decimal '_' too
  assert.equal(parseGoInt("0x_1f"), 31);
  assert.equal(parseGoInt("0_7"), 7);
  assert.equal(parseGoInt("1__0"), "invalid syntax");
  assert.equal(parseGoInt("1_"), "invalid syntax");
  assert.equal(parseGoInt("0x_"), "invalid syntax");
  assert.equal(parseGoInt("0_"), "invalid syntax");
  assert.equal(parseGoInt("_1"), "invalid syntax");
  assert.equal(parseGoInt("09"), "invalid syntax");
  assert.equal(parseGoInt("0x"), "invalid syntax");
  assert.equal(parseGoInt(" 1"), "invalid syntax");
  assert.equal(parseGoInt("-9223372036854775808"), -(2 ** 63));
  assert.equal(parseGoInt("9223372036854775808"), "value out of range");
});
