// Where login's username and password come from when the flags do not give them: stdin
// (--password-stdin: bounded, one trailing newline dropped, as docker does), or a prompt on a
// terminal, the password typed without echo. Not a terminal: docker's refusal.
import { CliError } from "../errors.ts";
import type { Io } from "./command.ts";

/** A password or token is small; stdin past this is refused. */
export const MAX_SECRET_BYTES = 64 * 1024;

export async function readSecretFromStdin(input: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of input) {
    const b = typeof c === "string" ? Buffer.from(c) : (c as Buffer);
    size += b.length;
    if (size > MAX_SECRET_BYTES) throw new CliError(`the password on stdin is longer than ${MAX_SECRET_BYTES} bytes`);
    chunks.push(b);
  }
  let text = Buffer.concat(chunks).toString("utf8");
  if (text.endsWith("\n")) text = text.slice(0, -1);
  if (text.endsWith("\r")) text = text.slice(0, -1);
  return text;
}

/** One line typed on the terminal; `hidden`: no echo (raw mode, restored on every way out). */
function askLine(io: Io, prompt: string, hidden: boolean): Promise<string> {
  const stdin = process.stdin;
  io.out.write(prompt);
  return new Promise((resolve, reject) => {
    let line = "";
    const raw = hidden && typeof stdin.setRawMode === "function";
    if (raw) stdin.setRawMode(true);
    const done = (err?: Error) => {
      stdin.off("data", onData);
      if (raw) stdin.setRawMode(false);
      stdin.pause();
      if (hidden) io.out.write("\n");
      if (err) reject(err);
      else resolve(line);
    };
    const onData = (c: Buffer) => {
      for (const ch of c.toString("utf8")) {
        if (ch === "\r" || ch === "\n") return done();
        if (ch === "\x03" || ch === "\x04") return done(new CliError("login cancelled"));
        if (ch === "\x7f" || ch === "\b") line = line.slice(0, -1);
        else if (line.length < MAX_SECRET_BYTES) line += ch;
      }
    };
    stdin.on("data", onData);
    stdin.resume();
  });
}

/** The username and password asked on the terminal (what the flags gave kept). */
export async function promptCredentials(
  io: Io,
  username: string,
  password: string,
): Promise<{ username: string; password: string }> {
  if (!process.stdin.isTTY) throw new CliError("Error: Cannot perform an interactive login from a non TTY device");
  let user = username;
  if (user === "") {
    user = (await askLine(io, "Username: ", false)).trim();
    if (user === "") throw new CliError("Error: Non-null Username Required");
  }
  let pass = password;
  if (pass === "") {
    pass = await askLine(io, "Password: ", true);
    if (pass === "") throw new CliError("Error: Password Required");
  }
  return { username: user, password: pass };
}
