// Entry point of berth-containerd: containerd's command line (--address, --root, --state,
// --log-level), then the daemon until SIGTERM or SIGINT.
import { BerthError, errorMessage } from "../common/errors.ts";
import { bool, parseFlags, str, strs, usageText } from "../common/flags.ts";
import { DaemonLogger, isLogLevel } from "../common/log.ts";
import { restrictUmask } from "../common/secure-fs.ts";
import { idleExitMsOf } from "../shim/bundle.ts";
import { startDaemon } from "./daemon.ts";
import { repairCommand } from "./repair.ts";
import { shimTable } from "./runtime/shim-binary.ts";
import { BERTH_VERSION } from "./version.ts";

const FLAGS = {
  address: {
    kind: "string",
    aliases: ["a"],
    usage: "address for the gRPC server (default /run/berth/containerd/containerd.sock)",
  },
  root: { kind: "string", usage: "root directory for persistent data (default /var/lib/berth/containerd)" },
  state: { kind: "string", usage: "state directory for runtime data (default /run/berth/containerd)" },
  "log-level": { kind: "string", aliases: ["l"], usage: "log level: trace, debug, info, warn, error" },
  "runtime-shim": {
    kind: "strings",
    usage:
      "NAME=BINARY: run runtime NAME with shim BINARY (repeatable; default: io.containerd.runc.v2 and io.containerd.berth.v1 run berth-shim)",
  },
  "shim-spare": {
    kind: "bool",
    usage: "keep one berth-shim started ahead of need (default true; --shim-spare=false turns it off)",
  },
  "shim-per-container": {
    kind: "bool",
    usage:
      "run each task that names no group in a berth-shim of its own (default: one berth-shim serves a namespace's tasks)",
  },
  "shim-idle-ms": {
    kind: "string",
    usage:
      "keep a namespace's berth-shim this many ms after its last task is deleted, for the next one (default 0: it stops with its last task; at most 3600000)",
  },
  config: { kind: "string", aliases: ["c"], usage: "configuration file (not read yet; flags configure everything)" },
  version: { kind: "bool", aliases: ["v"], usage: "print the version and exit" },
  help: { kind: "bool", aliases: ["h"], usage: "show help" },
} as const;

/** --shim-idle-ms: a whole number of ms up to an hour. */
function shimIdleMs(value: string | undefined): number {
  if (value === undefined) return 0;
  const ms = idleExitMsOf(value);
  if (ms === undefined)
    throw new BerthError("invalid-argument", `--shim-idle-ms: ${JSON.stringify(value)} is not 0-3600000`);
  return ms;
}

async function main(argv: string[]): Promise<number> {
  restrictUmask();
  const p = parseFlags(argv, FLAGS);
  if (bool(p, "help")) {
    process.stdout.write(
      `berth-containerd: the high-level runtime daemon (containerd API)\n\n${usageText(FLAGS)}\ncommands:\n  repair  make a root with damaged or lost databases usable again (repair --help)\n`,
    );
    return 0;
  }
  if (bool(p, "version")) {
    process.stdout.write(`berth-containerd ${BERTH_VERSION.version} ${BERTH_VERSION.revision}\n`);
    return 0;
  }
  if (p.positionals[0] === "repair") return repairCommand(p.positionals.slice(1), (s) => process.stdout.write(s));
  if (p.positionals.length > 0)
    throw new BerthError("invalid-argument", `unknown command ${JSON.stringify(p.positionals[0])}`);
  const level = str(p, "log-level") ?? "info";
  if (!isLogLevel(level)) throw new BerthError("invalid-argument", `unknown log level ${JSON.stringify(level)}`);
  const log = new DaemonLogger(level);
  const state = str(p, "state") ?? "/run/berth/containerd";
  const daemon = await startDaemon({
    address: str(p, "address") ?? `${state}/containerd.sock`,
    root: str(p, "root") ?? "/var/lib/berth/containerd",
    state,
    log,
    shims: shimTable(strs(p, "runtime-shim")),
    spareShim: p.values.get("shim-spare") !== false,
    shimPerContainer: bool(p, "shim-per-container"),
    shimIdleMs: shimIdleMs(str(p, "shim-idle-ms")),
  });
  await new Promise<void>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  await daemon.stop();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`berth-containerd: ${errorMessage(err)}\n`);
    process.exit(1);
  },
);
