import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidArgumentError } from "../../common/errors.ts";
import { applyChanges, MAX_CHANGE_CHARS, MAX_CHANGES } from "./changes.ts";

test("--change instructions applied to an image config, in order", () => {
  const base = { Env: ["PATH=/bin", "A=1"], Labels: { x: "1" } };
  const c = applyChanges(base, [
    'CMD ["echo", "hi"]',
    "ENTRYPOINT /bin/run --fast",
    'ENV A=2 B="two words"',
    "env C 3",
    'LABEL y=2 z="a b"',
    "EXPOSE 80 53/udp 8000-8001",
    'VOLUME ["/data", "/logs"]',
    "VOLUME /cache",
    "USER nobody",
    "WORKDIR /srv",
    "STOPSIGNAL SIGQUIT",
    "ONBUILD RUN true",
  ]);
  assert.deepEqual(c.Cmd, ["echo", "hi"]);
  assert.deepEqual(c.Entrypoint, ["/bin/sh", "-c", "/bin/run --fast"]);
  assert.deepEqual(c.Env, ["PATH=/bin", "A=2", "B=two words", "C=3"]);
  assert.deepEqual(c.Labels, { x: "1", y: "2", z: "a b" });
  assert.deepEqual(c.ExposedPorts, { "80/tcp": {}, "53/udp": {}, "8000-8001/tcp": {} });
  assert.deepEqual(c.Volumes, { "/data": {}, "/logs": {}, "/cache": {} });
  assert.deepEqual([c.User, c.WorkingDir, c.StopSignal, c.OnBuild], ["nobody", "/srv", "SIGQUIT", ["RUN true"]]);
  // The input is left as it was.
  assert.deepEqual(base, { Env: ["PATH=/bin", "A=1"], Labels: { x: "1" } });
  // A CMD that is not a JSON array of strings is the shell form.
  assert.deepEqual(applyChanges({}, ["CMD [1, 2]"]).Cmd, ["/bin/sh", "-c", "[1, 2]"]);
});

test("one value may hold several instructions, a line each, as dockerd parses them as a Dockerfile", () => {
  // testcontainers' commit sends its changes joined by newlines in one `changes` parameter.
  const c = applyChanges({ Labels: { keep: "1" } }, ['CMD ["cat", "/data/x"]\nLABEL session=\n\n# a comment\n']);
  assert.deepEqual(c.Cmd, ["cat", "/data/x"]);
  assert.deepEqual(c.Labels, { keep: "1", session: "" });
  assert.throws(
    () =>
      applyChanges({}, [
        Array(MAX_CHANGES + 1)
          .fill("USER x")
          .join("\n"),
      ]),
    /more than/,
  );
});

test("bad changes: dockerd's words, bounded", () => {
  const refuse = (changes: string[], message: RegExp) =>
    assert.throws(
      () => applyChanges({}, changes),
      (e: unknown) => e instanceof InvalidArgumentError && message.test(e.message),
    );
  refuse(["RUN rm -rf /"], /^RUN is not a valid change command$/);
  refuse(["FROM scratch"], /FROM is not a valid change command/);
  // dockerd 20.10 answers an empty change so (POST /commit and /images/create?fromSrc=-).
  refuse([""], /^file with no instructions$/);
  refuse(["ENV"], /ENV requires two arguments/);
  refuse(["EXPOSE 80/icmp"], /invalid containerPort/);
  refuse(["EXPOSE http"], /invalid containerPort/);
  refuse(
    Array.from({ length: MAX_CHANGES + 1 }, () => "USER x"),
    /more than 64 changes/,
  );
  refuse([`USER ${"x".repeat(MAX_CHANGE_CHARS)}`], /longer than/);
});
