// --use-api-socket's config.json for the container: the expected text is what docker 28 copied
// into a container (captured from its PUT .../archive) for the same client config.json.
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeHeader } from "../../common/archive/tar-format.ts";
import { configArchive, containerConfigJson } from "./api-socket-config.ts";

test("config.json's credentials, docker's layout: sorted, tab-indented, user:password as auth, tokens kept, empty entries kept", async () => {
  const config = {
    auths: {
      "b.example": { auth: Buffer.from("u2:p:2").toString("base64") },
      "a.example": { auth: "dTpw", identitytoken: "tok" },
      x: {},
    },
  };
  const json = await containerConfigJson(config, {});
  assert.equal(
    json?.toString(),
    '{\n\t"auths": {\n\t\t"a.example": {\n\t\t\t"auth": "dTpw",\n\t\t\t"identitytoken": "tok"\n\t\t},\n\t\t"b.example": {\n\t\t\t"auth": "dTI6cDoy"\n\t\t},\n\t\t"x": {}\n\t}\n}',
  );
});

test("nothing kept, or a hostile config: nothing to pass", async () => {
  assert.equal(await containerConfigJson({}, {}), undefined);
  assert.equal(await containerConfigJson({ auths: "nope", credHelpers: [1, 2] }, {}), undefined);
  assert.equal(await containerConfigJson({ auths: null }, {}), undefined);
  // An entry that is not an object is passed as docker's file store would list it: empty.
  assert.equal(
    (await containerConfigJson({ auths: { r: 42 } }, {}))?.toString(),
    '{\n\t"auths": {\n\t\t"r": {}\n\t}\n}',
  );
});

test("the archive: one root-owned 0600 file at /run/secrets/docker/config.json, then the end", () => {
  const data = Buffer.from("{}");
  const tar = configArchive(data);
  assert.equal(tar.length, 512 + 512 + 1024);
  const h = decodeHeader(tar.subarray(0, 512));
  assert.equal(h.name, "/run/secrets/docker/config.json");
  assert.deepEqual([h.mode, h.uid, h.gid, h.size, h.typeflag], [0o600, 0, 0, 2, "0"]);
  assert.equal(tar.subarray(512, 514).toString(), "{}");
});
