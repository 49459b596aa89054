import { InvalidArgumentError } from "../../common/errors.ts";
import { bool, int, parseFlags, str, strs, UsageError } from "../../common/flags.ts";
import type { Command, CommandContext } from "../cli/context.ts";
import { loadProcessFile } from "../config/bundle.ts";
import { idRangeProblem } from "../config/decode.ts";
import type { Process } from "../config/types.ts";
import { execInContainer } from "../container/exec.ts";
import { forwardSignals } from "../container/signals.ts";
import { idArg } from "./create.ts";

const execFlags = {
  "console-socket": { kind: "string", usage: "unix socket that receives the pty master" },
  cwd: { kind: "string", usage: "current working directory in the container" },
  env: { kind: "strings", aliases: ["e"], usage: "set an environment variable (repeatable)" },
  tty: { kind: "bool", aliases: ["t"], usage: "allocate a pseudo-TTY" },
  user: { kind: "string", aliases: ["u"], usage: "UID[:GID]" },
  "additional-gids": { kind: "strings", aliases: ["g"], usage: "additional gids (repeatable)" },
  process: { kind: "string", aliases: ["p"], usage: "path to a process.json" },
  detach: { kind: "bool", aliases: ["d"], usage: "detach from the process" },
  "pid-file": { kind: "string", usage: "file to write the process's pid to" },
  "process-label": { kind: "string", usage: "SELinux label for the process" },
  apparmor: { kind: "string", usage: "AppArmor profile for the process" },
  "no-new-privs": { kind: "bool", usage: "set no_new_privs" },
  cap: { kind: "strings", aliases: ["c"], usage: "add a capability (repeatable)" },
  "preserve-fds": { kind: "int", usage: "number of extra fds (from 3) to hand on" },
  cgroup: { kind: "strings", usage: "sub-cgroup to run in (not supported)" },
  "ignore-paused": { kind: "bool", usage: "allow exec in a paused container" },
} as const;

function setEnv(env: string[], entry: string): string[] {
  const key = entry.split("=", 1)[0];
  return [...env.filter((e) => e.split("=", 1)[0] !== key), entry];
}

function parseId(text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw new InvalidArgumentError(`invalid ${what}: ${text}`);
  const problem = idRangeProblem(BigInt(text));
  if (problem !== undefined) throw new InvalidArgumentError(`invalid ${what}: ${problem}`);
  return Number(text);
}

export const exec: Command = {
  name: "exec",
  summary: "run a new process inside a running container",
  usage: "exec [options] <container-id> <command> [args...]",
  async run(ctx, argv) {
    // As runc: a failed exec (as opposed to the process's own status) exits 255.
    try {
      return await execCommand(ctx, argv);
    } catch (err) {
      ctx.log.error(`exec failed: ${err instanceof Error ? err.message : String(err)}`);
      return 255;
    }
  },
};

async function execCommand(ctx: CommandContext, argv: string[]): Promise<number> {
  {
    const p = parseFlags(argv, execFlags);
    const id = idArg(p.positionals, "exec");
    const rec = ctx.store.load(id);
    let proc: Process;
    const file = str(p, "process");
    if (file) {
      proc = loadProcessFile(file);
    } else {
      const args = p.positionals.slice(1);
      if (args.length === 0) throw new UsageError("exec args cannot be empty");
      const base = rec.spec.process ?? { user: { uid: 0, gid: 0 }, cwd: "/" };
      proc = structuredClone(base);
      proc.args = args;
      proc.terminal = bool(p, "tty");
      delete proc.consoleSize;
    }
    for (const e of strs(p, "env")) proc.env = setEnv(proc.env ?? [], e);
    const cwd = str(p, "cwd");
    if (cwd) proc.cwd = cwd;
    const user = str(p, "user");
    if (user) {
      const [u, g] = user.split(":");
      proc.user = {
        ...proc.user,
        uid: parseId(u ?? "", "uid"),
        gid: g === undefined ? proc.user.gid : parseId(g, "gid"),
      };
    }
    const gids = strs(p, "additional-gids");
    if (gids.length) proc.user.additionalGids = gids.map((g) => parseId(g, "gid"));
    const caps = strs(p, "cap");
    if (caps.length) {
      const c = proc.capabilities ?? {};
      proc.capabilities = c;
      c.bounding = [...(c.bounding ?? []), ...caps];
      c.effective = [...(c.effective ?? []), ...caps];
      c.permitted = [...(c.permitted ?? []), ...caps];
    }
    if (bool(p, "no-new-privs")) proc.noNewPrivileges = true;
    // Applied, or refused when the host cannot apply them (plan/lsm.ts); never ignored.
    const apparmor = str(p, "apparmor");
    if (apparmor) proc.apparmorProfile = apparmor;
    const label = str(p, "process-label");
    if (label) proc.selinuxLabel = label;
    if (strs(p, "cgroup").length) throw new InvalidArgumentError("exec --cgroup is not supported");
    const detach = bool(p, "detach");
    const result = await execInContainer(ctx.store, id, {
      process: proc,
      detach,
      consoleSocket: str(p, "console-socket"),
      pidFile: str(p, "pid-file"),
      preserveFds: int(p, "preserve-fds") ?? 0,
    });
    if (detach) return 0;
    forwardSignals(result.pid);
    return await result.exit;
  }
}
