// The list commands' default --format from config.json ("psFormat", "imagesFormat",
// "statsFormat"), as docker reads it: used when no --format (or an empty one) is given; -q still
// lists ids (docker 28 and 20.10 alike).
import type { Parsed } from "../flags/parse.ts";
import { type Io, str } from "./command.ts";

export type ConfigFormatKey = "psFormat" | "imagesFormat" | "statsFormat";

/** --format, else the config file's `key` when set and not quiet, else --format as given. */
export function formatOf(io: Io, p: Parsed, key: ConfigFormatKey, quiet = false): string | undefined {
  const given = str(p, "format");
  if ((given !== undefined && given !== "") || quiet) return given;
  const fromConfig = io.context.config[key];
  return typeof fromConfig === "string" && fromConfig !== "" ? fromConfig : given;
}
