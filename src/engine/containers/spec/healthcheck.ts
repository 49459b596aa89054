// Config.Healthcheck (docker's HealthConfig: Test, Interval, Timeout, StartPeriod, StartInterval,
// Retries; durations in nanoseconds): decoded from a create body or an image config, laid over
// the image's as dockerd's create merges them, and checked with dockerd's words. Pure.
import { InvalidArgumentError } from "../../../common/errors.ts";
import { type Bounds, fields, INT64, int, optionalList, str } from "./go-json.ts";
import type { HealthConfig } from "./types.ts";

/** dockerd's smallest duration a health check accepts (containertypes.MinimumDuration). */
export const MIN_HEALTH_DURATION_NS = 1_000_000;
/** A test's entries: a command line, never more than a few. */
const MAX_TEST_ITEMS = 4_096;
const TEST_BOUNDS: Bounds = { maxBytes: 131_072 };

const DURATIONS = ["Interval", "Timeout", "StartPeriod", "StartInterval"] as const;

/** HealthConfig from JSON; zero fields are left out, as dockerd writes them (omitempty). */
export function decodeHealthConfig(raw: unknown, field: string): HealthConfig {
  const f = fields(raw, field, "container.HealthConfig");
  const at = (name: string) => `HealthConfig.${field.slice(field.indexOf(".") + 1)}.${name}`;
  const out: HealthConfig = {};
  const test = optionalList(f.get("test"), at("Test"), "[]string", MAX_TEST_ITEMS, (v, fl) => str(v, fl, TEST_BOUNDS));
  if (test !== undefined && test.length > 0) out.Test = test;
  for (const name of DURATIONS) {
    const v = int(f.get(name.toLowerCase()), at(name), "time.Duration", INT64);
    if (v !== 0) out[name] = v;
  }
  const retries = int(f.get("retries"), at("Retries"), "int", INT64);
  if (retries !== 0) out.Retries = retries;
  return out;
}

/** The image's health check with the request's fields laid over it (dockerd's merge). */
export function mergeHealthConfig(
  user: HealthConfig | undefined,
  image: HealthConfig | undefined,
): HealthConfig | undefined {
  if (user === undefined) return image === undefined ? undefined : { ...image };
  if (image === undefined) return { ...user };
  const out: HealthConfig = { ...user };
  if (out.Test === undefined && image.Test !== undefined) out.Test = [...image.Test];
  for (const name of [...DURATIONS, "Retries"] as const) {
    if (out[name] === undefined && image[name] !== undefined) out[name] = image[name];
  }
  return out;
}

/** dockerd's checks of a create's health check, in its order. */
export function checkHealthConfig(h: HealthConfig | undefined): void {
  if (h === undefined) return;
  const tooShort = (name: (typeof DURATIONS)[number]) => {
    const v = h[name];
    if (v !== undefined && v !== 0 && v < MIN_HEALTH_DURATION_NS) {
      throw new InvalidArgumentError(`${name} in Healthcheck cannot be less than 1ms`);
    }
  };
  tooShort("Interval");
  tooShort("Timeout");
  if (h.Retries !== undefined && h.Retries < 0) {
    throw new InvalidArgumentError("Retries in Healthcheck cannot be negative");
  }
  tooShort("StartPeriod");
  tooShort("StartInterval");
}
