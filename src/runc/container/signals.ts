// Signal names and numbers as `kill` accepts them: KILL, SIGKILL, 9.
import { constants } from "node:os";
import { InvalidArgumentError } from "../../common/errors.ts";

const SIGNALS = constants.signals as Record<string, number>;

export function signalNumber(input: string): number {
  if (/^\d+$/.test(input)) {
    const n = Number(input);
    if (n >= 1 && n <= 64) return n;
    throw new InvalidArgumentError(`invalid signal: ${input}`);
  }
  const upper = input.toUpperCase();
  const name = upper.startsWith("SIG") ? upper : `SIG${upper}`;
  const rt = /^SIGRTMIN(?:\+(\d+))?$/.exec(name) ?? /^SIGRTMAX(?:-(\d+))?$/.exec(name);
  if (rt) {
    const off = Number(rt[1] ?? 0);
    const n = name.startsWith("SIGRTMIN") ? 34 + off : 64 - off;
    if (n >= 34 && n <= 64) return n;
  }
  const n = SIGNALS[name];
  if (n === undefined) throw new InvalidArgumentError(`unknown signal "${input}"`);
  return n;
}

const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH"] as const;

/** In the foreground, signals sent to the runtime are meant for the container's process. */
export function forwardSignals(pid: number): void {
  for (const sig of FORWARDED) {
    process.on(sig, () => {
      try {
        process.kill(pid, sig);
      } catch {
        // Already exited.
      }
    });
  }
}
