import assert from "node:assert/strict";
import { test } from "node:test";
import { footprint, parseSmaps } from "./smaps.ts";

/** One smaps entry as the kernel prints it (the fields that matter, in its order, plus some it adds). */
function entry(
  header: string,
  kb: { rss: number; pss: number; anon?: number; privClean?: number; privDirty?: number },
) {
  return [
    header,
    "Size:               9999 kB",
    "KernelPageSize:        4 kB",
    `Rss:             ${kb.rss} kB`,
    `Pss:             ${kb.pss} kB`,
    `Shared_Clean:    ${kb.rss - (kb.privClean ?? 0) - (kb.privDirty ?? 0)} kB`,
    "Shared_Dirty:          0 kB",
    `Private_Clean:   ${kb.privClean ?? 0} kB`,
    `Private_Dirty:   ${kb.privDirty ?? 0} kB`,
    `Anonymous:       ${kb.anon ?? 0} kB`,
    "THPeligible:           0",
    "VmFlags: rd mr mw me ",
  ].join("\n");
}

const NODE = "/opt/node/bin/node";
const node = (start: string, kb: Parameters<typeof entry>[1], perms = "r-xp") =>
  entry(`${start}-${start}fff ${perms} 00000000 fe:00 5308934                            ${NODE}`, kb);

test("parseSmaps: mappings by object, their kB, unknown lines skipped", () => {
  const text = [
    node("00400000", { rss: 3000, pss: 500 }, "r--p"),
    node("0074d000", { rss: 18000, pss: 2600 }),
    entry("03400000-03500000 rw-p 03000000 fe:00 5308934 /opt/node/bin/node", {
      rss: 200,
      pss: 180,
      anon: 160,
      privDirty: 160,
    }),
    entry("05000000-06000000 rw-p 00000000 00:00 0                                  [heap]", {
      rss: 4000,
      pss: 4000,
      anon: 4000,
      privDirty: 4000,
    }),
    entry("7f0000000000-7f0000100000 rw-p 00000000 00:00 0 ", { rss: 800, pss: 800, anon: 800, privDirty: 800 }),
    entry("7f0000200000-7f0000300000 rw-s 00000000 00:01 4242                       /dev/zero (deleted)", {
      rss: 64,
      pss: 32,
    }),
    entry("7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0                          [vdso]", { rss: 8, pss: 0 }),
    "garbage line",
    "",
  ].join("\n");
  const maps = parseSmaps(text);
  assert.deepEqual(
    maps.map((m) => [m.object, m.rssKb, m.pssKb, m.anonymousKb, m.privateKb]),
    [
      ["fe:00 5308934", 3000, 500, 0, 0],
      ["fe:00 5308934", 18000, 2600, 0, 0],
      ["fe:00 5308934", 200, 180, 160, 160],
      ["[heap]", 4000, 4000, 4000, 4000],
      ["[anonymous]", 800, 800, 800, 800],
      ["00:01 4242", 64, 32, 0, 0],
      ["[vdso]", 8, 0, 0, 0],
    ],
  );
  assert.equal(maps[0]!.path, NODE);
  assert.equal(maps[5]!.path, "/dev/zero (deleted)");
});

test("parseSmaps: hostile and empty input", () => {
  assert.deepEqual(parseSmaps(""), []);
  assert.deepEqual(parseSmaps("Rss: 5 kB\nPss: 3 kB\n"), [], "fields before any header belong to nothing");
  // An Anonymous count above Rss (never from a kernel) is clamped, so no negative file share.
  const [m] = parseSmaps(entry("1000-2000 rw-p 00000000 00:00 0 ", { rss: 4, pss: 4, anon: 40 }));
  assert.equal(m?.anonymousKb, 4);
  // Many headers without fields: each a mapping of 0 kB.
  const many = parseSmaps("1000-2000 r--p 00000000 fe:00 1 /x\n".repeat(2000));
  assert.equal(many.length, 2000);
});

test("footprint: anonymous pages summed, a shared file counted once at its largest", () => {
  // Three node processes (berthd, berth-containerd, a shim): each its own heap, the node binary's
  // text touched 18000, 17000 and 12000 kB; Pss low because other node processes share the binary.
  const proc = (heap: number, text: number) =>
    parseSmaps(
      [
        node("00400000", { rss: 3000, pss: 400 }, "r--p"),
        node("0074d000", { rss: text, pss: text / 7 }),
        entry("05000000-06000000 rw-p 00000000 00:00 0 [heap]", { rss: heap, pss: heap, anon: heap, privDirty: heap }),
        entry("7f00-7f01 r-xp 00000000 fe:00 77 /usr/lib/x86_64-linux-gnu/libc.so.6", { rss: 1000, pss: 50 }),
      ].join("\n"),
    );
  const f = footprint([proc(20000, 18000), proc(15000, 17000), proc(5000, 12000)]);
  assert.equal(f.anonymousKb, 40000);
  // The binary: the largest total of one process (3000 + 18000); libc once.
  assert.equal(f.objectsKb, 21000 + 1000);
  assert.equal(f.aloneKb, 62000);
  assert.equal(f.rssKb, 20000 + 15000 + 5000 + 3 * (3000 + 1000) + 18000 + 17000 + 12000);
  assert.equal(f.privateKb, 40000);
  assert.ok(f.pssKb < f.aloneKb, "Pss is lower here: the pages are split with processes outside the set");
});

test("footprint: the result does not depend on who else maps the file (Pss does)", () => {
  const proc = (pss: number, privClean: number) =>
    parseSmaps(
      [
        entry("00400000-00500000 r-xp 00000000 fe:00 9 /usr/sbin/dockerd", { rss: 30000, pss, privClean }),
        entry("05000000-06000000 rw-p 00000000 00:00 0 ", { rss: 9000, pss: 9000, anon: 9000, privDirty: 9000 }),
      ].join("\n"),
    );
  const alone = footprint([proc(30000, 30000)]);
  const beside = footprint([proc(15000, 0)]); // a second dockerd maps the same pages
  assert.equal(alone.aloneKb, 39000);
  assert.equal(beside.aloneKb, 39000);
  assert.notEqual(alone.pssKb, beside.pssKb);
});

test("footprint: shared memory counted once, a mapped object split over several mappings summed per process", () => {
  const a = parseSmaps(
    [
      entry("1000-2000 rw-s 00000000 00:01 4242 /dev/zero (deleted)", { rss: 64, pss: 32 }),
      entry("3000-4000 r--p 00000000 fe:00 5 /lib/x.so", { rss: 10, pss: 10 }),
      entry("5000-6000 r-xp 00001000 fe:00 5 /lib/x.so", { rss: 30, pss: 30 }),
    ].join("\n"),
  );
  const b = parseSmaps(
    [
      entry("1000-2000 rw-s 00000000 00:01 4242 /dev/zero (deleted)", { rss: 64, pss: 32 }),
      entry("5000-6000 r-xp 00001000 fe:00 5 /lib/x.so", { rss: 35, pss: 35 }),
    ].join("\n"),
  );
  const f = footprint([a, b]);
  assert.equal(f.objectsKb, 64 + 40);
  assert.equal(f.anonymousKb, 0);
  assert.deepEqual(footprint([]), { aloneKb: 0, anonymousKb: 0, objectsKb: 0, rssKb: 0, pssKb: 0, privateKb: 0 });
});
