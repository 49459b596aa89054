import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { sha256Hex } from "./sha256.ts";

describe("sha256Hex", () => {
  test("FIPS 180-4's examples", () => {
    assert.equal(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert.equal(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert.equal(
      sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    );
  });

  test("agrees with node:crypto at every length around the block and padding edges, and for UTF-8", () => {
    for (let n = 0; n <= 200; n++) {
      const data = randomBytes(n);
      assert.equal(sha256Hex(data), createHash("sha256").update(data).digest("hex"), `${n} bytes`);
    }
    const path = "/run/berth/état/io.containerd.runtime.v2.task/ns/c1";
    assert.equal(sha256Hex(path), createHash("sha256").update(path).digest("hex"));
  });
});
