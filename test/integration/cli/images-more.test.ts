// berth's image and registry commands against the real docker CLI on the SAME berthd and a local
// registry with htpasswd: login/logout (the messages, exit codes and config.json each writes, a
// credential helper's protocol), push then pull back, save | load, import, system/volume/network
// prune (berthd has no network or volume routes: both fail alike), and the same prunes against
// Debian's dockerd, where they work. Hostile input: a config.json that is huge or not JSON, a
// credential helper that is missing or hangs, a load stream the daemon rejects.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { writeImageArchive } from "../../fixtures/oci-image.ts";
import { outputOf } from "../../helpers/berth-containerd.ts";
import { type Berthd, berthdWithBusybox, DOCKER_CLI, DOCKER_CLI_20, DOCKER_CLI_28 } from "../../helpers/berthd.ts";
import { inPty, terminalText } from "../../helpers/cli-scenario.ts";
import { type LocalRegistry, startRegistry } from "../../helpers/local-registry.ts";
import { type Dockerd, startDockerd } from "../../helpers/peers.ts";
import { recordingDaemon } from "../../helpers/recording-daemon.ts";

const BERTH = process.env.BERTH_CLI ?? join(import.meta.dirname, "..", "..", "..", "dist", "berth.mjs");
/** Output docker CLI 20.10 words otherwise (login's warnings, prune's question) is compared with 28 only. */
const IS_28 = DOCKER_CLI === DOCKER_CLI_28;
let d: Berthd;
let reg: LocalRegistry;
let bin: string;

before(async () => {
  d = await berthdWithBusybox();
  reg = await startRegistry({ auth: "htpasswd" });
  bin = join(d.dir, "bin");
  mkdirSync(bin);
});
after(async () => {
  await reg?.stop();
  await d?.cleanup();
});

interface Opts {
  /** The config dir (DOCKER_CONFIG). */
  config: string;
  input?: string | Buffer;
  env?: Record<string, string>;
  host?: string;
}

function run(cli: "berth" | "docker", args: string[], o: Opts) {
  const argv = cli === "berth" ? [process.execPath, BERTH] : [DOCKER_CLI];
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    PATH: `${bin}:${process.env.PATH}`,
    DOCKER_CONFIG: o.config,
    DOCKER_API_VERSION: DOCKER_CLI === DOCKER_CLI_20 ? "1.41" : "",
    ...o.env,
  };
  const child = spawn(argv[0] as string, [...argv.slice(1), "-H", o.host ?? `unix://${d.socket}`, ...args], {
    stdio: [o.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    env,
    timeout: 120_000,
  });
  if (o.input !== undefined) child.stdin?.end(o.input);
  return outputOf(child);
}

/** A fresh config dir for each client (holding `config` when given). */
function configs(name: string, config?: unknown): { docker: string; berth: string } {
  const out = { docker: join(d.dir, `${name}-docker`), berth: join(d.dir, `${name}-berth`) };
  for (const dir of Object.values(out)) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    if (config !== undefined) writeFileSync(join(dir, "config.json"), JSON.stringify(config));
  }
  return out;
}

const normal = (s: string, dirs: string[] = []) => {
  let t = s.replaceAll("docker", "P").replaceAll("berth", "P");
  for (const dir of dirs) t = t.replaceAll(dir.replaceAll("docker", "P").replaceAll("berth", "P"), "<config>");
  return t.replace(/\b[0-9a-f]{64}\b/g, "<id>").replace(/\b[0-9a-f]{12}\b/g, "<short>");
};

/** Both clients, each with its own config dir; berth's stdout, stderr and exit code must be docker's. */
async function same(args: string[], dirs: { docker: string; berth: string }, o: Partial<Opts> = {}, compareErr = true) {
  const want = await run("docker", args, { ...o, config: dirs.docker });
  const got = await run("berth", args, { ...o, config: dirs.berth });
  const all = [dirs.docker, dirs.berth];
  assert.equal(normal(got.stdout, all), normal(want.stdout, all), `stdout of ${args.join(" ")}`);
  if (compareErr) assert.equal(normal(got.stderr, all), normal(want.stderr, all), `stderr of ${args.join(" ")}`);
  assert.equal(got.status, want.status, `exit code of ${args.join(" ")}: ${got.stderr}`);
  return got;
}

