// Hooks that run in the runtime's namespace (prestart, createRuntime, poststart, poststop): the
// container state JSON on stdin, the hook's own args (args[0] is argv[0]) and env, a timeout.
import { BerthError, errorMessage } from "../../common/errors.ts";
import { describeExit, ExecError, type ExecResult, execCollect } from "../../common/exec.ts";
import { TRACEPARENT_ENV, type TraceContext, traceparentOf } from "../../rpc/trace.ts";
import type { Hook, State } from "../config/types.ts";

export class HookError extends BerthError {
  constructor(message: string) {
    super("failed-precondition", message);
  }
}

/** stderr kept for a failing hook's message. */
const MAX_HOOK_STDERR = 4096;

/**
 * A hook's environment: its own `env` from config.json, plus TRACEPARENT naming the runtime's span
 * of `trace` (the call that runs the hook) unless the hook's env sets one itself.
 */
export function hookEnv(hook: Hook, trace: TraceContext | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  if (trace) env[TRACEPARENT_ENV] = traceparentOf(trace);
  for (const e of hook.env ?? []) {
    const eq = e.indexOf("=");
    if (eq > 0) env[e.slice(0, eq)] = e.slice(eq + 1);
  }
  return env;
}

export async function runHook(hook: Hook, state: State, trace?: TraceContext): Promise<void> {
  const args = hook.args ?? [hook.path];
  const env = hookEnv(hook, trace);
  let r: ExecResult;
  try {
    r = await execCollect(hook.path, args.slice(1), {
      argv0: args[0] ?? hook.path,
      env,
      input: JSON.stringify(state),
      stdio: ["pipe", "ignore", "pipe"],
      timeoutMs: hook.timeout && hook.timeout > 0 ? hook.timeout * 1000 : undefined,
      maxStderr: MAX_HOOK_STDERR,
    });
  } catch (err) {
    if (err instanceof ExecError && err.timedOut)
      throw new HookError(`hook ${hook.path} timed out after ${hook.timeout}s`);
    throw new HookError(`hook ${hook.path}: ${err instanceof ExecError ? errorMessage(err.cause) : errorMessage(err)}`);
  }
  if (r.code !== 0) {
    const stderr = r.stderr.trim();
    throw new HookError(`hook ${hook.path} failed: ${describeExit(r.code, r.signal)}${stderr ? `: ${stderr}` : ""}`);
  }
}

export async function runHooks(hooks: readonly Hook[] | undefined, state: State, trace?: TraceContext): Promise<void> {
  for (const h of hooks ?? []) await runHook(h, state, trace);
}
