// system df -v's rows and tables from a fixed GET /system/df answer, as docker CLI 28 prints them
// (its layout was read off docker 28 against berthd), and answers a daemon should not send.
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeDiskUsage, dfRows, verboseFormatted } from "./system-df.ts";
import { buildCacheSize, firstTag, goTimeOf, verboseDiskUsage, verboseTables } from "./system-df-verbose.ts";

process.env.TZ = "UTC";
const NOW = Date.parse("2026-12-06T04:13:00Z");
const T = (iso: string) => Date.parse(iso) / 1000;
const BUSYBOX = "sha256:28bce9cff8dd26b716f8aba0f9386c1eb0335e7efb2dca47d826c0a4e0613068";
const MINE = "sha256:dc96189e63f4d0e0280cd788e597e14ba7f09a1c759d5d40cda1e785b5cd088d";
const DANGLING = "sha256:883eab6e21cc3b30fa409e0f36e12820c54f4a3784a658b337edc2a1db3248dc";

/** A berthd answer (three images, two containers) with a volume and cache records added. */
function answer() {
  return {
    LayersSize: 2391636,
    Images: [
      {
        Id: BUSYBOX,
        RepoTags: ["busybox:latest", "other/repo:tagged"],
        RepoDigests: [],
        Created: 0,
        Size: 2073000,
        SharedSize: 2073000,
        Containers: 4,
      },
      {
        Id: MINE,
        RepoTags: ["docker.io/library/mine:v1"],
        Created: T("2026-12-06T04:12:26Z"),
        Size: 2388400,
        SharedSize: 2073000,
        Containers: 1,
      },
      {
        Id: DANGLING,
        RepoTags: null,
        RepoDigests: null,
        Created: T("2026-12-06T04:12:26Z"),
        Size: 2077096,
        SharedSize: 2073000,
        Containers: 0,
      },
    ],
    Containers: [
      {
        Id: "ec303258ba3caba4a0c3535a4daa0a73117f335b00fed32d16ad19f1dfe20d91",
        Names: ["/web"],
        Image: "busybox",
        ImageID: BUSYBOX,
        Command: "sh -c 'echo hi > /f; sleep 1000'",
        Created: T("2026-12-06T04:12:24Z"),
        SizeRw: 315392,
        SizeRootFs: 2388392,
        State: "running",
        Status: "Up 33 seconds",
        Mounts: [{ Name: "data", Driver: "local" }],
      },
      {
        Id: "bb20ce451bf6c8edcc786fb06bf2d762be9f83fc271be5efeb4aa47add6cb96c",
        Names: ["/long-cmd"],
        Image: "busybox",
        Command: "sh -c 'echo \"a very long command\"'",
        Created: T("2026-12-06T04:12:26Z"),
        SizeRw: 4096,
        State: "exited",
        Status: "Exited (0) 25 seconds ago",
      },
    ],
    Volumes: [
      { Name: "data", Driver: "local", UsageData: { RefCount: 1, Size: 12345 } },
      { Name: "unknown", Driver: "local", UsageData: { RefCount: -1, Size: -1 } },
      { Name: "nousage", Driver: "local", UsageData: null },
    ],
    BuildCache: [
      {
        ID: "zu7m6evdpebh5h8kfkpw9dlf2",
        Type: "regular",
        Size: 1000,
        CreatedAt: "2026-12-06T03:13:00Z",
        LastUsedAt: "2026-12-06T04:00:00.5Z",
        UsageCount: 2,
        InUse: true,
      },
      {
        ID: "aaaaaaaaaaaaaaaaaaaaaaaaa",
        Type: "source.local",
        Size: 2500,
        Shared: true,
        CreatedAt: "2026-12-04T04:13:00Z",
        LastUsedAt: null,
        UsageCount: 0,
      },
    ],
  };
}

