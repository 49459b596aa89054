// A shared berth-shim told to shut down without `now` waits a moment for a task of its group that
// may be on its way. A connection in that moment is one: Debian's containerd runs `berth-shim
// start`, whose probe finds the socket, then dials it itself, which on a loaded machine came
// after the grace and found no socket ("dial unix ...: no such file or directory"). The shim now
// waits for that task once a connection came in; told `now`, it exits at once.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import net from "node:net";
import { after, describe, test } from "node:test";
import { type Bundle, makeBundle } from "../../fixtures/busybox.ts";
import { type DirectShim, isRunning, SHIM, startDirectShim, until } from "../../helpers/direct-shim.ts";

const skip = process.getuid?.() !== 0 ? "runs a shim: root only" : existsSync(SHIM) ? undefined : "build first";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a shared shim's grace before it exits", { skip }, () => {
  const shims: DirectShim[] = [];
  const bundles: Bundle[] = [];
  after(async () => {
    for (const s of shims) await s.stop([]);
    for (const b of bundles) await b.cleanup();
  });

  const start = async (tag: string) => {
    const bundle = await makeBundle({ args: ["true"] });
    bundles.push(bundle);
    const shim = await startDirectShim(`grace-${tag}-${process.pid}`, `grace-${tag}-${process.pid}`, bundle.dir);
    shims.push(shim);
    return shim;
  };

  test("without a connection it exits after the grace; with one it stays for the task on its way", async () => {
    const alone = await start("alone");
    await alone.task.shutdown({ id: `grace-alone-${process.pid}` });
    await until("the shim without a task on its way exits", () => !isRunning(alone.shimPid), 5000);

    const awaited = await start("probed");
    const socket = awaited.address.slice("unix://".length);
    await awaited.task.shutdown({ id: `grace-probed-${process.pid}` });
    // What `berth-shim start` does when it finds the socket: connect, and let go.
    await new Promise<void>((resolve, reject) => {
      const c = net.connect(socket, () => {
        c.destroy();
        resolve();
      });
      c.once("error", reject);
    });
    await sleep(1500); // three times the grace
    assert.ok(isRunning(awaited.shimPid), "the shim waits for the task its probe announced");
    assert.ok(existsSync(socket), "its socket is there for the daemon's dial");
    await awaited.task.shutdown({ id: `grace-probed-${process.pid}`, now: true });
    await until("told now, the shim exits", () => !isRunning(awaited.shimPid), 5000);
  });
});
