// Hooks that run in the runtime's namespace (prestart, createRuntime, poststart, poststop): the
// container state JSON on stdin, the hook's own args (args[0] is argv[0]) and env, a timeout.
import { spawn } from "node:child_process";
import { BerthError } from "../../common/errors.ts";
import type { Hook, State } from "../config/types.ts";

export class HookError extends BerthError {
  constructor(message: string) {
    super("failed-precondition", message);
  }
}

export function runHook(hook: Hook, state: State): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = hook.args ?? [hook.path];
    const env: Record<string, string> = {};
    for (const e of hook.env ?? []) {
      const eq = e.indexOf("=");
      if (eq > 0) env[e.slice(0, eq)] = e.slice(eq + 1);
    }
    const child = spawn(hook.path, args.slice(1), {
      argv0: args[0] ?? hook.path,
      env,
      stdio: ["pipe", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr?.setEncoding("utf8").on("data", (d: string) => {
      if (stderr.length < 4096) stderr += d;
    });
    const timer =
      hook.timeout && hook.timeout > 0
        ? setTimeout(() => {
            child.kill("SIGKILL");
            reject(new HookError(`hook ${hook.path} timed out after ${hook.timeout}s`));
          }, hook.timeout * 1000)
        : undefined;
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new HookError(`hook ${hook.path}: ${e.message}`));
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else {
        const how = signal ? `signal ${signal}` : `exit status ${code}`;
        reject(new HookError(`hook ${hook.path} failed: ${how}${stderr ? `: ${stderr.trim()}` : ""}`));
      }
    });
    child.stdin?.on("error", () => {});
    child.stdin?.end(JSON.stringify(state));
  });
}

export async function runHooks(hooks: readonly Hook[] | undefined, state: State): Promise<void> {
  for (const h of hooks ?? []) await runHook(h, state);
}
