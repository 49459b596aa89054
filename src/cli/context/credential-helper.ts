// docker's credential-helper protocol: `docker-credential-<name> <action>` found on PATH, the
// request on its stdin, the answer on its stdout (get: {"ServerURL","Username","Secret"}; store
// reads that object; erase and get read the server's address). A helper is someone else's
// program: its answer is bounded, it gets a deadline, and a missing one is an error in docker's words.
import { spawn } from "node:child_process";
import { CliError } from "../errors.ts";

/** A helper's answer larger than this is refused (a real one is a few hundred bytes). */
export const MAX_HELPER_OUTPUT = 64 * 1024;
/** A helper that has not answered by then is killed (BERTH_CREDENTIAL_HELPER_TIMEOUT, ms, to change it). */
export const HELPER_TIMEOUT_MS = 30_000;

export type HelperAction = "get" | "store" | "erase" | "list";

/** What `get` answers: the stored username and secret ("<token>" as username: an identity token). */
export interface HelperCredentials {
  ServerURL?: string;
  Username: string;
  Secret: string;
}

/** The helper's stdout, or a CliError holding what went wrong and what it printed. */
export async function runHelper(
  name: string,
  action: HelperAction,
  input: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<string> {
  const program = `docker-credential-${name}`;
  // A name is looked up on PATH only: a config file must not name a path to run.
  if (name === "" || name.includes("/") || name.includes("\0")) {
    throw new CliError(`invalid credential helper name ${JSON.stringify(name)}`);
  }
  const timeoutMs = Number(env.BERTH_CREDENTIAL_HELPER_TIMEOUT) || HELPER_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    // Its own process group: a helper's children go with it when it is killed.
    const child = spawn(program, [action], {
      stdio: ["pipe", "pipe", "ignore"],
      env: env as NodeJS.ProcessEnv,
      detached: true,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (err: Error | undefined, out = "") => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(out);
    };
    const stop = (why: string) => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {}
      child.stdout.destroy();
      settle(new HelperFailure(why, ""));
    };
    const timer = setTimeout(() => stop(`${program} did not answer in ${timeoutMs / 1000} s`), timeoutMs);
    child.stdout.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_HELPER_OUTPUT) stop(`${program} answered more than ${MAX_HELPER_OUTPUT} bytes`);
      else chunks.push(c);
    });
    // A helper that exits without reading its stdin: the write fails, its exit says the rest.
    child.stdin.on("error", () => {});
    child.stdin.end(input);
    child.once("error", (err) => {
      const code = (err as { code?: string }).code;
      const why =
        code === "ENOENT"
          ? `exec: "${program}": executable file not found in $PATH`
          : `exec: "${program}": ${err.message}`;
      settle(new HelperFailure(why, ""));
    });
    child.once("close", (code, signal) => {
      const out = Buffer.concat(chunks).toString("utf8");
      if (code !== 0) settle(new HelperFailure(signal ? `signal: ${signal}` : `exit status ${code}`, out));
      else settle(undefined, out);
    });
  });
}

/** A helper that failed: Go's words for why (`err`) and what it printed (`out`). */
export class HelperFailure extends CliError {
  readonly why: string;
  readonly out: string;
  constructor(why: string, out: string) {
    super(`err: ${why}, out: \`${shown(out)}\``);
    this.name = "HelperFailure";
    this.why = why;
    this.out = out.trim();
  }
}

/** A helper's output as shown in a message: its start, control characters escaped (no terminal escapes). */
function shown(out: string): string {
  return out
    .trim()
    .slice(0, 512)
    .replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/** "credentials not found" as docker-credential-helpers says it: the helper has none, not a failure. */
const NOT_FOUND = "credentials not found in native keychain";

/** The helper's credentials for `server`, undefined when it has none. */
export async function helperGet(
  name: string,
  server: string,
  env?: Readonly<Record<string, string | undefined>>,
): Promise<HelperCredentials | undefined> {
  let out: string;
  try {
    out = await runHelper(name, "get", server, env);
  } catch (err) {
    if (err instanceof HelperFailure && err.out === NOT_FOUND) return undefined;
    throw new CliError(`error getting credentials - ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(out);
  } catch {
    throw new CliError(
      `error getting credentials - err: the answer of docker-credential-${name} is not JSON, out: \`${shown(out)}\``,
    );
  }
  const c = doc as Partial<HelperCredentials> | null;
  if (typeof c !== "object" || c === null || typeof c.Username !== "string" || typeof c.Secret !== "string") {
    throw new CliError(
      `error getting credentials - err: the answer of docker-credential-${name} has no Username and Secret`,
    );
  }
  if (c.Username === "" && c.Secret === "") return undefined;
  return { Username: c.Username, Secret: c.Secret };
}

export async function helperStore(
  name: string,
  creds: Required<HelperCredentials>,
  env?: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  try {
    await runHelper(name, "store", JSON.stringify(creds), env);
  } catch (err) {
    throw new CliError(`error storing credentials - ${(err as Error).message}`);
  }
}

export async function helperErase(
  name: string,
  server: string,
  env?: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  try {
    await runHelper(name, "erase", server, env);
  } catch (err) {
    throw new CliError(`error erasing credentials - ${(err as Error).message}`);
  }
}
