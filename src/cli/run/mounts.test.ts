// --mount and -v read as the docker CLI reads them (the refusals are docker 28's words, checked by hand
// against `docker create --mount ...`).
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseMount, splitVolumes } from "./mounts.ts";

test("--mount: fields, aliases, bare booleans, quoted commas, type-specific options", () => {
  assert.deepEqual(parseMount("type=bind,src=/a,dst=/b,readonly"), {
    value: { Type: "bind", Source: "/a", Target: "/b", ReadOnly: true },
  });
  assert.deepEqual(parseMount("target=/v,volume-nocopy=false"), {
    value: { Type: "volume", Target: "/v", VolumeOptions: { NoCopy: false, DriverConfig: {} } },
  });
  assert.deepEqual(parseMount('type=tmpfs,"destination=/a,b",tmpfs-size=1k,tmpfs-mode=700'), {
    value: { Type: "tmpfs", Target: "/a,b", TmpfsOptions: { SizeBytes: 1024, Mode: 0o700 } },
  });
});

test("--mount refusals", () => {
  assert.deepEqual(parseMount("bad"), { problem: "invalid field 'bad' must be a key=value pair" });
  assert.deepEqual(parseMount("type=bind,src=/a"), { problem: "target is required" });
  assert.deepEqual(parseMount("type=bind,dst=/a,nope=1"), { problem: "unexpected key 'nope' in 'nope=1'" });
  assert.deepEqual(parseMount("type=bind,dst=/a,tmpfs-size=1k"), {
    problem: "cannot mix 'tmpfs-*' options with mount type 'bind'",
  });
  assert.deepEqual(parseMount("type=bind,dst=/a,ro=maybe"), { problem: "invalid value for ro: maybe" });
  assert.deepEqual(parseMount('type=bind,"dst=/a'), {
    problem: `parse error on line 1, column 18: extraneous or missing " in quoted-field`,
  });
});

test("-v: binds, ./paths made absolute, anonymous volumes, refusals", () => {
  assert.deepEqual(splitVolumes(["/h:/c:ro", "name:/n", "./rel:/r", "/anon"], "/work"), {
    binds: ["/h:/c:ro", "name:/n", "/work/rel:/r"],
    anonymous: ["/anon"],
  });
  assert.deepEqual(splitVolumes([":/x"], "/"), { problem: "invalid spec: :/x: empty section between colons" });
  assert.deepEqual(splitVolumes(["a:b:c:d"], "/"), { problem: "invalid spec: a:b:c:d: too many colons" });
  assert.deepEqual(splitVolumes([""], "/"), { problem: "invalid empty volume spec" });
});
