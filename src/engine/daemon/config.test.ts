import assert from "node:assert/strict";
import { test } from "node:test";
import { parseFlags } from "../../common/flags.ts";
import { type BuiltinRuntimes, FLAGS, parseHost, resolveConfig } from "./config.ts";

const builtins: BuiltinRuntimes = {
  "berth-runc": { path: "/usr/local/bin/berth-runc" },
  runc: { path: "runc" },
  crun: { path: "crun" },
};

const resolve = (argv: string[], file?: unknown) => resolveConfig(parseFlags(argv, FLAGS), file, builtins);

test("no flags and no file: dockerd-like defaults under berth's paths", () => {
  const c = resolve([]);
  assert.deepEqual(c.hosts, [{ kind: "unix", path: "/run/berth/berth.sock" }]);
  assert.equal(c.dataRoot, "/var/lib/berth");
  assert.equal(c.execRoot, "/run/berth/engine");
  assert.equal(c.pidfile, "/run/berth/berthd.pid");
  assert.equal(c.containerd, undefined);
  assert.equal(c.containerdNamespace, "berth");
  assert.equal(c.defaultRuntime, "berth-runc");
  assert.equal(c.liveRestore, true);
  assert.equal(c.logLevel, "info");
  assert.equal(c.group, undefined);
  assert.equal(c.tls, undefined);
  assert.deepEqual(Object.keys(c.runtimes).sort(), ["berth-runc", "crun", "runc"]);
});

test("flags and file keys both configure, each key once", () => {
  const c = resolve(
    [
      "-H",
      "unix:///tmp/a.sock",
      "--host=unix:///tmp/b.sock",
      "--data-root",
      "/srv/berth/",
      "--add-runtime",
      "my=/opt/my-runc",
      "--live-restore=false",
      "-D",
    ],
    {
      "exec-root": "/run/x/../y",
      pidfile: "/run/y.pid",
      containerd: "unix:///run/containerd/containerd.sock",
      "containerd-namespace": "test.ns-1",
      runtimes: { other: { path: "/opt/other", runtimeArgs: ["--debug"] } },
      "default-runtime": "other",
      group: "docker",
    },
  );
  assert.deepEqual(c.hosts, [
    { kind: "unix", path: "/tmp/a.sock" },
    { kind: "unix", path: "/tmp/b.sock" },
  ]);
  assert.equal(c.dataRoot, "/srv/berth");
  assert.equal(c.execRoot, "/run/y");
  assert.equal(c.pidfile, "/run/y.pid");
  assert.equal(c.containerd, "/run/containerd/containerd.sock");
  assert.equal(c.containerdNamespace, "test.ns-1");
  assert.deepEqual(c.runtimes.my, { path: "/opt/my-runc" });
  assert.deepEqual(c.runtimes.other, { path: "/opt/other", runtimeArgs: ["--debug"] });
  assert.equal(c.defaultRuntime, "other");
  assert.equal(c.liveRestore, false);
  assert.equal(c.logLevel, "debug");
  assert.equal(c.group, "docker");
  assert.deepEqual(resolve(["-H", "unix://"]).hosts, [{ kind: "unix", path: "/run/berth/berth.sock" }]);
});

test("a directive given as a flag and in the file is refused with both values, as dockerd", () => {
  assert.throws(() => resolve(["--data-root", "/tmp/y"], { "data-root": "/tmp/x" }), {
    kind: "invalid-argument",
    message:
      "the following directives are specified both as a flag and in the configuration file: data-root: (from flag: /tmp/y, from file: /tmp/x)",
  });
  assert.throws(
    () =>
      resolve(["-H", "unix:///a.sock", "--live-restore=false"], { hosts: ["unix:///b.sock"], "live-restore": true }),
    /hosts: \(from flag: \[unix:\/\/\/a.sock\], from file: \[unix:\/\/\/b.sock\]\), live-restore: \(from flag: false, from file: true\)/,
  );
  // Runtimes merge (dockerd's exception), but one name cannot be defined twice.
  const merged = resolve(["--add-runtime", "a=/bin/a"], { runtimes: { b: { path: "/bin/b" } } });
  assert.ok(merged.runtimes.a && merged.runtimes.b);
  assert.throws(() => resolve(["--add-runtime", "a=/bin/a"], { runtimes: { a: { path: "/bin/b" } } }), /defined twice/);
});

