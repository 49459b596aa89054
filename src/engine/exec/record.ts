// An exec instance as berthd keeps it (in memory, as dockerd does: execs do not outlive berthd),
// and its inspect shape: dockerd's ExecInspect, field for field.
import { parseDetachKeys } from "../containers/detach-keys.ts";
import type { ExecConfig } from "./decode.ts";

export interface ExecRecord {
  ID: string;
  ContainerID: string;
  /** As created; User and WorkingDir defaulted to the container's as dockerd does. */
  config: ExecConfig;
  /** start was asked: an exec starts once. */
  started: boolean;
  Running: boolean;
  /** null until it has exited (or its start failed: 126). */
  ExitCode: number | null;
  Pid: number;
}

/** GET /exec/{id}/json. */
export function inspectExec(r: ExecRecord): Record<string, unknown> {
  const [entrypoint = "", ...args] = r.config.Cmd;
  const pc: Record<string, unknown> = {
    tty: r.config.Tty,
    entrypoint,
    arguments: args,
    privileged: r.config.Privileged,
  };
  if (r.config.User !== "") pc.user = r.config.User;
  return {
    ID: r.ID,
    Running: r.Running,
    ExitCode: r.ExitCode,
    ProcessConfig: pc,
    OpenStdin: r.config.AttachStdin,
    OpenStderr: r.config.AttachStderr,
    OpenStdout: r.config.AttachStdout,
    CanRemove: false,
    ContainerID: r.ContainerID,
    // dockerd keeps the keys as bytes, which Go's encoder writes in base64.
    DetachKeys: Buffer.from(r.config.DetachKeys === "" ? [] : parseDetachKeys(r.config.DetachKeys)).toString("base64"),
    Pid: r.Pid,
  };
}
