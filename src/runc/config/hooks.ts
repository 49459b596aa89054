// The hooks object: every hook path absolute, timeouts positive.
import {
  absolutePath,
  array,
  fail,
  INT32,
  integer,
  isAbsent,
  type JsonObject,
  object,
  optionalStringArray,
  put,
} from "./decode.ts";
import { checkExecStrings } from "./process.ts";
import type { Hook, Hooks } from "./types.ts";

export const HOOK_NAMES = Object.freeze([
  "prestart",
  "createRuntime",
  "createContainer",
  "startContainer",
  "poststart",
  "poststop",
] as const);

function decodeHook(raw: unknown, field: string): Hook {
  const o = object(raw, field);
  const hook: Hook = { path: absolutePath(o.path, `${field}.path`) };
  put(hook, "args", optionalStringArray(o.args, `${field}.args`));
  put(hook, "env", optionalStringArray(o.env, `${field}.env`));
  checkExecStrings(hook.args, hook.env, field);
  if (!isAbsent(o.timeout)) {
    const timeout = integer(o.timeout, `${field}.timeout`, INT32);
    if (timeout <= 0) fail(`${field}.timeout`, `must be greater than zero, got ${timeout}`);
    hook.timeout = timeout;
  }
  return hook;
}

/** Unknown hook kinds are ignored: a newer spec may add some, and we could not run them anyway. */
export function decodeHooks(value: unknown, field: string): Hooks {
  const o: JsonObject = object(value, field);
  const hooks: Hooks = {};
  for (const name of HOOK_NAMES) {
    if (!isAbsent(o[name])) hooks[name] = array(o[name], `${field}.${name}`, decodeHook);
  }
  return hooks;
}