test("unknown keys and wrongly typed values in daemon.json are refused naming the key", () => {
  assert.throws(() => resolve([], { "data-root": "/x", bogus: 1, "storage-driver": "overlay2" }), {
    message: "the following directives don't match any configuration option: bogus, storage-driver",
  });
  const bad: [unknown, RegExp][] = [
    [{ "data-root": 5 }, /^data-root: must be a string, got number 5$/],
    [{ "live-restore": "yes" }, /^live-restore: must be true or false, got string "yes"$/],
    [{ hosts: "unix:///x.sock" }, /^hosts: must be a list of strings/],
    [{ hosts: [1] }, /^hosts: must be a list of strings, got a list$/],
    [{ runtimes: [] }, /^runtimes: must be an object/],
    [{ runtimes: { x: "path" } }, /runtimes.x: must be an object with "path"/],
    [{ runtimes: { x: { path: 5 } } }, /runtimes.x.path: must be a string/],
    [
      { runtimes: { x: { path: "/x", runtimeType: "io.containerd.runc.v2" } } },
      /runtimes.x: unknown key "runtimeType"/,
    ],
    [{ runtimes: { x: { path: "/x", runtimeArgs: "--a" } } }, /runtimeArgs: must be a list of strings/],
    [{ runtimes: { x: { path: "/x", runtimeArgs: Array(65).fill("a") } } }, /more than 64 arguments/],
    [[], /must be a JSON object/],
    ["text", /must be a JSON object/],
    [null, /must be a JSON object/],
  ];
  for (const [file, message] of bad)
    assert.throws(() => resolve([], file), { kind: "invalid-argument", message }, JSON.stringify(file).slice(0, 80));
});

test("hostile or wrong values are refused with a clear message", () => {
  const bad: [string[], RegExp][] = [
    [["extra"], /takes no arguments/],
    [["--data-root", "relative/dir"], /data-root: "relative\/dir" is not an absolute path/],
    [["--data-root", "/a\0b"], /NUL/],
    [["--exec-root", `/${"x".repeat(5000)}`], /longer than 4095 bytes/],
    [["-H", `unix:///${"s".repeat(120)}`], /at most 107 bytes/],
    [["-H", "/var/run/berth.sock"], /expected unix:\/\/\/PATH or tcp:\/\/HOST:PORT/],
    [["-H", "fd://"], /fd:\/\/ .* not supported/],
    [["-H", "http://x:1"], /expected unix/],
    [["-H", "tcp://0.0.0.0:2375"], /needs mutual TLS/],
    [
      ["-H", "tcp://x:99999", "--tlsverify", "--tlscacert", "/c", "--tlscert", "/d", "--tlskey", "/e"],
      /expected tcp:\/\/HOST:PORT/,
    ],
    [["-H", "tcp://x:1", "--tls", "--tlscert", "/d", "--tlskey", "/e"], /needs mutual TLS/],
    [["--tlsverify"], /tlsverify needs tlscacert, tlscert and tlskey/],
    [["--default-runtime", "nope"], /default-runtime: unknown runtime "nope" \(known: berth-runc, crun, runc\)/],
    [["--add-runtime", "runc=/x"], /runtime name 'runc' is reserved/],
    [["--add-runtime", "noequals"], /expected NAME=PATH/],
    [["--add-runtime", "=x"], /expected NAME=PATH/],
    [["--add-runtime", "a b=/x"], /invalid runtime name/],
    [["--add-runtime", "x=./rel"], /runtime x: path: ".\/rel" is not an absolute path/],
    [["--add-runtime", "x=/a", "--add-runtime", "x=/b"], /defined twice/],
    [["--log-level", "loud"], /log-level: unknown level "loud"/],
    [["--containerd-namespace", "a/b"], /invalid namespace/],
    [["--containerd-namespace", "x".repeat(77)], /invalid namespace/],
    [["--group", "root;rm"], /invalid group/],
    [["--group", "99999999999"], /invalid group/],
    [["--containerd", "relative.sock"], /containerd: "relative.sock" is not an absolute path/],
    [["--bogus-flag"], /flag provided but not defined: -bogus-flag/],
  ];
  for (const [argv, message] of bad) assert.throws(() => resolve(argv), { message }, argv.join(" ").slice(0, 80));
  const many = Array.from({ length: 65 }, (_, i) => ["--add-runtime", `r${i}=/bin/r`]).flat();
  assert.throws(() => resolve(many), /more than 64 runtimes/);
  const hosts = Array.from({ length: 17 }, (_, i) => ["-H", `unix:///tmp/s${i}`]).flat();
  assert.throws(() => resolve(hosts), /more than 16 addresses/);
});

test("tcp:// with mutual TLS is accepted, IPv6 included", () => {
  const tls = ["--tlsverify", "--tlscacert", "/etc/ca.pem", "--tlscert", "/etc/cert.pem", "--tlskey", "/etc/key.pem"];
  const c = resolve(["-H", "tcp://127.0.0.1:2376", "-H", "tcp://[::1]:2377", ...tls]);
  assert.deepEqual(c.hosts, [
    { kind: "tcp", host: "127.0.0.1", port: 2376 },
    { kind: "tcp", host: "::1", port: 2377 },
  ]);
  assert.deepEqual(c.tls, { ca: "/etc/ca.pem", cert: "/etc/cert.pem", key: "/etc/key.pem" });
  assert.deepEqual(parseHost("unix://", false), { kind: "unix", path: "/run/berth/berth.sock" });
});
