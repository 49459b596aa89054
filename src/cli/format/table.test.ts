// ps and images output against what the real docker CLI printed: testdata/list-oracle.json holds
// berthd's GET /containers/json (plain and ?size=1) and /images/json answers, the time they were
// taken, and docker CLI 28's stdout/stderr/exit code for ps and images with several --format
// values, run right after. Then tabwriter, units and ports cases from Go's rules.
process.env.TZ = "UTC";

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { type ImageSummary, imageRows, imagesTable, needDigest } from "./images-context.ts";
import {
  type ContainerSummary,
  displayablePorts,
  ellipsis,
  psRow,
  psSizeNeeded,
  psTable,
  truncateId,
} from "./ps-context.ts";
import { renderFormatted, tabwrite } from "./table.ts";
import { TemplateError } from "./template.ts";
import { goTimeString, humanDuration, humanSize } from "./units.ts";

interface ListCase {
  args: string[];
  list: "containers" | "containersSized" | "images";
  stdout: string;
  stderr: string;
  status: number;
}
const oracle = JSON.parse(readFileSync(join(import.meta.dirname, "testdata", "list-oracle.json"), "utf8")) as {
  now: number;
  containers: ContainerSummary[];
  containersSized: ContainerSummary[];
  images: ImageSummary[];
  cases: ListCase[];
};

function berthOutput(c: ListCase): { stdout: string; stderr: string; status: number } {
  const [command, ...flags] = c.args;
  const at = flags.indexOf("--format");
  const format = at >= 0 ? flags[at + 1] : undefined;
  const trunc = !flags.includes("--no-trunc");
  try {
    if (command === "ps") {
      // docker ps asks for sizes with -s or when the format reads .Size; the oracle says which list it got.
      const sized = flags.includes("-s") || psSizeNeeded(format);
      const list = sized ? oracle.containersSized : oracle.containers;
      const rows = list.map((x) => psRow(x, { trunc, now: oracle.now }));
      return { stdout: renderFormatted(format, rows, psTable({ size: flags.includes("-s") })), stderr: "", status: 0 };
    }
    const digests = flags.includes("--digests");
    const rows = oracle.images.flatMap((i) =>
      imageRows(i, { trunc, digests: needDigest(format, digests), now: oracle.now }),
    );
    return { stdout: renderFormatted(format, rows, imagesTable({ digests })), stderr: "", status: 0 };
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
    return { stdout: "", stderr: `${e.message}\n`, status: e.exitCode };
  }
}

test("docker ps and docker images: the default tables, --no-trunc, -s, --digests and custom formats print what docker CLI 28 printed", () => {
  assert.ok(oracle.cases.length >= 20);
  const differ: string[] = [];
  for (const c of oracle.cases) {
    const got = berthOutput(c);
    const want = { stdout: c.stdout, stderr: c.stderr, status: c.status };
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      differ.push(`${c.args.join(" ")}\n  docker: ${JSON.stringify(want)}\n  berth:  ${JSON.stringify(got)}`);
    }
  }
  assert.deepEqual(differ, []);
});

test("tabwriter: min width 10, padding 3, the last cell unpadded, blocks end at a line without the column", () => {
  assert.equal(
    tabwrite("A\tBB\tC\nlonger-cell-x\tb\tc\n"),
    "A               BB        C\nlonger-cell-x   b         c\n",
  );
  // A line without tabs ends the block: the lines after it are laid out on their own.
  assert.equal(tabwrite("a\tb\nplain\nxxxxxxxxxxxxxx\tb\n"), "a         b\nplain\nxxxxxxxxxxxxxx   b\n");
  // Widths count characters, not bytes.
  assert.equal(tabwrite("é\tx\n"), "é         x\n");
  assert.equal(tabwrite(""), "");
  // Nested runs: column 1 of the first line ends at the second line, which has no cell there.
  assert.equal(
    tabwrite("a\tb\tc\nd\te\nfffffffffffff\tg\th\n"),
    "a               b         c\nd               e\nfffffffffffff   g         h\n",
  );
  // Hostile: a template's row of 300000 cells (a range writing tabs) is laid out, not a stack overflow.
  const wide = renderFormatted("table {{range 300000}}x\t{{end}}", [{}], { columns: [] });
  assert.equal(wide.split("\n")[1]!.length, 300000 * 10);
});

