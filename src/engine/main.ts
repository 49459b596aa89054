// Entry point of berthd, the engine daemon: dockerd's flags and daemon.json (daemon/config.ts),
// then the daemon (daemon/daemon.ts) until SIGTERM or SIGINT.
import { errorMessage } from "../common/errors.ts";
import { bool, parseFlags, str, usageText } from "../common/flags.ts";
import { DaemonLogger } from "../common/log.ts";
import { restrictUmask } from "../common/secure-fs.ts";
import { DEFAULTS, FLAGS, resolveConfig } from "./daemon/config.ts";
import { readConfigFile } from "./daemon/config-file.ts";
import { builtinRuntimes, startDaemon } from "./daemon/daemon.ts";
import { ENGINE_VERSION } from "./version.ts";

async function main(argv: string[]): Promise<number> {
  restrictUmask();
  const flags = parseFlags(argv, FLAGS);
  if (bool(flags, "help")) {
    process.stdout.write(`berthd: the berth engine daemon (Docker Engine API)\n\n${usageText(FLAGS)}\n`);
    return 0;
  }
  if (bool(flags, "version")) {
    process.stdout.write(`berthd version ${ENGINE_VERSION.version}, build ${ENGINE_VERSION.gitCommit}\n`);
    return 0;
  }
  const configFile = str(flags, "config-file");
  const file = readConfigFile(configFile ?? DEFAULTS.configFile, configFile !== undefined);
  const config = resolveConfig(flags, file, builtinRuntimes());
  if (bool(flags, "validate")) {
    process.stdout.write("configuration OK\n");
    return 0;
  }
  const log = new DaemonLogger(config.logLevel);
  // Listened for before start-up: a SIGTERM that comes while berthd starts stops it once it has
  // started, so what start-up made (its berth-containerd, the pid file) is undone, not left.
  const stopAsked = new Promise<void>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  // dockerd reloads parts of its configuration on SIGHUP; berthd cannot yet, and must not die of
  // it (node's default) when the terminal that started it goes away.
  process.on("SIGHUP", () => log.warn("SIGHUP: reloading the configuration is not supported yet; nothing changed"));
  const daemon = await startDaemon(config, log);
  await stopAsked;
  // With live restore off dockerd stops the containers first; the containers slice adds that.
  log.info("stopping", { live_restore: config.liveRestore });
  await daemon.stop();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`berthd: ${errorMessage(err)}\n`);
    process.exit(1);
  },
);