/** same() where docker CLI 28 is the client; with 20.10, whose words differ here, berth alone (the caller checks its words). */
function same28(args: string[], dirs: { docker: string; berth: string }, o: Partial<Opts> = {}) {
  return IS_28 ? same(args, dirs, o) : run("berth", args, { ...o, config: dirs.berth });
}

const configOf = (dir: string) => JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));

describe("login and logout", () => {
  test("the file store: wrong password, -p's warning, --password-stdin, kept credentials, logout; config.json as docker's", async () => {
    const dirs = configs("login");
    const host = reg.host;
    const wrong = await same(["login", "-u", reg.username, "-p", "wrong", host], dirs);
    assert.equal(wrong.status, 1);
    assert.match(wrong.stderr, /^WARNING! Using --password via the CLI is insecure/);
    assert.match(wrong.stderr, /Error response from daemon: .*401/);
    assert.equal(existsSync(join(dirs.berth, "config.json")), false, "nothing kept after a refusal");
    const ok = await same(
      ["login", "-u", reg.username, "--password-stdin", `http://${host}/v2/`],
      dirs,
      { input: `${reg.password}\n` },
      IS_28,
    );
    assert.equal(ok.stdout, "Login Succeeded\n");
    assert.match(ok.stderr, /stored unencrypted in '.*config\.json'/);
    assert.deepEqual(configOf(dirs.berth), configOf(dirs.docker));
    assert.equal(
      Buffer.from(configOf(dirs.berth).auths[host].auth, "base64").toString(),
      `${reg.username}:${reg.password}`,
    );
    assert.equal(statSync(join(dirs.berth, "config.json")).mode & 0o777, 0o600);
    // No flags: the kept credentials, said so on stderr.
    const kept = await same28(["login", host], dirs);
    assert.equal(kept.stdout, "Login Succeeded\n");
    assert.match(kept.stderr, /^Authenticating with existing credentials\.\.\. \[Username: berth\]/);
    // Bad flag combinations, in docker 28's words (20.10 has its own).
    for (const args of [
      ["login", "-p", "x", "--password-stdin", host],
      ["login", "--password-stdin", host],
      ["login", "-u", "", "-p", "x", host],
    ]) {
      const r = await run("berth", args, { config: dirs.berth, input: "x" });
      assert.equal(r.status, 1, args.join(" "));
      if (IS_28) await same(args, dirs, { input: "x" });
    }
    const out = await same(["logout", host], dirs);
    assert.equal(out.stdout, `Removing login credentials for ${host}\n`);
    assert.deepEqual(configOf(dirs.berth), { auths: {} });
    // Nothing kept, no terminal: docker's refusal to prompt.
    const none = await same28(["login", host], dirs);
    assert.equal(none.status, 1);
    assert.equal(none.stderr, "Error: Cannot perform an interactive login from a non TTY device\n");
  });

  test("on a terminal: Username and Password asked (the password not echoed), as docker asks", async () => {
    const screens: string[] = [];
    for (const cli of IS_28 ? (["docker", "berth"] as const) : (["berth"] as const)) {
      const config = join(d.dir, `tty-${cli}`);
      rmSync(config, { recursive: true, force: true });
      const argv = cli === "berth" ? [process.execPath, BERTH] : [DOCKER_CLI];
      const r = await inPty(
        [...argv, "-H", `unix://${d.socket}`, "login", reg.host],
        { ...process.env, DOCKER_CONFIG: config },
        [
          { expect: /Username: $/, send: `${reg.username}\r` },
          { expect: /Password: $/, send: `${reg.password}\r` },
          { expect: /Login Succeeded/ },
        ],
      );
      assert.equal(r.status, 0, r.stdout);
      assert.ok(!r.stdout.includes(reg.password), "the password is not echoed");
      screens.push(normal(terminalText(r.stdout), [config]));
      assert.ok(existsSync(join(config, "config.json")));
    }
    if (screens.length === 2) assert.equal(screens[1], screens[0]);
    assert.match(
      screens.at(-1) as string,
      /^Username: P\nPassword: \n\nWARNING! Your credentials are stored unencrypted/,
    );
  });

  test("a credential helper (credsStore, credHelpers): store, get, erase; config.json keeps an empty entry and other keys", async () => {
    const store = join(d.dir, "helper-store");
    mkdirSync(store, { recursive: true });
    const script = join(bin, "docker-credential-testfile");
    writeFileSync(
      script,
      `#!/bin/sh
echo "$1" >> ${store}/log
case "$1" in
store) cat > ${store}/creds;;
get) read s; if [ -f ${store}/creds ]; then cat ${store}/creds; else echo "credentials not found in native keychain"; exit 1; fi;;
erase) read s; echo "$s" >> ${store}/erased; rm -f ${store}/creds;;
list) echo '{}';;
esac
`,
    );
    chmodSync(script, 0o755);
    const dirs = configs("helper", { credsStore: "testfile", "x-kept": { a: 1 } });
    const login = await run("berth", ["login", "-u", reg.username, "--password-stdin", reg.host], {
      config: dirs.berth,
      input: reg.password,
    });
    assert.equal(login.status, 0, login.stderr);
    assert.equal(login.stdout, "Login Succeeded\n");
    assert.equal(login.stderr, "", "no warning: the helper keeps them");
    assert.deepEqual(JSON.parse(readFileSync(join(store, "creds"), "utf8")), {
      ServerURL: reg.host,
      Username: reg.username,
      Secret: reg.password,
    });
    assert.deepEqual(configOf(dirs.berth), { credsStore: "testfile", "x-kept": { a: 1 }, auths: { [reg.host]: {} } });
    // docker reads what berth's helper kept: the protocol is the same.
    const dockerKept = await run("docker", ["login", reg.host], { config: dirs.berth });
    assert.equal(dockerKept.status, 0, dockerKept.stderr);
    // A push through the helper's credentials (X-Registry-Auth from the helper).
    assert.equal((await run("berth", ["tag", "busybox", `${reg.host}/helped/bb:1`], { config: dirs.berth })).status, 0);
    const push = await run("berth", ["push", `${reg.host}/helped/bb:1`], { config: dirs.berth });
    assert.equal(push.status, 0, push.stderr);
    assert.match(push.stdout, /1: digest: sha256:[0-9a-f]{64} size: \d+\n$/);
    const logout = await run("berth", ["logout", reg.host], { config: dirs.berth });
    assert.equal(logout.status, 0, logout.stderr);
    assert.equal(existsSync(join(store, "creds")), false);
    assert.match(readFileSync(join(store, "erased"), "utf8"), new RegExp(`^${reg.host}\n`));
    // (docker 20.10's login above dropped x-kept: docker keeps only the keys it knows.)
    assert.deepEqual(configOf(dirs.berth).auths, {});
    assert.equal(configOf(dirs.berth).credsStore, "testfile");
    // credHelpers names a helper that is not there: docker's error, exit 1, for both.
    const missing = configs("helper-missing", { credHelpers: { [reg.host]: "nosuch" } });
    // (20.10's Go words it after a PATH lookup quirk of its own: compared with 28 only.)
    const r = await same28(["login", "-u", reg.username, "--password-stdin", reg.host], missing, {
      input: reg.password,
    });
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /^Error saving credentials: error storing credentials - err: exec: "docker-credential-nosuch": executable file not found in \$PATH/,
    );
  });

  test("hostile config: a huge or broken config.json is not overwritten; a hanging helper times out", async () => {
    for (const [name, text] of [
      ["broken", "{ not json"],
      ["huge", `{"pad":"${"x".repeat(5 * 1024 * 1024)}"}`],
    ] as const) {
      const dir = join(d.dir, `hostile-${name}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "config.json"), text);
      const r = await run("berth", ["login", "-u", reg.username, "--password-stdin", reg.host], {
        config: dir,
        input: reg.password,
      });
      assert.equal(r.status, 1, `${name}: ${r.stderr}`);
      assert.match(r.stderr, /^WARNING: Error loading config file/, name);
      assert.match(r.stderr, /Error saving credentials: .*not overwritten/, name);
      assert.equal(readFileSync(join(dir, "config.json"), "utf8"), text, name);
    }
    const hang = join(bin, "docker-credential-hang");
    writeFileSync(hang, "#!/bin/sh\nsleep 60\n");
    chmodSync(hang, 0o755);
    const dirs = configs("hang", { credsStore: "hang" });
    const t0 = Date.now();
    const r = await run("berth", ["pull", `${reg.host}/nosuch:1`], {
      config: dirs.berth,
      env: { BERTH_CREDENTIAL_HELPER_TIMEOUT: "1000" },
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /error getting credentials - err: docker-credential-hang did not answer in 1 s/);
    assert.ok(Date.now() - t0 < 20_000);
  });
});

describe("push, save, load, import", () => {
  let dirs: { docker: string; berth: string };
  before(async () => {
    const auth = Buffer.from(`${reg.username}:${reg.password}`).toString("base64");
    dirs = configs("push", { auths: { [reg.host]: { auth } } });
  });

  test("push: progress lines as docker's, -q, -a with a tag, a missing tag, no credentials; then pulled back", async () => {
    const ref = `${reg.host}/pushed/bb:1`;
    assert.equal((await run("berth", ["tag", "busybox", ref], { config: dirs.berth })).status, 0);
    const pushed = await same(["push", ref], dirs);
    assert.match(pushed.stdout, /^The push refers to repository \[.*\/pushed\/bb\]\n/);
    await same(["push", "-q", ref], dirs);
    await same(["push", "-a", ref], dirs);
    const missing = await same(["push", `${reg.host}/pushed/nosuch`], dirs);
    assert.match(missing.stdout, /^Using default tag: latest\n/);
    assert.match(missing.stderr, /An image does not exist locally with the tag/);
    const anon = configs("push-anon");
    const refused = await same(["push", ref], anon);
    assert.equal(refused.status, 1);
    // Pulled back from the registry.
    assert.equal((await run("berth", ["rmi", ref], { config: dirs.berth })).status, 0);
    const pull = await run("berth", ["pull", ref], { config: dirs.berth });
    assert.equal(pull.status, 0, pull.stderr);
    assert.ok(pull.stdout.endsWith(`\n${ref}\n`), pull.stdout);
    const ran = await run("berth", ["run", "--rm", ref, "echo", "pushed and pulled"], { config: dirs.berth });
    assert.equal(ran.stdout, "pushed and pulled\n", ran.stderr);
  });

  test("save | load: the same archive as docker's, Loaded image lines, -o, -i, refusals", async () => {
    const file = join(d.dir, "saved.tar");
    const viaDocker = join(d.dir, "saved-by-docker.tar");
    assert.equal((await run("docker", ["save", "-o", viaDocker, "busybox"], { config: dirs.docker })).status, 0);
    const saved = await run("berth", ["save", "-o", file, "busybox"], { config: dirs.berth });
    assert.equal(saved.status, 0, saved.stderr);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    // The daemon's archive: the same entries (their times are the moment of the save).
    const entries = async (f: string) => (await outputOf(spawn("tar", ["-tf", f]))).stdout;
    assert.equal(await entries(file), await entries(viaDocker));
    assert.match(await entries(file), /^index\.json$/m);
    await same(["save", "nosuch"], dirs);
    const noDir = await same28(["save", "-o", "/nonexistent/dir/x.tar", "busybox"], dirs);
    assert.equal(
      noDir.stderr,
      "failed to save image: invalid output path: stat /nonexistent/dir: no such file or directory\n",
    );
    assert.equal((await run("berth", ["tag", "busybox", "roundtrip:1"], { config: dirs.berth })).status, 0);
    const piped = join(d.dir, "roundtrip.tar");
    const child = spawn("sh", [
      "-c",
      `"${process.execPath}" "${BERTH}" -H unix://${d.socket} save roundtrip:1 > ${piped}`,
    ]);
    assert.equal((await outputOf(child)).status, 0);
    assert.equal((await run("berth", ["rmi", "roundtrip:1"], { config: dirs.berth })).status, 0);
    const loaded = await same(["load"], dirs, { input: readFileSync(piped) });
    assert.equal(loaded.stdout, "Loaded image: roundtrip:1\n");
    await same(["load", "-i", piped], dirs);
    await same(["load", "-q", "-i", piped], dirs);
    await same(["load", "-i", join(d.dir, "nosuch.tar")], dirs);
    // A terminal is never the archive: save to one and load from one are refused (exit 1).
    for (const [args, words] of [
      [["save", "busybox"], /cowardly refusing to save to a terminal\. Use the -o flag or redirect/],
      [["load"], /requested load from stdin, but stdin is empty/],
    ] as const) {
      const r = await inPty([process.execPath, BERTH, "-H", `unix://${d.socket}`, ...args], process.env, [
        { expect: words },
      ]);
      assert.equal(r.status, 1, args.join(" "));
    }
    // A stream the daemon rejects: its error, exit 1, nothing left hanging.
    const garbage = await same(["load"], dirs, { input: Buffer.alloc(300_000, 0x41) });
    assert.equal(garbage.status, 1);
    assert.match(garbage.stderr, /^Error response from daemon: /);
  });

  test("import: a file, stdin, -c and -m; a URL as the daemon answers it", async () => {
    const tar = join(d.dir, "rootfs.tar");
    const src = join(d.dir, "rootfs");
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, "hello.txt"), "imported\n");
    assert.equal((await outputOf(spawn("tar", ["-C", src, "-cf", tar, "hello.txt"]))).status, 0);
    const r = await same(["import", "-c", "ENV A=1", "-m", "from a file", tar, "imported:1"], dirs);
    assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const inspect = JSON.parse((await run("berth", ["image", "inspect", "imported:1"], { config: dirs.berth })).stdout);
    assert.deepEqual(inspect[0].Config.Env, ["A=1"]);
    assert.equal(inspect[0].Comment, "from a file");
    assert.equal(inspect[0].Id, r.stdout.trim());
    await same(["import", "-", "imported:2"], dirs, { input: readFileSync(tar) });
    await same(["import", "http://127.0.0.1:1/rootfs.tar", "imported:3"], dirs);
    await same(["import", join(d.dir, "nosuch.tar")], dirs);
  });
});

