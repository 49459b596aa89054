// The engine's id (/info's ID): a UUID made at the first start and kept in <data-root>/engine-id,
// as dockerd 28 does, so it stays the same across restarts.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../common/atomic-write.ts";
import { errnoCode } from "../../common/errors.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function loadEngineId(dataRoot: string): string {
  const path = join(dataRoot, "engine-id");
  try {
    const text = readFileSync(path).subarray(0, 128).toString("utf8").trim();
    if (UUID.test(text)) return text;
  } catch (err) {
    if (errnoCode(err) !== "ENOENT") throw err;
  }
  // Absent or not a UUID (damaged): a new id, as a fresh engine would get.
  const id = randomUUID();
  writeFileAtomic(path, `${id}\n`, { mode: 0o600 });
  return id;
}
