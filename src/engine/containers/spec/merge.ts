// The container's Config after create: the request laid over the image's config as dockerd's
// create merges them (what inspect shows as Config). Merging a merged config again changes nothing,
// so buildSpec may take either. Pure.
import { mergeHealthConfig } from "./healthcheck.ts";
import { mergeCommand, mergeEnv } from "./process.ts";
import type { ContainerConfig, ImageConfig } from "./types.ts";

export function mergeConfig(config: ContainerConfig, image: ImageConfig): ContainerConfig {
  const out: ContainerConfig = { ...config };
  if (out.User === "") out.User = image.User ?? "";
  out.Env = mergeEnv(image.Env ?? [], config.Env);
  const command = mergeCommand(config, image);
  out.Cmd = command.cmd;
  if (config.Entrypoint !== undefined || image.Entrypoint !== undefined) out.Entrypoint = command.entrypoint;
  else delete out.Entrypoint;
  if (out.WorkingDir === "") out.WorkingDir = image.WorkingDir ?? "";
  if (out.StopSignal === "") out.StopSignal = image.StopSignal ?? "";
  out.Labels = { ...(image.Labels ?? {}), ...config.Labels };
  out.ExposedPorts = { ...keysOf(image.ExposedPorts), ...config.ExposedPorts };
  out.Volumes = { ...keysOf(image.Volumes), ...config.Volumes };
  const healthcheck = mergeHealthConfig(config.Healthcheck, image.Healthcheck);
  if (healthcheck === undefined) delete out.Healthcheck;
  else out.Healthcheck = healthcheck;
  return out;
}

function keysOf(set: Record<string, unknown> | undefined): Record<string, Record<string, never>> {
  return Object.fromEntries(Object.keys(set ?? {}).map((k) => [k, {}]));
}
