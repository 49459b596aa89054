// images --tree's layout: the expected text is docker 28.2's own `images --tree` output (through a
// pipe) for the same /images/json?manifests=1 answer, served by a fake daemon: an image with three
// names, two platforms (one unavailable) and an attestation, an untagged one, a dangling one.
import assert from "node:assert/strict";
import { test } from "node:test";
import { renderTree, treeImages } from "./images-tree.ts";

const ANSWER: unknown = [
  {
    Containers: -1,
    Created: 100,
    Id: "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    Labels: null,
    ParentId: "",
    RepoDigests: ["busybox@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"],
    RepoTags: ["busybox:latest"],
    SharedSize: -1,
    Size: 2072576,
  },
  {
    Containers: 2,
    Created: 300,
    Id: "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
    Labels: null,
    ParentId: "",
    RepoDigests: [],
    RepoTags: ["a-very-long-repository-name/with/parts:tag1", "short:1", "mid-name:22"],
    SharedSize: -1,
    Size: 123456789,
    Manifests: [
      {
        ID: "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
        Descriptor: {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          digest: "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
          size: 500,
        },
        Available: true,
        Size: {
          Total: 5000000,
          Content: 3000000,
        },
        Kind: "image",
        ImageData: {
          Platform: {
            architecture: "amd64",
            os: "linux",
          },
          Containers: ["x"],
          Size: {
            Unpacked: 2000000,
          },
        },
      },
      {
        ID: "sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd",
        Descriptor: {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          digest: "sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd",
          size: 500,
        },
        Available: false,
        Size: {
          Total: 0,
          Content: 1000,
        },
        Kind: "image",
        ImageData: {
          Platform: {
            architecture: "arm64",
            os: "linux",
            variant: "v8",
          },
          Containers: [],
          Size: {
            Unpacked: -1000,
          },
        },
      },
      {
        ID: "sha256:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
        Descriptor: {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          digest: "sha256:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
          size: 500,
        },
        Available: true,
        Size: {
          Total: 100,
          Content: 100,
        },
        Kind: "attestation",
        AttestationData: {
          For: "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
        },
      },
    ],
  },
  {
    Containers: 0,
    Created: 200,
    Id: "sha256:9999999999999999999999999999999999999999999999999999999999999999",
    Labels: null,
    ParentId: "",
    RepoDigests: ["x@sha256:1111111111111111111111111111111111111111111111111111111111111111"],
    RepoTags: [],
    SharedSize: -1,
    Size: 1000,
  },
  {
    Containers: 0,
    Created: 50,
    Id: "sha256:8888888888888888888888888888888888888888888888888888888888888888",
    Labels: null,
    ParentId: "",
    RepoDigests: [],
    RepoTags: [],
    SharedSize: -1,
    Size: 10,
  },
];

const DOCKER_TREE =
  "WARNING: This is an experimental feature. The output may change and shouldn't be depended on.\n                                                              Info ->  U In Use \n\n\u001b[39m\u001b[1mIMAGE\u001b[0m                           \u001b[39m\u001b[1mID\u001b[0m             \u001b[39m\u001b[1mDISK USAGE\u001b[0m   \u001b[39m\u001b[1mCONTENT SIZE\u001b[0m   \u001b[39m\u001b[1mEXTRA\u001b[0m\na-very-long-repository-name/with/parts:tag1\nmid-name:22\nshort:1                         bbbbbbbbbbbb        123MB            3MB   U    \n\u251c\u2500 linux/amd64                  cccccccccccc          5MB            3MB   U    \n\u2514\u2500 linux/arm64/v8               dddddddddddd           0B            1kB        \n\n<untagged>                      999999999999          1kB             0B        \n\nbusybox:latest                  aaaaaaaaaaaa       2.07MB             0B        \n\n";

const DOCKER_TREE_ALL =
  "WARNING: This is an experimental feature. The output may change and shouldn't be depended on.\n                                                              Info ->  U In Use \n\n\u001b[39m\u001b[1mIMAGE\u001b[0m                           \u001b[39m\u001b[1mID\u001b[0m             \u001b[39m\u001b[1mDISK USAGE\u001b[0m   \u001b[39m\u001b[1mCONTENT SIZE\u001b[0m   \u001b[39m\u001b[1mEXTRA\u001b[0m\na-very-long-repository-name/with/parts:tag1\nmid-name:22\nshort:1                         bbbbbbbbbbbb        123MB            3MB   U    \n\u251c\u2500 linux/amd64                  cccccccccccc          5MB            3MB   U    \n\u2514\u2500 linux/arm64/v8               dddddddddddd           0B            1kB        \n\n<untagged>                      999999999999          1kB             0B        \n\nbusybox:latest                  aaaaaaaaaaaa       2.07MB             0B        \n\n<untagged>                      888888888888          10B             0B        \n\n";

test("docker 28's tree, byte for byte: newest first, names longest first, platforms under their image", () => {
  assert.equal(renderTree(treeImages(ANSWER, false)), DOCKER_TREE);
});

test("-a keeps the dangling image", () => {
  assert.equal(renderTree(treeImages(ANSWER, true)), DOCKER_TREE_ALL);
});

test("hostile answers: not a list, wrong types, huge names; nothing throws, names are cut to the width", () => {
  assert.match(renderTree(treeImages({ not: "a list" }, false)), /IMAGE.*\n$/);
  const odd = [{ Id: 7, RepoTags: [1, "a:b"], Size: "big", Manifests: [{ Kind: "image", Size: null, ImageData: 3 }] }];
  const out = renderTree(treeImages(odd, false));
  assert.match(out, /^a:b {3}/m);
  assert.match(out, /^└─ unknown/m);
  const long = renderTree(treeImages([{ Id: "sha256:1", RepoTags: ["x".repeat(100_000)], Created: 1 }], false), 80);
  const row = long.split("\n").find((l) => l.startsWith("xxx"))!;
  assert.ok(row.length < 100, `${row.length}`);
  assert.ok(row.includes("…"));
});
