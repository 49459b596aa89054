// HostConfig.SecurityOpt read as dockerd reads it: "no-new-privileges[=|:bool]",
// "seccomp=unconfined|<profile json>", "apparmor=..." and "label=..." (accepted; berth applies
// neither AppArmor nor SELinux, and says so in a warning), anything else refused.
import { InvalidArgumentError } from "../../../common/errors.ts";
import { LIMITS } from "./decode.ts";
import { type DockerSeccompProfile, parseDockerProfile } from "./seccomp.ts";

export interface SecurityOptions {
  noNewPrivileges: boolean;
  /** "default" (docker's profile), "unconfined", or a profile the request sent. */
  seccomp: "default" | "unconfined" | DockerSeccompProfile;
  warnings: string[];
}

/** Go's strconv.ParseBool. */
function parseBool(s: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(s)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(s)) return false;
  return undefined;
}

export function parseSecurityOpt(opts: readonly string[]): SecurityOptions {
  const out: SecurityOptions = { noNewPrivileges: false, seccomp: "default", warnings: [] };
  for (const opt of opts) {
    if (opt === "no-new-privileges") {
      out.noNewPrivileges = true;
      continue;
    }
    if (opt === "disable") continue; // label=disable's old spelling: no SELinux labels, which berth never sets
    const sep = opt.includes("=") ? "=" : opt.includes(":") ? ":" : undefined;
    if (sep === undefined) throw new InvalidArgumentError(`invalid --security-opt 1: ${JSON.stringify(opt)}`);
    const at = opt.indexOf(sep);
    const key = opt.slice(0, at);
    const value = opt.slice(at + 1);
    switch (key) {
      case "no-new-privileges": {
        const b = parseBool(value);
        if (b === undefined) throw new InvalidArgumentError(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
        out.noNewPrivileges = b;
        break;
      }
      case "seccomp":
        if (value === "unconfined") out.seccomp = "unconfined";
        else {
          if (Buffer.byteLength(value) > LIMITS.seccompProfileBytes) {
            throw new InvalidArgumentError(
              `Decoding seccomp profile failed: the profile is larger than ${LIMITS.seccompProfileBytes} bytes`,
            );
          }
          out.seccomp = parseDockerProfile(value);
        }
        break;
      case "apparmor":
        out.warnings.push(`AppArmor is not applied by berth: security option ${JSON.stringify(opt)} has no effect`);
        break;
      case "label":
        if (value !== "disable") {
          out.warnings.push(
            `SELinux labels are not applied by berth: security option ${JSON.stringify(opt)} has no effect`,
          );
        }
        break;
      default:
        throw new InvalidArgumentError(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
    }
  }
  return out;
}
