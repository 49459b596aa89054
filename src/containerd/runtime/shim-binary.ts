// Which shim binary runs a runtime name. containerd's rule: "io.containerd.X.vN" runs
// "containerd-shim-X-vN" from PATH, and an absolute path names a binary directly. berth-containerd
// applies the rule after its own table, which by default sends the runc runtimes and
// io.containerd.berth.v1 to berth-shim; `--runtime-shim NAME=BINARY` changes the table (e.g. to
// run Debian's containerd-shim-runc-v2). Pure.
import { InvalidArgumentError } from "../../common/errors.ts";

export const BERTH_SHIM = "berth-shim";

export const DEFAULT_SHIMS: ReadonlyMap<string, string> = new Map([
  ["io.containerd.runc.v2", BERTH_SHIM],
  ["io.containerd.runc.v1", BERTH_SHIM],
  ["io.containerd.berth.v1", BERTH_SHIM],
]);

export function shimBinaryFor(runtime: string, table: ReadonlyMap<string, string> = DEFAULT_SHIMS): string {
  const mapped = table.get(runtime);
  if (mapped) return mapped;
  if (runtime.startsWith("/")) return runtime;
  const parts = runtime.split(".");
  if (parts.length < 2 || parts.some((p) => p === "" || !/^[A-Za-z0-9_-]+$/.test(p))) {
    throw new InvalidArgumentError(
      `invalid runtime name ${runtime}, correct runtime name should be either format like \`io.containerd.runc.v1\` or a full path to the binary`,
    );
  }
  return `containerd-shim-${parts.slice(-2).join("-")}`;
}

/** Parses `NAME=BINARY` flag values into a table over the defaults. */
export function shimTable(flags: readonly string[]): Map<string, string> {
  const t = new Map(DEFAULT_SHIMS);
  for (const f of flags) {
    const eq = f.indexOf("=");
    if (eq <= 0 || eq === f.length - 1) throw new InvalidArgumentError(`--runtime-shim ${f}: want NAME=BINARY`);
    t.set(f.slice(0, eq), f.slice(eq + 1));
  }
  return t;
}
