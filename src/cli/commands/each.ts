// Docker's way with commands over several names (rm, stop, kill, start, pause, rmi, ...): each
// name in turn, its result on stdout, the failures on stderr once all were tried, exit 1.
import { CliExit, DaemonError } from "../errors.ts";

export async function forEach(
  names: readonly string[],
  err: NodeJS.WritableStream,
  act: (name: string) => Promise<string | undefined>,
  out: NodeJS.WritableStream,
): Promise<void> {
  const failures: string[] = [];
  for (const name of names) {
    try {
      const line = await act(name);
      if (line !== undefined) out.write(`${line}\n`);
    } catch (e) {
      if (!(e instanceof DaemonError)) throw e;
      failures.push(e.message);
    }
  }
  if (failures.length > 0) {
    err.write(`${failures.join("\n")}\n`);
    throw new CliExit(1);
  }
}