test("units: HumanSize with 3 and 4 significant digits, HumanDuration's words", () => {
  assert.deepEqual(
    [0, 999, 1000, 4096, 8192, 2_073_000, 1_234_567_890, 1e30].map((n) => humanSize(n)),
    ["0B", "999B", "1kB", "4.1kB", "8.19kB", "2.07MB", "1.23GB", "1e+06YB"],
  );
  assert.equal(humanSize(2_073_000, 4), "2.073MB");
  const s = 1000;
  assert.deepEqual(
    [
      0.5 * s,
      1 * s,
      59 * s,
      60 * s,
      119 * s,
      120 * s,
      3599 * s,
      3600 * s,
      5399 * s,
      5400 * s,
      47 * 3600 * s,
      48 * 3600 * s,
    ].map(humanDuration),
    [
      "Less than a second",
      "1 second",
      "59 seconds",
      "About a minute",
      "About a minute",
      "2 minutes",
      "59 minutes",
      "About an hour",
      "About an hour",
      "2 hours",
      "47 hours",
      "2 days",
    ],
  );
  const day = 86_400 * s;
  assert.deepEqual([14 * day, 60 * day, 730 * day, 800 * day].map(humanDuration), [
    "2 weeks",
    "2 months",
    "2 years",
    "2 years",
  ]);
});

test("ports as docker groups them: runs, host mappings last, IPv6 in brackets", () => {
  assert.equal(
    displayablePorts([
      { PrivatePort: 81, Type: "tcp" },
      { PrivatePort: 80, Type: "tcp" },
      { PrivatePort: 53, Type: "udp" },
      { IP: "0.0.0.0", PrivatePort: 9000, PublicPort: 9000, Type: "tcp" },
      { IP: "0.0.0.0", PrivatePort: 9001, PublicPort: 9001, Type: "tcp" },
      { IP: "127.0.0.1", PrivatePort: 80, PublicPort: 8080, Type: "tcp" },
      { IP: "::", PrivatePort: 80, PublicPort: 8080, Type: "tcp" },
      { PrivatePort: 83, Type: "tcp" },
    ]),
    // A run that ends is written out at once (80-81 before 53, whose run lasts to the end).
    "80-81/tcp, 53/udp, 83/tcp, 0.0.0.0:9000-9001->9000-9001/tcp, 127.0.0.1:8080->80/tcp, [::]:8080->80/tcp",
  );
  assert.equal(displayablePorts([]), "");
});

test("ps fields from the list entry: ids, names, image names, commands, mounts", () => {
  assert.equal(truncateId("sha256:0123456789abcdef"), "0123456789ab");
  assert.equal(ellipsis("0123456789012345678901", 20), "0123456789012345678…");
  assert.equal(ellipsis("short", 20), "short");
  const row = psRow(
    {
      Id: "f".repeat(64),
      Names: ["/web", "/other/alias"],
      Image: "docker.io/library/nginx:1@sha256:abc",
      ImageID: "sha256:1234",
      Command: "nginx -g 'daemon off;'",
      Created: 0,
      Labels: { b: "2", a: "1" },
      Mounts: [
        { Name: "", Source: "/a/very/long/host/path", Driver: "" },
        { Name: "vol", Driver: "local" },
      ],
      NetworkSettings: { Networks: { z: {}, bridge: {} } },
    },
    { trunc: true, now: 90_000 },
  );
  assert.deepEqual(
    [row.ID, row.Names, row.Image, row.Command, row.Labels, row.Mounts, row.LocalVolumes, row.Networks, row.RunningFor],
    [
      "ffffffffffff",
      "web",
      "nginx:1",
      '"nginx -g \'daemon of…"',
      "a=1,b=2",
      "/a/very/long/h…,vol",
      "1",
      "bridge,z",
      "About a minute ago",
    ],
  );
  assert.equal(row.Label("a"), "1");
  // docker's Command is strconv.Quote's: \x1b and \x7f, as Go escapes them.
  assert.equal(
    psRow({ Id: "x", Command: "printf '\x1b[31m\x7f'" }, { trunc: false, now: 0 }).Command,
    "\"printf '\\x1b[31m\\x7f'\"",
  );
  assert.equal(psRow({ Id: "x", Image: "" }, { trunc: true, now: 0 }).Image, "<no image>");
  assert.equal(
    psRow({ Id: "x", Image: "sha256:1234567890abcdef", ImageID: "sha256:1234567890abcdef" }, { trunc: true, now: 0 })
      .Image,
    "1234567890ab",
  );
});

