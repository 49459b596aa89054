// berthd's events, df and info beside Debian's dockerd 20.10 on the same machine, driven by the
// same docker CLI with the busybox fixture image: the container events of `docker run --rm
// busybox true` and of `docker run -d` + stop + rm (Type and Action in order, the attribute
// names, the message's keys), an image tag and rmi, /system/df's shape and `docker system df`'s
// rows, and the /info keys clients read. Ids, times and sizes are left out of the comparison.
// dockerd's network events (connect/disconnect of its "none" network) have no berthd
// counterpart until networks exist: type=container keeps them out of the comparison.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type EnginePair, type EventLine, pairSkip, startEnginePair, unixNow } from "../helpers/engine-pair.ts";
import { startRegistry } from "../helpers/local-registry.ts";

/** Keys of a JSON object, sorted. */
const keys = (o: object) => Object.keys(o).sort();

describe("berthd's events, df and info beside dockerd's", { skip: pairSkip() }, () => {
  let pair: EnginePair;
  /** The same CLI command on both; both must succeed. */
  const both = async (args: string[]) => {
    const r = await pair.both(args);
    assert.equal(r.ref.status, 0, `dockerd: docker ${args.join(" ")}: ${r.ref.stderr}`);
    assert.equal(r.ours.status, 0, `berthd: docker ${args.join(" ")}: ${r.ours.stderr}`);
    return { ref: r.ref.stdout, ours: r.ours.stdout };
  };
  const get = async (path: string) => {
    const [r, o] = await Promise.all(pair.engines.map((e) => e.http("GET", path)));
    assert.equal(r!.status, 200, r!.body);
    assert.equal(o!.status, 200, o!.body);
    return { ref: r!.body, ours: o!.body };
  };
  /** Each daemon's container events since `since`, of the named containers. */
  const eventsOf = async (since: string, names: string[]) => {
    const got = await pair.events(since, { type: ["container"] });
    const pick = (lines: EventLine[]) => lines.filter((e) => names.includes(e.Actor.Attributes.name ?? ""));
    return { ref: pick(got.ref), ours: pick(got.ours), all: got };
  };
  const shape = (e: EventLine) => `${e.Actor.Attributes.name} ${e.Action} ${keys(e.Actor.Attributes).join(",")}`;

  before(async () => {
    pair = await startEnginePair();
  });
  after(async () => {
    await pair?.cleanup();
  });

  test("docker run --rm busybox true: the same container events, attributes and message keys", async () => {
    const since = unixNow();
    await both(["run", "--rm", "--name", "sys-rm", "--label", "app=x", "busybox", "true"]);
    const ev = await eventsOf(since, ["sys-rm"]);
    assert.deepEqual(ev.ours.map(shape), ev.ref.map(shape), JSON.stringify(ev.all));
    assert.deepEqual(
      ev.ours.map((e) => e.Action),
      ["create", "attach", "start", "die", "destroy"],
    );
    assert.deepEqual(keys(ev.ours[0]!), keys(ev.ref[0]!));
    assert.deepEqual(keys(ev.ours[0]!.Actor), keys(ev.ref[0]!.Actor));
  });

  test("docker run -d, stop and rm: the same events (kill 15, kill 9, die 137, stop), in order", async () => {
    const since = unixNow();
    await both(["run", "-d", "--name", "sys-d", "busybox", "sleep", "100"]);
    await both(["stop", "-t", "1", "sys-d"]);
    await both(["rm", "sys-d"]);
    const ev = await eventsOf(since, ["sys-d"]);
    assert.deepEqual(ev.ours.map(shape), ev.ref.map(shape));
    const detail = (e: EventLine) =>
      `${e.Action} ${e.Actor.Attributes.signal ?? ""}${e.Actor.Attributes.exitCode ?? ""}`;
    assert.deepEqual(ev.ours.map(detail), ev.ref.map(detail));
  });

  test("pause, unpause, rename, restart, kill -s: the same events", async () => {
    const since = unixNow();
    await both(["run", "-d", "--name", "sys-l", "busybox", "sleep", "100"]);
    await both(["pause", "sys-l"]);
    await both(["unpause", "sys-l"]);
    await both(["rename", "sys-l", "sys-l2"]);
    await both(["restart", "-t", "1", "sys-l2"]);
    await both(["kill", "-s", "USR1", "sys-l2"]);
    await both(["rm", "-f", "sys-l2"]);
    const ev = await eventsOf(since, ["sys-l", "sys-l2"]);
    const detail = (e: EventLine) =>
      `${e.Actor.Attributes.name} ${e.Action} ${e.Actor.Attributes.signal ?? ""}${e.Actor.Attributes.oldName ?? ""}`;
    assert.deepEqual(ev.ours.map(detail), ev.ref.map(detail));
  });

  test("image tag and rmi: the same image events", async () => {
    const since = unixNow();
    await both(["tag", "busybox", "sys-tag:1"]);
    await both(["rmi", "sys-tag:1"]);
    const got = await pair.events(since, { type: ["image"] });
    const pick = (lines: EventLine[]) =>
      lines.map(
        (e) =>
          `${e.status} ${e.Action} ${e.Actor.Attributes.name?.startsWith("sha256:") ? "<id>" : e.Actor.Attributes.name}`,
      );
    assert.deepEqual(pick(got.ours), pick(got.ref));
  });

  test("push to and pull from a loopback registry: the same image events, named alike", async () => {
    const reg = await startRegistry();
    try {
      const name = `${reg.host}/sys-pp:1`;
      const since = unixNow();
      await both(["tag", "busybox", name]);
      // One after the other: the same blobs go to the same repository.
      for (const e of pair.engines) {
        const pushed = await e.docker(["push", name]);
        assert.equal(pushed.status, 0, `${e.name}: ${pushed.stderr}`);
      }
      await both(["rmi", name]);
      await both(["pull", name]);
      await both(["rmi", name]);
      const got = await pair.events(since, { type: ["image"] });
      const pick = (lines: EventLine[]) =>
        lines.map((e) => {
          const shown = (v: string | undefined) => (v?.startsWith("sha256:") ? "<id>" : v);
          return `${e.Action} ${shown(e.Actor.ID)} ${shown(e.Actor.Attributes.name)}`;
        });
      assert.deepEqual(pick(got.ours), pick(got.ref));
      // The reference as the id, the repository as the name (dockerd's).
      assert.ok(pick(got.ours).includes(`pull ${name} ${reg.host}/sys-pp`), JSON.stringify(got.ours));
      assert.ok(pick(got.ours).includes(`push ${name} ${reg.host}/sys-pp`), JSON.stringify(got.ours));
    } finally {
      await reg.stop();
    }
  });

  test("/system/df: the same shape; docker system df the same rows", async () => {
    await both(["run", "-d", "--name", "sys-df", "busybox", "sleep", "100"]);
    try {
      const got = await get("/v1.41/system/df");
      const ref = JSON.parse(got.ref);
      const ours = JSON.parse(got.ours);
      // dockerd 20.10 answers BuildCache null (no builder has run); berthd [] as the API says.
      assert.deepEqual(keys(ours), keys(ref));
      assert.deepEqual(keys(ours.Images[0]), keys(ref.Images[0]));
      // SizeRw is left out when 0: dockerd's graph driver counts file bytes (none written here),
      // containerd's snapshotter the upper directory's blocks (its own block at least).
      const containerKeys = (c: object) => keys(c).filter((k) => k !== "SizeRw");
      assert.deepEqual(containerKeys(ours.Containers[0]), containerKeys(ref.Containers[0]));
      assert.equal(ours.Images[0].Containers, ref.Images[0].Containers);
      assert.deepEqual(ours.Images[0].RepoTags, ref.Images[0].RepoTags);
      assert.deepEqual(ours.Volumes, ref.Volumes);
      const rows = (text: string) =>
        text
          .split("\n")
          .filter(Boolean)
          .map((l) =>
            l
              .split(/\s{2,}/)
              .slice(0, 3)
              .join("|"),
          );
      const df = await both(["system", "df"]);
      assert.deepEqual(rows(df.ours), rows(df.ref));
    } finally {
      await both(["rm", "-f", "sys-df"]);
    }
  });

  test("/info: every key dockerd answers that clients read is there", async () => {
    const got = await get("/v1.41/info");
    const ref = JSON.parse(got.ref);
    const ours = JSON.parse(got.ours);
    // Gone from the API since (KernelMemory 1.42, KernelMemoryTCP 1.45): berthd answers 1.50's set.
    const retired = new Set(["KernelMemory", "KernelMemoryTCP"]);
    const missing = keys(ref).filter((k) => !(k in ours) && !retired.has(k));
    assert.deepEqual(missing, []);
    for (const k of ["OSType", "CgroupDriver", "CgroupVersion", "KernelVersion", "Architecture", "NCPU", "MemTotal"]) {
      assert.equal(ours[k], ref[k], k);
    }
    for (const k of ["MemoryLimit", "SwapLimit", "CpuCfsPeriod", "CpuCfsQuota", "CPUShares", "CPUSet", "PidsLimit"]) {
      assert.equal(ours[k], ref[k], k);
    }
    assert.equal(typeof ours.ID, "string");
  });
});
