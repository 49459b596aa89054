import { bool, parseFlags, str, UsageError } from "../../common/flags.ts";
import type { Command } from "../cli/context.ts";
import { tabulate } from "../cli/table.ts";
import { statusOf } from "../container/lifecycle.ts";

export const list: Command = {
  name: "list",
  summary: "list containers started with this --root",
  usage: "list [--format table|json] [--quiet]",
  async run(ctx, argv) {
    const p = parseFlags(argv, {
      format: { kind: "string", aliases: ["f"], usage: "table or json" },
      quiet: { kind: "bool", aliases: ["q"], usage: "display only container ids" },
    });
    const format = str(p, "format") ?? "table";
    if (format !== "table" && format !== "json") throw new UsageError(`invalid format option "${format}"`);
    const rows = ctx.store.list().flatMap((id) => {
      try {
        const rec = ctx.store.load(id);
        const status = statusOf(ctx.store, rec);
        return [
          {
            ociVersion: rec.spec.ociVersion,
            id: rec.id,
            pid: status === "stopped" ? 0 : rec.pid,
            status,
            bundle: rec.bundle,
            rootfs: rec.rootfs,
            created: rec.created,
            ...(rec.spec.annotations ? { annotations: rec.spec.annotations } : {}),
            owner: ctx.store.ownerOf(id),
          },
        ];
      } catch {
        return []; // a container being deleted right now
      }
    });
    if (bool(p, "quiet")) {
      for (const r of rows) process.stdout.write(`${r.id}\n`);
      return 0;
    }
    if (format === "json") {
      process.stdout.write(`${rows.length ? JSON.stringify(rows) : "null"}\n`);
      return 0;
    }
    const table = [
      ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"],
      ...rows.map((r) => [r.id, String(r.pid), r.status, r.bundle, r.created, r.owner]),
    ];
    process.stdout.write(tabulate(table));
    return 0;
  },
};