test("df -v's four tables: first tags only, <none> for a dangling image, ps' command and ages, no virtual size", () => {
  const df = decodeDiskUsage(answer());
  const out = verboseTables(verboseDiskUsage(df, { trunc: true, now: NOW }), buildCacheSize(df));
  assert.equal(
    out,
    `Images space usage:

REPOSITORY   TAG       IMAGE ID       CREATED          SIZE      SHARED SIZE   UNIQUE SIZE   CONTAINERS
busybox      latest    28bce9cff8dd   56 years ago     2.07MB    2.073MB       0B            4
mine         v1        dc96189e63f4   34 seconds ago   2.39MB    2.073MB       315.4kB       1
<none>       <none>    883eab6e21cc   34 seconds ago   2.08MB    2.073MB       4.096kB       0

Containers space usage:

CONTAINER ID   IMAGE     COMMAND                   LOCAL VOLUMES   SIZE      CREATED          STATUS                      NAMES
ec303258ba3c   busybox   "sh -c 'echo hi > /f…"    1               315kB     36 seconds ago   Up 33 seconds               web
bb20ce451bf6   busybox   "sh -c 'echo \\"a very…"   0               4.1kB     34 seconds ago   Exited (0) 25 seconds ago   long-cmd

Local Volumes space usage:

VOLUME NAME   LINKS     SIZE
data          1         12.35kB
unknown       -1        -1B
nousage       N/A       N/A

Build cache usage: 1kB

CACHE ID        CACHE TYPE     SIZE      CREATED             LAST USED        USAGE     SHARED
aaaaaaaaaaaa    source.local   2.5kB     2 days ago                           0         true
zu7m6evdpebh*   regular        1kB       About an hour ago   13 minutes ago   2         false
`,
  );
});

test("df -v with nothing: each section's header alone, Build cache usage: 0B", () => {
  const out = verboseTables(verboseDiskUsage({}, { trunc: true, now: NOW }), 0);
  assert.equal(
    out,
    `Images space usage:

REPOSITORY   TAG       IMAGE ID   CREATED   SIZE      SHARED SIZE   UNIQUE SIZE   CONTAINERS

Containers space usage:

CONTAINER ID   IMAGE     COMMAND   LOCAL VOLUMES   SIZE      CREATED   STATUS    NAMES

Local Volumes space usage:

VOLUME NAME   LINKS     SIZE

Build cache usage: 0B

CACHE ID   CACHE TYPE   SIZE      CREATED   LAST USED   USAGE     SHARED
`,
  );
});

test("--format with -v: once over the whole view, no newline added; json untruncated, table truncated", () => {
  const df = decodeDiskUsage(answer());
  const json = JSON.parse(verboseFormatted(df, "json", NOW));
  assert.deepEqual(Object.keys(json), ["Images", "Containers", "Volumes", "BuildCache"]);
  assert.equal(json.Images[0].ID, BUSYBOX);
  assert.equal(json.Images[0].Digest, "");
  assert.equal(json.Containers[0].Size, "315kB");
  assert.equal(json.Containers[0].Command, `"sh -c 'echo hi > /f; sleep 1000'"`);
  assert.deepEqual(Object.keys(json.Volumes[0]), [
    "Availability",
    "Driver",
    "Group",
    "Labels",
    "Links",
    "Mountpoint",
    "Name",
    "Scope",
    "Size",
    "Status",
  ]);
  assert.equal(json.BuildCache[1].ID, "zu7m6evdpebh5h8kfkpw9dlf2*");
  assert.equal(json.BuildCache[1].LastUsedAt, "2026-12-06 04:00:00.5 +0000 UTC");
  // docker's MarshalJSON escapes HTML inside each row.
  assert.match(verboseFormatted(df, "{{json .}}", NOW), /"Repository":"\\u003cnone\\u003e"/);
  assert.equal(
    verboseFormatted(df, "table {{range .Images}}{{.ID}}\\t{{end}}", NOW),
    "28bce9cff8dd\tdc96189e63f4\t883eab6e21cc\t",
  );
  assert.equal(verboseFormatted(df, "  {{len .Containers}}\\n  ", NOW), "2\n");
  assert.equal(verboseFormatted(df, "json ", NOW), "json");
  assert.match(
    verboseFormatted(df, "raw", NOW),
    /^type: Image\nrepository: busybox\ntag: latest\ndigest: \nimage_id: sha256:28bce9cff8dd/,
  );
  assert.match(
    verboseFormatted(df, "raw", NOW),
    /type: Volume\nname: nousage\ndriver: local\n\ntype: Build Cache\nbuild_cache_id: aaaa/,
  );
});

test("--format errors with -v: a parse error is docker's 'template parsing error', an execution error Go's words alone", () => {
  const df = decodeDiskUsage(answer());
  assert.throws(() => verboseFormatted(df, "{{.Images", NOW), {
    message: "template parsing error: template: :1: unclosed action",
    exitCode: 1,
  });
  assert.throws(() => verboseFormatted(df, "table {{.ID}}", NOW), {
    message: `template: :1:2: executing "" at <.ID>: can't evaluate field ID in type *formatter.diskUsageContext`,
    exitCode: 1,
  });
});

