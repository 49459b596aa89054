import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AlreadyExistsError } from "../../common/errors.ts";
import { bool, parseFlags, str } from "../../common/flags.ts";
import type { Command } from "../cli/context.ts";
import { CONFIG_FILE } from "../config/bundle.ts";
import { defaultSpecJson } from "../config/default.ts";

export const spec: Command = {
  name: "spec",
  summary: "write a default config.json into the bundle",
  usage: "spec [--bundle DIR] [--rootless]",
  async run(_ctx, argv) {
    const p = parseFlags(argv, {
      bundle: { kind: "string", aliases: ["b"], usage: "path to the root of the bundle directory" },
      rootless: { kind: "bool", usage: "generate a configuration for a rootless container" },
    });
    const file = join(str(p, "bundle") ?? ".", CONFIG_FILE);
    if (existsSync(file)) throw new AlreadyExistsError("File config.json exists. Remove it first.");
    writeFileSync(file, defaultSpecJson({ rootless: bool(p, "rootless") }));
    return 0;
  },
};
