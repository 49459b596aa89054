// A shim that starts where another died serves its tasks again: the tasks of its namespace whose
// bundle's `address` names this shim's socket and that have a record (task-record.ts) are adopted
// before it listens (service.ts's adopt: the record read back, the keeper connected and asked what
// ran meanwhile), so a daemon's Connect finds every one of them. Bundles are siblings in the
// namespace's directory, containerd's layout: <state>/io.containerd.runtime.v2.task/<ns>/<id>.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { errorMessage } from "../common/errors.ts";
import type { DaemonLogger } from "../common/log.ts";
import { Bundle } from "./bundle.ts";
import type { TaskService } from "./service.ts";

/** The bundles in `namespaceDir` that have a task record and whose `address` is `address`. */
export function bundlesNaming(namespaceDir: string, address: string): string[] {
  let names: string[];
  try {
    names = readdirSync(namespaceDir);
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const name of names) {
    const b = new Bundle(join(namespaceDir, name));
    try {
      if (existsSync(b.taskRecord) && b.readAddress() === address) found.push(b.dir);
    } catch {
      // no address (a task being created or removed meanwhile): not this shim's
    }
  }
  return found;
}

/** Adopts the tasks of `bundles` (see the top of this file); one that cannot be is logged and left. */
export async function adoptTasks(service: TaskService, bundles: readonly string[], log: DaemonLogger): Promise<number> {
  const adopted = await Promise.all(
    bundles.map(async (dir) => {
      try {
        log.info("adopted task", { id: await service.adopt(dir) });
        return 1;
      } catch (err) {
        log.warn("task not adopted", { bundle: dir, error: errorMessage(err) });
        return 0;
      }
    }),
  );
  return adopted.reduce<number>((a, b) => a + b, 0);
}
