// berth version: the client's lines, then the daemon's (GET /version) as docker lays them out.
import { BERTH_VERSION } from "../../common/version.ts";
import { MAX_API_VERSION } from "../api/client.ts";
import { ConnectError } from "../errors.ts";
import { type Command, str } from "./command.ts";

interface Component {
  Name: string;
  Version: string;
  Details?: Record<string, string>;
}
interface ServerVersion {
  Platform?: { Name?: string };
  Components?: Component[];
  Version?: string;
  ApiVersion?: string;
  MinAPIVersion?: string;
  GitCommit?: string;
  GoVersion?: string;
  Os?: string;
  Arch?: string;
  BuildTime?: string;
  Experimental?: boolean;
}

/** Go's time.ANSIC in UTC ("Sat Dec  5 18:39:37 2026") for an RFC 3339 time; anything else as is. */
export function ansic(s: string): string {
  const t = Date.parse(s);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(s) || Number.isNaN(t)) return s;
  const d = new Date(t);
  const day = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][d.getUTCDay()];
  const mon = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][d.getUTCMonth()];
  const hms = d.toISOString().slice(11, 19);
  return `${day} ${mon} ${String(d.getUTCDate()).padStart(2, " ")} ${hms} ${d.getUTCFullYear()}`;
}

/**
 * A template reads docker's Go field names, its json the tags: APIVersion is the field whose tag
 * is ApiVersion (Client and Server). The Go name is added unlisted, so {{json .}} keeps the tags.
 */
function goNamed<T extends { ApiVersion?: string }>(v: T): T {
  if (v.ApiVersion !== undefined) Object.defineProperty(v, "APIVersion", { value: v.ApiVersion, enumerable: false });
  return v;
}

/** docker's version prints the Engine component's BuildTime as time.ANSIC (the first Engine only). */
function engineBuildTimeAnsic(v: ServerVersion): void {
  const engine = v.Components?.find((c) => c.Name === "Engine");
  if (engine?.Details?.BuildTime !== undefined) engine.Details.BuildTime = ansic(engine.Details.BuildTime);
}

const pad = (key: string) => `${key}:${" ".repeat(Math.max(1, 17 - key.length))}`;

export function serverLines(v: ServerVersion): string[] {
  const lines = [`Server:${v.Platform?.Name ? ` ${v.Platform.Name}` : ""}`];
  for (const c of v.Components ?? []) {
    lines.push(` ${c.Name}:`);
    const d = c.Details ?? {};
    if (c.Name === "Engine") {
      lines.push(
        `  Version:          ${c.Version}`,
        `  API version:      ${d.ApiVersion ?? ""} (minimum version ${d.MinAPIVersion ?? ""})`,
        `  Go version:       ${d.GoVersion ?? ""}`,
        `  Git commit:       ${d.GitCommit ?? ""}`,
        `  Built:            ${ansic(d.BuildTime ?? "")}`,
        `  OS/Arch:          ${d.Os ?? ""}/${d.Arch ?? ""}`,
        `  Experimental:     ${d.Experimental ?? ""}`,
      );
      const known = new Set([
        "ApiVersion",
        "MinAPIVersion",
        "GoVersion",
        "GitCommit",
        "BuildTime",
        "Os",
        "Arch",
        "Experimental",
        "KernelVersion",
      ]);
      for (const k of Object.keys(d).sort()) if (!known.has(k)) lines.push(`  ${pad(k)}${d[k]}`);
    } else {
      lines.push(`  Version:          ${c.Version}`);
      for (const k of Object.keys(d).sort()) lines.push(`  ${pad(k)}${d[k]}`);
    }
  }
  return lines;
}

const command: Command = {
  usage: "version [OPTIONS]",
  summary: "Show the Docker version information",
  args: { max: 0 },
  flags: [{ long: "format", short: "f", kind: "string", help: "Format output using a custom template" }],
  async run(io, p) {
    const client = io.client();
    let server: ServerVersion | undefined;
    let failure: unknown;
    try {
      server = await client.json<ServerVersion>("GET", "/version");
    } catch (e) {
      failure = e;
    }
    const negotiated = server ? await client.apiVersion() : MAX_API_VERSION;
    const clientInfo = {
      Version: BERTH_VERSION,
      ApiVersion: negotiated,
      DefaultAPIVersion: MAX_API_VERSION,
      GoVersion: `n/a (node ${process.version})`,
      GitCommit: "n/a",
      BuildTime: "",
      Os: process.platform,
      Arch: process.arch === "x64" ? "amd64" : process.arch,
      Context: io.context.context,
    };
    const format = str(p, "format");
    if (format) {
      const { compileTemplate } = await import("../format/template.ts");
      if (server) engineBuildTimeAnsic(server);
      const data = { Client: goNamed(clientInfo), Server: server ? goNamed(server) : null };
      io.out.write(`${compileTemplate(format)(data)}\n`);
    } else {
      const downgraded = negotiated !== MAX_API_VERSION ? ` (downgraded from ${MAX_API_VERSION})` : "";
      const lines = [
        "Client:",
        ` Version:           ${clientInfo.Version}`,
        ` API version:       ${negotiated}${downgraded}`,
        ` Go version:        ${clientInfo.GoVersion}`,
        ` Git commit:        ${clientInfo.GitCommit}`,
        ` Built:             n/a`,
        ` OS/Arch:           ${clientInfo.Os}/${clientInfo.Arch}`,
        ` Context:           ${clientInfo.Context}`,
      ];
      if (server) lines.push("", ...serverLines(server));
      io.out.write(`${lines.join("\n")}\n`);
    }
    if (failure) throw failure instanceof ConnectError ? failure : failure;
  },
};
export default command;
