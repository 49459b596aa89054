import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { test } from "node:test";
import { MetadataDB } from "./db.ts";
import { tempDbForFile } from "./scene.testing.ts";

const t = tempDbForFile("berth-meta-");

test("a daemon killed mid-transaction leaves the committed rows and none of the open transaction", async () => {
  const path = join(t.dir, "killed.db");
  const dbUrl = new URL("./db.ts", import.meta.url).href;
  const script = `
    import { MetadataDB } from ${JSON.stringify(dbUrl)};
    const db = new MetadataDB(${JSON.stringify(path)});
    db.namespaces.create("committed", {});
    db.transaction(() => {
      db.namespaces.create("torn", {});
      for (let i = 0; i < 2000; i++) db.content.put("torn", "sha256:" + i.toString(16).padStart(64, "0"), {});
      process.stdout.write("inside\\n");
      const until = Date.now() + 60000;
      while (Date.now() < until) {}
    });
  `;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = once(child, "exit");
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (b: Buffer) => b.toString().includes("inside") && resolve());
    child.on("exit", () => reject(new Error("child exited before the transaction")));
  });
  child.kill("SIGKILL");
  await exited;
  const reopened = new MetadataDB(path);
  try {
    assert.deepEqual(
      reopened.namespaces.list().map((n) => n.name),
      ["committed"],
    );
    assert.deepEqual(reopened.content.list("torn"), []);
    reopened.namespaces.create("torn", {});
  } finally {
    reopened.close();
  }
});