test("images rows: dangling images, digest-only references, tags per repository", () => {
  const now = 0;
  const dangling = imageRows({ Id: "sha256:abc", RepoTags: [], RepoDigests: [] }, { trunc: true, digests: false, now });
  assert.deepEqual(
    dangling.map((r) => [r.Repository, r.Tag, r.Digest]),
    [["<none>", "<none>", "<none>"]],
  );
  const digestOnly = imageRows(
    { Id: "sha256:abc", RepoTags: [], RepoDigests: ["reg:5000/x@sha256:d1"] },
    { trunc: true, digests: false, now },
  );
  assert.deepEqual(
    digestOnly.map((r) => [r.Repository, r.Tag, r.Digest]),
    [["reg:5000/x", "<none>", ""]],
  );
  const tagged = imageRows(
    { Id: "sha256:abc", RepoTags: ["docker.io/library/a:1", "a:2"], RepoDigests: ["a@sha256:d1", "a@sha256:d2"] },
    { trunc: true, digests: true, now },
  );
  assert.deepEqual(
    tagged.map((r) => `${r.Repository}:${r.Tag}@${r.Digest}`),
    ["a:1@sha256:d1", "a:1@sha256:d2", "a:2@sha256:d1", "a:2@sha256:d2"],
  );
});

test("renderFormatted: a table with no rows still has its header; a template error names docker's words", () => {
  assert.equal(
    renderFormatted(undefined, [], psTable()),
    "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n",
  );
  assert.equal(renderFormatted("{{.Names}}", [], psTable()), "");
  assert.throws(
    () => renderFormatted("{{.Names", [], psTable()),
    (e: unknown) =>
      e instanceof TemplateError &&
      e.message === "template parsing error: template: :1: unclosed action" &&
      e.exitCode === 1,
  );
});

test("docker ps asks for sizes when the format reads .Size; its template errors come first, in ps' words", () => {
  assert.deepEqual(
    [
      undefined,
      "{{.Names}}",
      "json",
      "table",
      "{{.Size}}",
      "{{json .}}",
      "table {{.ID}}\t{{.Size}}",
      "{{if .Size}}{{end}}",
    ].map(psSizeNeeded),
    [false, false, false, false, true, true, true, true],
  );
  assert.throws(
    () => psSizeNeeded("{{.Nope}}"),
    (e: unknown) =>
      e instanceof TemplateError &&
      e.exitCode === 1 &&
      e.message ===
        `failed to execute template: template: :1:2: executing "" at <.Nope>: can't evaluate field Nope in type *formatter.ContainerContext`,
  );
  assert.throws(
    () => psSizeNeeded("{{foo}}"),
    (e: unknown) =>
      e instanceof TemplateError && e.message === 'failed to parse template: template: :1: function "foo" not defined',
  );
});

test("CreatedAt as Go's time String in the local zone: docker CLI 28 with TZ set printed these", () => {
  const created = 1796496257;
  assert.equal(goTimeString(created, "UTC"), "2026-12-05 18:44:17 +0000 UTC");
  assert.equal(goTimeString(created, "Europe/Berlin"), "2026-12-05 19:44:17 +0100 CET");
  assert.equal(goTimeString(created, "America/New_York"), "2026-12-05 13:44:17 -0500 EST");
  assert.equal(goTimeString(created, "Asia/Kolkata"), "2026-12-06 00:14:17 +0530 IST");
  assert.equal(goTimeString(created, "Europe/London"), "2026-12-05 18:44:17 +0000 GMT");
  // docker: "+0900 JST"; Node's English locales have no abbreviation for Tokyo.
  assert.equal(goTimeString(created, "Asia/Tokyo"), "2026-12-06 03:44:17 +0900 +09");
});
