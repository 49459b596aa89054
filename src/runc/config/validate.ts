// The config.json edge: raw JSON in, a typed and validated Spec out, or an InvalidSpecError
// whose field names the exact place. Unknown fields are ignored (a newer runtime-spec may add
// some); unknown values of known enumerations are refused.
import {
  type DecodeContext,
  fail,
  isAbsent,
  keyField,
  object,
  optionalBoolean,
  optionalString,
  put,
  record,
  string,
} from "./decode.ts";
import { decodeHooks } from "./hooks.ts";
import { decodeLinux } from "./linux.ts";
import { decodeMounts } from "./mounts.ts";
import { decodeProcess, requireRunnable } from "./process.ts";
import { checkRules } from "./rules.ts";
import type { Process, Spec } from "./types.ts";

export interface ParseSpecOptions {
  /**
   * The process is required to create or run a container (the default); the runtime-spec makes
   * it optional only for a bundle that is never started.
   */
  requireProcess?: boolean;
  /** Receives problems that are tolerated (deprecated or ignored settings). */
  onWarning?: (field: string, message: string) => void;
}

const SEMVER_1 = /^1\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

function context(opts: ParseSpecOptions): DecodeContext {
  const onWarning = opts.onWarning;
  return { warn: (field, message) => onWarning?.(field, message) };
}

export function parseSpec(raw: unknown, opts: ParseSpecOptions = {}): Spec {
  const ctx = context(opts);
  const o = object(raw, "(document)");

  if (isAbsent(o.ociVersion) || o.ociVersion === "") fail("ociVersion", "is required");
  const ociVersion = string(o.ociVersion, "ociVersion");
  if (!SEMVER_1.test(ociVersion)) {
    fail("ociVersion", `unsupported version ${JSON.stringify(ociVersion)} (expected a 1.x.y semantic version)`);
  }
  const spec: Spec = { ociVersion };

  if (isAbsent(o.root)) fail("root", "root must be specified");
  const root = object(o.root, "root");
  if (isAbsent(root.path) || root.path === "") fail("root.path", "is required");
  spec.root = { path: string(root.path, "root.path") };
  put(spec.root, "readonly", optionalBoolean(root.readonly, "root.readonly"));

  if (!isAbsent(o.process)) {
    spec.process = decodeProcess(o.process, "process", ctx);
    if (opts.requireProcess !== false) requireRunnable(spec.process, "process");
  } else if (opts.requireProcess !== false) {
    fail("process", "is required to create a container");
  }

  put(spec, "hostname", optionalString(o.hostname, "hostname"));
  put(spec, "domainname", optionalString(o.domainname, "domainname"));
  if (!isAbsent(o.mounts)) spec.mounts = decodeMounts(o.mounts, "mounts", ctx);
  if (!isAbsent(o.hooks)) spec.hooks = decodeHooks(o.hooks, "hooks");
  if (!isAbsent(o.annotations)) {
    const annotations = record(o.annotations, "annotations", string);
    if (Object.hasOwn(annotations, "")) fail(keyField("annotations", ""), "annotation keys must not be empty");
    spec.annotations = annotations;
  }
  if (!isAbsent(o.linux)) spec.linux = decodeLinux(o.linux, "linux", ctx);

  checkRules(spec);
  return spec;
}

/** Decodes the process.json given to `exec --process`; errors name fields as `process.*`. */
export function parseProcess(raw: unknown, opts: Pick<ParseSpecOptions, "onWarning"> = {}): Process {
  const p = decodeProcess(raw, "process", context(opts));
  requireRunnable(p, "process");
  return p;
}

export { loadBundleSpec, parseSpecJson } from "./bundle.ts";