test("firstTag: the first name only, familiar; a digest alone is <none>; a name that does not parse hides the image", () => {
  assert.deepEqual(firstTag({ Id: "x", RepoTags: ["docker.io/library/a:1", "b:2"] }), ["a", "1"]);
  assert.deepEqual(firstTag({ Id: "x", RepoTags: ["docker.io/user/a:1"] }), ["user/a", "1"]);
  assert.deepEqual(firstTag({ Id: "x", RepoTags: ["localhost:5000/a:1"] }), ["localhost:5000/a", "1"]);
  assert.deepEqual(firstTag({ Id: "x", RepoTags: [`a@sha256:${"0".repeat(64)}`] }), ["<none>", "<none>"]);
  assert.deepEqual(firstTag({ Id: "x", RepoTags: ["<none>:<none>"], RepoDigests: ["<none>@<none>"] }), [
    "<none>",
    "<none>",
  ]);
  // Not dangling (a real digest) but its tag is "<none>:<none>": docker's parse fails, the image is skipped.
  assert.equal(firstTag({ Id: "x", RepoTags: ["<none>:<none>"], RepoDigests: ["a@sha256:1"] }), undefined);
  assert.equal(firstTag({ Id: "x", RepoTags: ["UPPER:1"] }), undefined);
  const df = decodeDiskUsage({
    Images: [
      { Id: "sha256:1", RepoTags: ["BAD:1"] },
      { Id: "sha256:2", RepoTags: ["ok:1"] },
    ],
  });
  assert.deepEqual(
    verboseDiskUsage(df, { trunc: true, now: NOW }).Images.map((i) => i.Repository),
    ["ok"],
  );
});

test("hostile answers: nulls and missing fields are zero values, -1 sizes print as docker's, wrong types fail in Go's words", () => {
  const df = decodeDiskUsage({
    Images: [null, { Id: null, Size: -1, SharedSize: -1, Containers: -1 }, {}],
    Containers: [null, { SizeRw: -1 }, {}],
    Volumes: [null, {}, { UsageData: {} }],
    BuildCache: [null, {}, { CreatedAt: "not a time", LastUsedAt: "2026-13-99T99:99:99Z" }],
  });
  const v = verboseDiskUsage(df, { trunc: true, now: NOW });
  assert.deepEqual(
    v.Images.map((i) => [i.Repository, i.ID, i.Size, i.SharedSize, i.UniqueSize, i.Containers]),
    [
      ["<none>", "", "-1B", "N/A", "N/A", "N/A"],
      ["<none>", "", "0B", "N/A", "N/A", "N/A"],
    ],
  );
  assert.deepEqual(
    v.Containers.map((c) => [c.ID, c.Size, c.Command, c.Image]),
    [
      ["", "-1B", '""', "<no image>"],
      ["", "0B", '""', "<no image>"],
    ],
  );
  assert.deepEqual(
    v.Volumes.map((x) => [x.Name, x.Links, x.Size]),
    [
      ["", "N/A", "N/A"],
      ["", "0", "0B"],
    ],
  );
  assert.equal(v.BuildCache.length, 2);
  assert.equal(v.BuildCache[0]!.CreatedAt, "0001-01-01 00:00:00 +0000 UTC");
  // The whole view still renders, and the summary survives the same answer.
  assert.match(verboseTables(v, buildCacheSize(df)), /^Images space usage:/);
  assert.equal(dfRows(df)[0]!.TotalCount, "2");
  assert.throws(() => decodeDiskUsage({ Images: [{ RepoTags: "x" }] }), {
    message: "json: cannot unmarshal string into Go struct field Summary.Images.RepoTags of type []string",
  });
  assert.throws(() => decodeDiskUsage({ Volumes: [{ UsageData: { Size: "big" } }] }), {
    message: "json: cannot unmarshal string into Go struct field UsageData.Volumes.UsageData.Size of type int64",
  });
  assert.throws(() => decodeDiskUsage([]), {
    message: "json: cannot unmarshal array into Go value of type types.DiskUsage",
  });
  assert.deepEqual(decodeDiskUsage(null), {});
});

test("goTimeOf: Go's Time.String of a JSON time (fraction trimmed, the offset kept), zero for garbage", () => {
  assert.equal(goTimeOf("2026-12-06T04:00:00.500Z").text, "2026-12-06 04:00:00.5 +0000 UTC");
  assert.equal(goTimeOf("2026-12-06T05:00:00+01:00").text, "2026-12-06 05:00:00 +0100 +0100");
  assert.equal(goTimeOf("2026-12-06T05:00:00+01:00").ms, Date.parse("2026-12-06T04:00:00Z"));
  assert.equal(goTimeOf("x".repeat(100000)).text, "0001-01-01 00:00:00 +0000 UTC");
});
