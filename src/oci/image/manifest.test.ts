// The decoders' refusals of hostile values: a typed error whose message shows the value briefly,
// never the value whole (a 4 MiB document may hold one) and never by a recursive walk of it (JSON.parse
// takes nesting far deeper than JSON.stringify can give back on the main thread's stack).
import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidArgumentError } from "../../common/errors.ts";
import { decodeImageConfig, decodeIndex, decodeManifest } from "./manifest.ts";
import { MediaType } from "./media-types.ts";

const d = (n: number) => `sha256:${n.toString(16).padStart(64, "0")}`;
// What the image-documents fuzz target found: 5,000 nested arrays where a digest or a size belongs.
const DEEP = `${"[".repeat(5000)}${"]".repeat(5000)}`;
const bytes = (text: string) => new Uint8Array(Buffer.from(text));

const refused = (pattern: RegExp) => (err: unknown) => {
  assert.ok(err instanceof InvalidArgumentError, `not an InvalidArgumentError: ${String(err)}`);
  assert.match(err.message, pattern);
  assert.ok(err.message.length < 300, `message of ${err.message.length} characters`);
  return true;
};

test("a deeply nested digest, size or diff ID is refused with a typed error naming the field", () => {
  const config = `{"mediaType":"${MediaType.dockerConfig}","digest":"${d(4)}","size":1}`;
  assert.throws(
    () =>
      decodeManifest(
        bytes(`{"schemaVersion":2,"config":{"mediaType":"x","digest":${DEEP},"size":1},"layers":[]}`),
        MediaType.dockerManifest,
      ),
    refused(/^manifest\.config\.digest: invalid \(an array\)$/),
  );
  assert.throws(
    () =>
      decodeManifest(
        bytes(`{"schemaVersion":2,"config":${config},"layers":[{"mediaType":"x","digest":"${d(5)}","size":${DEEP}}]}`),
        MediaType.dockerManifest,
      ),
    refused(/^manifest\.layers\[0\]\.size: invalid \(an array\)$/),
  );
  assert.throws(
    () => decodeImageConfig(bytes(`{"rootfs":{"type":"layers","diff_ids":["${d(7)}",${DEEP}]}}`)),
    refused(/^image config\.rootfs\.diff_ids\[1\]: invalid \(an array\)$/),
  );
  assert.throws(
    () => decodeIndex(bytes(`{"manifests":[{"mediaType":"x","digest":{"a":${DEEP}},"size":1}]}`), MediaType.ociIndex),
    refused(/^index\.manifests\[0\]\.digest: invalid \(an object\)$/),
  );
});

test("a long or odd value is shown briefly", () => {
  const long = "x".repeat(1 << 20);
  assert.throws(
    () => decodeImageConfig(bytes(`{"rootfs":{"diff_ids":["${long}"]}}`)),
    refused(/^image config\.rootfs\.diff_ids\[0\]: invalid "x{64}…" \(1048576 characters\)$/),
  );
  assert.throws(
    () =>
      decodeManifest(
        bytes(`{"config":{"mediaType":"x","digest":"${d(4)}","size":-1},"layers":[]}`),
        MediaType.ociManifest,
      ),
    refused(/^manifest\.config\.size: invalid -1$/),
  );
  assert.throws(
    () =>
      decodeManifest(bytes(`{"config":{"mediaType":"x","digest":null,"size":1},"layers":[]}`), MediaType.ociManifest),
    refused(/^manifest\.config\.digest: invalid null$/),
  );
  assert.throws(
    () => decodeManifest(bytes(`{"config":{"mediaType":"x","size":1},"layers":[]}`), MediaType.ociManifest),
    refused(/^manifest\.config\.digest: invalid \(missing\)$/),
  );
});
