// The container record: what berthd keeps of a container, the fields dockerd keeps in its
// config.v2.json (by their names there), and the state transitions of its life as pure
// functions. The record is saved by store.ts after each change; inspect and list read it.
import { randomBytes } from "node:crypto";
import type { HealthState } from "./health.ts";
import type { ContainerConfig, HostConfig } from "./spec/types.ts";

export type ContainerStatus = "created" | "running" | "paused" | "restarting" | "removing" | "exited" | "dead";

/** Go's zero time as dockerd writes it for a start or finish that has not happened. */
export const ZERO_TIME = "0001-01-01T00:00:00Z";

export interface ContainerState {
  Status: ContainerStatus;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  /** With a health check only (health.ts). */
  Health?: HealthState;
}

export interface ContainerRecord {
  /** 64 lowercase hex digits; also the containerd container's id and its snapshot's key. */
  ID: string;
  /** "/web". */
  Name: string;
  /** RFC 3339 with fractions. */
  Created: string;
  Path: string;
  Args: string[];
  /** The request's Config merged over the image's (what inspect shows). */
  Config: ContainerConfig;
  HostConfig: HostConfig;
  /** The image's id (its manifest digest in containerd's store). */
  Image: string;
  /** The containerd image name the container was made from ("docker.io/library/busybox:latest"). */
  ImageName: string;
  State: ContainerState;
  /** The runtime (HostConfig.Runtime, or the daemon's default when created). */
  Runtime: string;
  RestartCount: number;
  /** A user stopped or killed it (unless-stopped does not start it again; dockerd's field). */
  HasBeenManuallyStopped?: boolean;
  LogPath: string;
  ResolvConfPath: string;
  HostnamePath: string;
  HostsPath: string;
}

/** A new container id: 32 random bytes in hex, never with an all-digit short form (as dockerd). */
export function newContainerId(random: (n: number) => Buffer = randomBytes): string {
  for (;;) {
    const id = random(32).toString("hex");
    if (!/^\d{12}$/.test(id.slice(0, 12))) return id;
  }
}

export const CONTAINER_ID = /^[0-9a-f]{64}$/;

export function createdState(): ContainerState {
  return {
    Status: "created",
    Running: false,
    Paused: false,
    Restarting: false,
    OOMKilled: false,
    Dead: false,
    Pid: 0,
    ExitCode: 0,
    Error: "",
    StartedAt: ZERO_TIME,
    FinishedAt: ZERO_TIME,
  };
}

/** The task runs with `pid`. */
export function started(s: ContainerState, pid: number, at: Date): ContainerState {
  return {
    ...s,
    Status: "running",
    Running: true,
    Paused: false,
    Restarting: false,
    OOMKilled: false,
    Dead: false,
    Pid: pid,
    ExitCode: 0,
    Error: "",
    StartedAt: at.toISOString(),
  };
}

/** The task's process ended with `exitCode` (128 + n for signal n). */
export function exited(s: ContainerState, exitCode: number, at: Date, oomKilled = false): ContainerState {
  return {
    ...s,
    Status: "exited",
    Running: false,
    Paused: false,
    Restarting: false,
    OOMKilled: oomKilled,
    Pid: 0,
    ExitCode: exitCode,
    FinishedAt: at.toISOString(),
  };
}

/**
 * The task's exit, known (its task deleted) but not recorded yet: the state still says running, with
 * the exit's code and time kept, so a berthd killed before the exit is recorded finds them at its
 * restart (the task is gone from containerd by then) instead of losing the code.
 */
export function exitPending(s: ContainerState, exitCode: number, at: Date): ContainerState {
  // No earlier than the start (a process that exits at once may have ended before berthd noted
  // its start), so pendingExit can tell it from the end of an earlier run.
  const start = Date.parse(s.StartedAt);
  return { ...s, ExitCode: exitCode, FinishedAt: (at.getTime() < start ? new Date(start) : at).toISOString() };
}

/** The exit exitPending kept for a running state: a finish no earlier than its start. */
export function pendingExit(s: ContainerState): { exitCode: number; at: Date } | undefined {
  if (!s.Running || s.FinishedAt === ZERO_TIME) return undefined;
  const at = Date.parse(s.FinishedAt);
  return at >= Date.parse(s.StartedAt) ? { exitCode: s.ExitCode, at: new Date(at) } : undefined;
}

/**
 * The start failed: dockerd's exit codes for it (127: the command was not found, 126: it could
 * not be run, 128: anything else) and the error kept for inspect.
 */
export function startFailed(s: ContainerState, error: string, at: Date): ContainerState {
  const code = /not found|no such file/i.test(error) ? 127 : /permission denied/i.test(error) ? 126 : 128;
  return { ...exited(s, code, at), Status: s.StartedAt === ZERO_TIME ? "created" : "exited", Error: error };
}

/**
 * The process ended and the restart policy starts it again after a back-off: dockerd counts the
 * container as running meanwhile (stop, rm and wait treat it so), with no pid.
 */
export function restarting(s: ContainerState, exitCode: number, at: Date, oomKilled = false): ContainerState {
  return { ...exited(s, exitCode, at, oomKilled), Status: "restarting", Running: true, Restarting: true };
}

export function removing(s: ContainerState): ContainerState {
  return { ...s, Status: "removing" };
}

export function paused(s: ContainerState, isPaused: boolean): ContainerState {
  return { ...s, Paused: isPaused, Status: isPaused ? "paused" : s.Running ? "running" : s.Status };
}