test("bad input is refused before anything is sent: names docker refuses, missing files, flag conflicts", async () => {
  const rec = await recordingDaemon();
  try {
    const config = configs("refused").berth;
    for (const [args, words] of [
      [["push", "BAD:x:y"], "invalid reference format: repository name (library/BAD) must be lowercase"],
      [["push", "-a", "x:1"], "tag can't be used with --all-tags/-a"],
      [["push", `x@sha256:${"0".repeat(64)}`], "cannot push a digest reference"],
      [["import", "-", "Up:1"], "invalid reference format: repository name (library/Up) must be lowercase"],
      [["load", "-i", join(d.dir, "nosuch.tar")], `open ${join(d.dir, "nosuch.tar")}: no such file or directory`],
      [["save", "-o", "/nonexistent/dir/x.tar", "busybox"], "failed to save image: invalid output path"],
      [
        ["login", "-p", "x", "--password-stdin"],
        "conflicting options: cannot specify both --password and --password-stdin",
      ],
      [["system", "prune", "-f", "--volumes", "--filter", "until=1h"], 'ERROR: The "until" filter is not supported'],
    ] as const) {
      const r = await run("berth", [...args], { config, host: `unix://${rec.socket}`, input: "" });
      assert.equal(r.status, 1, `${args.join(" ")}: ${r.stderr}`);
      assert.ok(r.stderr.startsWith(words), `${args.join(" ")}: ${r.stderr}`);
    }
    assert.deepEqual(rec.requests, []);
  } finally {
    await rec.close();
  }
});

