// The part of an image's config (the OCI config's `config` object) a container is made from,
// read with every field's type checked: a field of the wrong type is left out, as if the image
// had none, rather than trusted.
import { decodeHealthConfig } from "./spec/healthcheck.ts";
import type { ImageConfig } from "./spec/types.ts";

const strings = (v: unknown): string[] | undefined =>
  Array.isArray(v) && v.every((s) => typeof s === "string") ? (v as string[]) : undefined;
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const obj = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

export function imageConfigOf(config: Record<string, unknown> | undefined): ImageConfig {
  const c = config ?? {};
  const out: ImageConfig = {};
  const set = <K extends keyof ImageConfig>(k: K, v: ImageConfig[K] | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  set("User", str(c.User));
  set("Env", strings(c.Env));
  set("Entrypoint", strings(c.Entrypoint));
  set("Cmd", strings(c.Cmd));
  set("WorkingDir", str(c.WorkingDir));
  set("StopSignal", str(c.StopSignal));
  set("ExposedPorts", obj(c.ExposedPorts));
  set("Volumes", obj(c.Volumes));
  const labels = obj(c.Labels);
  if (labels && Object.values(labels).every((v) => typeof v === "string"))
    out.Labels = labels as Record<string, string>;
  if (obj(c.Healthcheck)) {
    try {
      out.Healthcheck = decodeHealthConfig(c.Healthcheck, "ContainerConfig.Healthcheck");
    } catch {
      // A HEALTHCHECK of the wrong shape: as if the image had none.
    }
  }
  return out;
}
