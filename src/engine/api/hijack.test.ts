import assert from "node:assert/strict";
import { test } from "node:test";
import { MULTIPLEXED_STREAM, RAW_STREAM, streamContentType } from "./hijack.ts";

test("streamContentType: multiplexed frames are named so from API 1.42 on, raw before and with a TTY (dockerd's rule)", () => {
  assert.equal(streamContentType(false, "1.50"), MULTIPLEXED_STREAM);
  assert.equal(streamContentType(false, "1.42"), MULTIPLEXED_STREAM);
  assert.equal(streamContentType(false, "1.41"), RAW_STREAM);
  assert.equal(streamContentType(false, "1.24"), RAW_STREAM);
  assert.equal(streamContentType(true, "1.50"), RAW_STREAM);
  assert.equal(streamContentType(true, "1.41"), RAW_STREAM);
});
