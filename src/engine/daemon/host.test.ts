import assert from "node:assert/strict";
import { test } from "node:test";
import { isContainerized, parseOsRelease } from "./host.ts";

test("containerized by dockerd's rule: any /proc/1/cgroup path but / and /init.scope", () => {
  assert.equal(isContainerized("9:name=systemd:/\n8:pids:/\n0::/init.scope\n"), false);
  assert.equal(isContainerized(""), false);
  assert.equal(isContainerized("12:pids:/libpod_parent/libpod-1f2e\n0::/\n"), true);
  assert.equal(isContainerized("0::/system.slice/docker-abc.scope\n"), true);
});

test("os-release: quoted and bare values", () => {
  const o = parseOsRelease('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_ID="12"\nID=debian\n');
  assert.equal(o.PRETTY_NAME, "Debian GNU/Linux 12 (bookworm)");
  assert.equal(o.VERSION_ID, "12");
  assert.equal(o.ID, "debian");
});
