// rmi's --platform as docker 28 reads it: each value a comma-separated list (pflag's StringSlice,
// read as CSV), each item checked as containerd's platforms.Parse checks it ("os[(version)][/arch
// [/variant]]", lower-cased, not normalised) and sent as the OCI platform's JSON, one query value each.
import { CliError } from "../errors.ts";

const OS_AND_VERSION = /^([A-Za-z0-9_-]+)(?:\(([A-Za-z0-9_.-]*)\))?$/;
const COMPONENT = /^[A-Za-z0-9_.-]+$/;

/** Go's architecture names for Node's process.arch (the platform's default when only an OS is given). */
const GO_ARCH: Record<string, string> = {
  x64: "amd64",
  arm64: "arm64",
  arm: "arm",
  ia32: "386",
  s390x: "s390x",
  ppc64: "ppc64le",
};

/** A StringSlice value's items: Go's encoding/csv on one line ("" is no item; quotes group commas). */
export function csvItems(value: string): string[] {
  if (value === "") return [];
  const items: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted) {
      if (c === '"' && value[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"' && cur === "") quoted = true;
    else if (c === ",") {
      items.push(cur);
      cur = "";
    } else cur += c;
  }
  items.push(cur);
  return items;
}

/** One platform's query value, or containerd's refusal in its words (exit 1, nothing sent). */
export function platformJson(spec: string, hostArch = GO_ARCH[process.arch] ?? process.arch): string {
  const parts = spec.split("/");
  const osMatch = OS_AND_VERSION.exec(parts[0] ?? "");
  if (osMatch === null) {
    throw new CliError(
      `${JSON.stringify(parts[0])} is an invalid OS component of ${JSON.stringify(spec)}: OSAndVersion specifier component must match "^([A-Za-z0-9_-]+)(?:\\\\(([A-Za-z0-9_.-]*)\\\\))?$": invalid argument`,
    );
  }
  for (const part of parts.slice(1)) {
    if (!COMPONENT.test(part)) {
      throw new CliError(
        `${JSON.stringify(part)} is an invalid component of ${JSON.stringify(spec)}: platform specifier component must match "^[A-Za-z0-9_.-]+$": invalid argument`,
      );
    }
  }
  if (parts.length > 3)
    throw new CliError(`${JSON.stringify(spec)}: cannot parse platform specifier: invalid argument`);
  const doc: Record<string, string> = {
    architecture: (parts[1] ?? hostArch).toLowerCase(),
    os: osMatch[1]!.toLowerCase(),
  };
  if (osMatch[2]) doc["os.version"] = osMatch[2];
  if (parts[2]) doc.variant = parts[2].toLowerCase();
  return JSON.stringify(doc);
}

/** Every --platform value's platforms, as the repeated `platforms` query values. */
export function platformsQuery(values: readonly string[]): string[] {
  return values.flatMap(csvItems).map((s) => platformJson(s));
}
