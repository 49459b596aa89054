import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidArgumentError } from "../../common/errors.ts";
import { decodeRegistryAuth, MAX_AUTH_HEADER } from "./registry-auth.ts";

const b64url = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

test("X-Registry-Auth: user and password, identity token, config.json's auth, none", () => {
  assert.deepEqual(decodeRegistryAuth(b64url({ username: "u", password: "p", serveraddress: "127.0.0.1:5000" })), {
    username: "u",
    password: "p",
    identityToken: "",
    serverAddress: "127.0.0.1:5000",
  });
  // Standard base64 with padding, as some clients send it.
  const std = Buffer.from(JSON.stringify({ username: "ü?>", password: "p" })).toString("base64");
  assert.equal(decodeRegistryAuth(std)?.username, "ü?>");
  assert.equal(decodeRegistryAuth(b64url({ identitytoken: "tok" }))?.identityToken, "tok");
  const auth = decodeRegistryAuth(b64url({ auth: Buffer.from("me:se:cret").toString("base64") }));
  assert.deepEqual([auth?.username, auth?.password], ["me", "se:cret"]);
  for (const none of [undefined, "", "  ", "e30=", b64url({}), b64url({ email: "x@y" }), b64url({ username: null })])
    assert.equal(decodeRegistryAuth(none), undefined, String(none));
});

test("X-Registry-Auth: hostile headers are 400s naming the header", () => {
  const refuse = (h: string | string[], why: RegExp) =>
    assert.throws(
      () => decodeRegistryAuth(h),
      (e: unknown) =>
        e instanceof InvalidArgumentError && /^invalid X-Registry-Auth header: /.test(e.message) && why.test(e.message),
    );
  refuse("A".repeat(MAX_AUTH_HEADER + 1), /longer than/);
  refuse("not base64!", /not base64url/);
  refuse("%%%%", /not base64url/);
  refuse(b64url("{not json"), /not JSON/);
  refuse(b64url("[1,2]"), /not a JSON object/);
  refuse(b64url("42"), /not a JSON object/);
  refuse(b64url({ username: 5 }), /cannot unmarshal number into field username/);
  refuse(b64url({ password: ["x"] }), /cannot unmarshal array into field password/);
  refuse(b64url({ identitytoken: {} }), /cannot unmarshal object/);
  refuse(b64url({ auth: Buffer.from("nocolon").toString("base64") }), /user:password/);
  refuse(["a", "b"], /more than once/);
  // A deeply nested document is refused, not a crash.
  refuse(b64url(`${"[".repeat(100_00)}`), /not JSON/);
});
