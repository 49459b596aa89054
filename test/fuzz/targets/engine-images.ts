// Target: what berthd's image routes take from clients and archives (src/engine/images): image
// references (`parseImageRef`, `parseTagTarget`), the X-Registry-Auth header, `reference` globs,
// list and prune filters over images, and image config documents shown through the views.
// Correct: a typed refusal (a BerthError), or: a reference's name parses back to itself and its
// familiar form to the same name; auth fields are strings; a glob compiles to a pattern that
// answers at once; filters select a subset; any config the decoder takes is shown (list entry,
// inspect, history) as JSON with the image's id, its layer sizes summed, and one history entry
// per layer-making step or per layer.
import fc from "fast-check";
import { BerthError } from "../../../src/common/errors.ts";
import { parseFilters } from "../../../src/engine/api/query.ts";
import { globToRe2, imageFilter, LIST_FILTERS, PRUNE_FILTERS } from "../../../src/engine/images/filters.ts";
import { BUSYBOX_CONFIG, imageOf } from "../../../src/engine/images/fixture.test-helper.ts";
import { familiarName, parseImageRef, parseTagTarget } from "../../../src/engine/images/reference.ts";
import { decodeRegistryAuth } from "../../../src/engine/images/registry-auth.ts";
import { findIn } from "../../../src/engine/images/service.ts";
import { historyBody, inspectBody, listEntry } from "../../../src/engine/images/views.ts";
import { check, type FuzzTarget } from "../harness.ts";
import { type Json, mutatedJsonText } from "../json-mutate.ts";
import { editedStrings } from "../mutate.ts";

export type ImagesInput =
  | { kind: "reference"; text: string; tag: string }
  | { kind: "auth"; text: string; raw: boolean }
  | { kind: "glob"; text: string }
  | { kind: "filters"; text: string; prune: boolean }
  | { kind: "config"; text: string };

const D = `sha256:${"ab".repeat(32)}`;
const REFERENCES = [
  "busybox",
  "busybox:1.36",
  "library/busybox:latest",
  "docker.io/user/app:v1",
  "localhost:5000/a/b/c:tag",
  "127.0.0.1:5000/tools/bb:1",
  "[::1]:5000/x:y",
  `busybox@${D}`,
  `reg.example.com/x:1@${D}`,
  "docker.io/a.b/c",
  "ab".repeat(32),
];
const TAGS = ["", "latest", "v1.2.3", "sha256", "x".repeat(128), "Bad Tag"];
const AUTH: Json[] = [
  { username: "u", password: "p", serveraddress: "127.0.0.1:5000" },
  { identitytoken: "tok" },
  { auth: Buffer.from("me:secret").toString("base64"), email: "x@y" },
  {},
];
const GLOBS = ["busy*", "busybox:1.*", "localhost:5000/*/app", "b[a-u]sybox", "[^a]*", "\\*", "a?c", "*".repeat(40)];
const FILTERS: Json[] = [
  { dangling: ["true"], label: ["a=b", "c"], reference: ["busy*"] },
  { before: ["busybox"], since: ["mine:1"], "label!": ["tier"], until: ["2021-01-01T00:00:00Z"] },
  { dangling: { false: true }, reference: { "localhost:5000/*": true } },
];

const IMAGES = [
  imageOf(["docker.io/library/busybox:latest", "docker.io/library/mine:1"]),
  imageOf(["localhost:5000/team/app:v1"], { ...BUSYBOX_CONFIG, config: { Labels: { tier: "web" } } }),
  imageOf([`moby-dangling@sha256:${"c".repeat(64)}`], { ...BUSYBOX_CONFIG, author: "dangling" }),
];
const NAMES = ["busybox:latest", "docker.io/library/busybox:1", "localhost:5000/team/app:v1", "a/b/c", ""];

function run(input: ImagesInput): void {
  switch (input.kind) {
    case "reference": {
      const ref = parseImageRef(input.text);
      check(parseImageRef(ref.name).name === ref.name, () => `a name does not parse back to itself | ${ref.name}`);
      check(
        parseImageRef(familiarName(ref.name)).name === ref.name,
        () => `the familiar name is another image | ${ref.name} -> ${familiarName(ref.name)}`,
      );
      check(ref.name.startsWith(ref.repo), () => `the name is not in its repository | ${ref.name}`);
      const target = parseTagTarget(input.text, input.tag);
      check(target.digest === undefined, "a tag target with a digest");
      return;
    }
    case "auth": {
      const header = input.raw ? input.text : Buffer.from(input.text).toString("base64url");
      const auth = decodeRegistryAuth(header);
      if (auth === undefined) return;
      for (const v of Object.values(auth)) check(typeof v === "string", "an auth field that is not a string");
      check(auth.username !== "" || auth.password !== "" || auth.identityToken !== "", "empty credentials returned");
      return;
    }
    case "glob": {
      const re = globToRe2(input.text);
      for (const n of NAMES) re.matches(n);
      return;
    }
    case "filters": {
      const filters = parseFilters(input.text, input.prune ? PRUNE_FILTERS : LIST_FILTERS);
      const picked = IMAGES.filter(imageFilter(filters, (r) => findIn(IMAGES, r).image));
      check(picked.length <= IMAGES.length, "filters added images");
      return;
    }
    case "config": {
      const image = imageOf(["docker.io/library/fuzz:1"], input.text, [7, 11, 13]);
      for (const version of ["1.24", "1.41", "1.44", "1.50"]) {
        const entry = listEntry(image, version);
        check(entry.Id === image.id, "the list entry's id");
        check(
          entry.Size === image.layerSizes.reduce((a, b) => a + b, 0),
          () => `the size is not the layers' sum | ${entry.Size}`,
        );
        check(Number.isSafeInteger(entry.Created), "Created is not an integer");
        JSON.stringify(inspectBody(image, version));
      }
      const history = historyBody(image);
      const made = image.facts.history.filter((h) => !h.emptyLayer).length;
      const expected = image.facts.history.length > 0 ? image.facts.history.length : image.layerSizes.length;
      check(history.length === expected, () => `history has ${history.length} entries, not ${expected}`);
      check(
        made >= 0 && history.every((h) => Number.isSafeInteger(h.Size) && (h.Size as number) >= 0),
        "a history size",
      );
      JSON.stringify(history);
      return;
    }
  }
}

export function createTarget(): FuzzTarget<ImagesInput> {
  return {
    name: "engine-images",
    about:
      "image references, X-Registry-Auth, reference globs, image filters, image configs through the views -> typed refusal or sound result",
    arbitrary: fc.oneof(
      fc.record({
        kind: fc.constant("reference" as const),
        text: editedStrings(REFERENCES),
        tag: editedStrings(TAGS),
      }),
      fc.record({ kind: fc.constant("auth" as const), text: mutatedJsonText(AUTH), raw: fc.constant(false) }),
      fc.record({
        kind: fc.constant("auth" as const),
        text: editedStrings(["e30=", "eyJ1c2VybmFtZSI6InUifQ", "!!", "A".repeat(64)]),
        raw: fc.constant(true),
      }),
      fc.record({ kind: fc.constant("glob" as const), text: editedStrings(GLOBS) }),
      fc.record({ kind: fc.constant("filters" as const), text: mutatedJsonText(FILTERS), prune: fc.boolean() }),
      fc.record({ kind: fc.constant("config" as const), text: mutatedJsonText([BUSYBOX_CONFIG as unknown as Json]) }),
    ),
    run,
    isExpected: (err) => err instanceof BerthError && (err.kind === "invalid-argument" || err.kind === "not-found"),
    slowMs: 1000,
  };
}
