import assert from "node:assert/strict";
import { test } from "node:test";
import { hostsFile, resolvConf } from "./host-files.ts";
import { decodeHostConfig } from "./spec/decode.ts";

test("resolv.conf: loopback resolvers dropped in a network namespace of its own, Dns* replace the host's", () => {
  const host = "# comment\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch example.org\noptions edns0\n";
  const own = decodeHostConfig({});
  assert.equal(resolvConf(host, own), "search example.org\nnameserver 10.0.0.2\noptions edns0\n");
  assert.equal(
    resolvConf("nameserver 127.0.0.53\n", own),
    "nameserver 8.8.8.8\nnameserver 8.8.4.4\n",
    "only loopback: public fallbacks",
  );
  assert.equal(
    resolvConf(host, decodeHostConfig({ NetworkMode: "host" })),
    "search example.org\nnameserver 127.0.0.53\nnameserver 10.0.0.2\noptions edns0\n",
  );
  const dns = decodeHostConfig({ Dns: ["1.1.1.1"], DnsSearch: ["a.b"], DnsOptions: ["ndots:2"] });
  assert.equal(resolvConf(host, dns), "search a.b\nnameserver 1.1.1.1\noptions ndots:2\n");
});

test("hosts: localhost entries and ExtraHosts; the host's file with host networking", () => {
  const h = hostsFile(decodeHostConfig({ ExtraHosts: ["db:10.0.0.3"] }), "ignored");
  assert.match(h, /^127\.0\.0\.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n/);
  assert.match(h, /\ndb\t10\.0\.0\.3\n$/);
  assert.equal(hostsFile(decodeHostConfig({ NetworkMode: "host" }), "1.2.3.4 me\n"), "1.2.3.4 me\n");
});
