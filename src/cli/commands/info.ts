// berth info: the client's lines and the main fields of GET /info, in docker's layout and order.
import { BERTH_VERSION } from "../../common/version.ts";
import { type Command, str } from "./command.ts";

type Info = Record<string, unknown> & {
  Containers?: number;
  ContainersRunning?: number;
  ContainersPaused?: number;
  ContainersStopped?: number;
  Images?: number;
  ServerVersion?: string;
  Driver?: string;
  LoggingDriver?: string;
  CgroupDriver?: string;
  CgroupVersion?: string;
  KernelVersion?: string;
  OperatingSystem?: string;
  OSType?: string;
  Architecture?: string;
  NCPU?: number;
  MemTotal?: number;
  Name?: string;
  ID?: string;
  DockerRootDir?: string;
  Debug?: boolean;
  ExperimentalBuild?: boolean;
  LiveRestoreEnabled?: boolean;
  DefaultRuntime?: string;
};

/** Go's units.BytesSize: binary units, 4 significant digits ("23.54GiB"). */
export function bytesSize(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let size = n;
  let i = 0;
  while (size >= 1024 && i < units.length - 1) {
    size /= 1024;
    i++;
  }
  return `${String(Number(size.toPrecision(4)))}${units[i]}`;
}

export function serverInfoLines(i: Info): string[] {
  return [
    "Server:",
    ` Containers: ${i.Containers ?? 0}`,
    `  Running: ${i.ContainersRunning ?? 0}`,
    `  Paused: ${i.ContainersPaused ?? 0}`,
    `  Stopped: ${i.ContainersStopped ?? 0}`,
    ` Images: ${i.Images ?? 0}`,
    ` Server Version: ${i.ServerVersion ?? ""}`,
    ` Storage Driver: ${i.Driver ?? ""}`,
    ` Logging Driver: ${i.LoggingDriver ?? ""}`,
    ` Cgroup Driver: ${i.CgroupDriver ?? ""}`,
    ` Cgroup Version: ${i.CgroupVersion ?? ""}`,
    ` Default Runtime: ${i.DefaultRuntime ?? ""}`,
    ` Kernel Version: ${i.KernelVersion ?? ""}`,
    ` Operating System: ${i.OperatingSystem ?? ""}`,
    ` OSType: ${i.OSType ?? ""}`,
    ` Architecture: ${i.Architecture ?? ""}`,
    ` CPUs: ${i.NCPU ?? 0}`,
    ` Total Memory: ${bytesSize(i.MemTotal ?? 0)}`,
    ` Name: ${i.Name ?? ""}`,
    ` ID: ${i.ID ?? ""}`,
    ` Docker Root Dir: ${i.DockerRootDir ?? ""}`,
    ` Debug Mode: ${i.Debug === true}`,
    ` Experimental: ${i.ExperimentalBuild === true}`,
    ` Live Restore Enabled: ${i.LiveRestoreEnabled === true}`,
  ];
}

const command: Command = {
  usage: "info [OPTIONS]",
  summary: "Display system-wide information",
  aliases: "berth system info, berth info",
  args: { max: 0 },
  flags: [{ long: "format", short: "f", kind: "string", help: "Format output using a custom template" }],
  async run(io, p) {
    const info = await io.client().json<Info>("GET", "/info");
    const format = str(p, "format");
    if (format) {
      const { compileTemplate } = await import("../format/template.ts");
      io.out.write(
        `${compileTemplate(format)(format.includes(".Client") ? { Client: { Context: io.context.context }, ...info } : info)}\n`,
      );
      return;
    }
    const lines = [
      "Client:",
      ` Version:    ${BERTH_VERSION}`,
      ` Context:    ${io.context.context}`,
      ` Debug Mode: ${io.debug === true}`,
      "",
      ...serverInfoLines(info ?? {}),
    ];
    io.out.write(`${lines.join("\n")}\n\n`);
  },
};
export default command;