describe("prune", () => {
  test("system prune against berthd: the question, containers pruned, then the daemon's missing network route", async () => {
    const dirs = configs("prune");
    if (IS_28) {
      await same(["system", "prune"], dirs, { input: "n\n" });
      await same(["system", "prune", "-a", "--volumes", "--filter", "label=x"], dirs, { input: "n\n" });
    }
    await same(["system", "prune", "-f", "--volumes", "--filter", "until=1h"], dirs);
    for (const cli of ["docker", "berth"] as const) {
      assert.equal(
        (await run(cli, ["run", "--name", `exited-${cli}`, "busybox", "true"], { config: dirs.berth })).status,
        0,
      );
    }
    const want = await run("docker", ["system", "prune", "-f"], { config: dirs.docker });
    for (const cli of ["docker", "berth"] as const) {
      assert.equal(
        (await run(cli, ["run", "--name", `exited2-${cli}`, "busybox", "true"], { config: dirs.berth })).status,
        0,
      );
    }
    const got = await run("berth", ["system", "prune", "-f"], { config: dirs.berth });
    assert.equal(normal(got.stdout), normal(want.stdout));
    assert.equal(got.stdout.split("\n")[0], "Deleted Containers:");
    assert.equal(got.stderr, "Error response from daemon: page not found\n");
    assert.equal(got.status, 1);
    assert.equal(want.status, 1);
    await same(["volume", "prune", "-f"], dirs);
    await same(["network", "prune", "-f"], dirs);
    const asked = await same28(["volume", "prune"], dirs, { input: "n\n" });
    assert.equal(
      asked.stdout,
      "WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] ",
    );
    await same(["network", "prune"], dirs, { input: "y\n" });
  });

  test("system, volume and network prune against Debian's dockerd work as docker's", async () => {
    let dockerd: Dockerd | undefined;
    try {
      dockerd = await startDockerd();
      const host = `unix://${join(dockerd.dir, "docker.sock")}`;
      const dirs = configs("prune-dockerd");
      for (const args of [
        ["system", "prune", "-f"],
        ["system", "prune", "-f", "-a", "--volumes"],
        ["volume", "prune", "-f"],
        ["network", "prune", "-f"],
      ]) {
        const r = await same(args, dirs, { host });
        assert.equal(r.status, 0, `${args.join(" ")}: ${r.stderr}`);
      }
      // The busybox fixture, loaded by both (berth load works against dockerd too; nothing is pulled).
      const archive = join(d.dir, "busybox-for-dockerd.tar");
      await writeImageArchive(archive, { name: "docker.io/library/busybox:latest" });
      const loaded = await same(["load", "-i", archive], dirs, { host });
      assert.equal(loaded.stdout, "Loaded image: busybox:latest\n");
      // Something to prune: a stopped container and an unused volume, made again for each client.
      const outputs: string[] = [];
      for (const cli of ["docker", "berth"] as const) {
        for (const args of [
          ["volume", "create", "leftover"],
          ["create", "--pull", "never", "--name", "stopped", "busybox", "true"],
        ]) {
          const made = await run("docker", args, { config: dirs.docker, host });
          assert.equal(made.status, 0, made.stderr);
        }
        const r = await run(cli, ["system", "prune", "-f", "--volumes"], { config: dirs[cli], host });
        assert.equal(r.status, 0, `${cli}: ${r.stderr}`);
        outputs.push(normal(r.stdout));
      }
      assert.equal(outputs[1], outputs[0]);
      assert.match(
        outputs[1] as string,
        /^Deleted Containers:\n<id>\n\nDeleted Volumes:\nleftover\n\nTotal reclaimed space: /,
      );
    } finally {
      await dockerd?.stop();
    }
  });
});
