// berth login: the credentials checked by the daemon (POST /auth), then kept where docker keeps
// them (context/credentials.ts): -u/-p, -u with --password-stdin, the credentials already kept
// when neither is given, else a prompt on a terminal. Docker 28's words and order of checks.

import { configPath } from "../context/config-file.ts";
import {
  type AuthConfig,
  getCredentials,
  hostnameOf,
  INDEX_SERVER,
  serverKey,
  storeCredentials,
} from "../context/credentials.ts";
import { CliError, DaemonError } from "../errors.ts";
import { type Command, type Io, str } from "./command.ts";
import { promptCredentials, readSecretFromStdin } from "./login-prompt.ts";

interface AuthAnswer {
  Status?: string;
  IdentityToken?: string;
}

/** The server address docker logs in to for `arg`: Docker Hub's, else the host alone. */
export function loginServer(arg: string | undefined): string {
  if (arg === undefined || arg === "" || arg === INDEX_SERVER) return INDEX_SERVER;
  return serverKey(hostnameOf(arg));
}

async function authenticate(io: Io, auth: AuthConfig): Promise<AuthAnswer> {
  return (await io.client().json<AuthAnswer>("POST", "/auth", { body: auth })) ?? {};
}

const command: Command = {
  usage: "login [OPTIONS] [SERVER]",
  summary: "Authenticate to a registry",
  flags: [
    { long: "password", short: "p", kind: "string", help: "Password or Personal Access Token (PAT)" },
    { long: "password-stdin", kind: "bool", help: "Take the Password or Personal Access Token (PAT) from stdin" },
    { long: "username", short: "u", kind: "string", help: "Username" },
  ],
  args: { max: 1 },
  async run(io, p) {
    const given = (f: string) => p.set.has(f);
    if (given("password-stdin")) {
      if (given("password"))
        throw new CliError("conflicting options: cannot specify both --password and --password-stdin");
      if (!given("username")) throw new CliError("the --password-stdin option requires --username to be set");
    }
    let username = str(p, "username") ?? "";
    let password = str(p, "password") ?? "";
    if (given("username") && username === "") throw new CliError("username is empty");
    if (given("password") && password === "") throw new CliError("password is empty");
    if (given("password-stdin")) password = await readSecretFromStdin();
    if (password !== "" && given("password")) {
      io.err.write("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
    }
    const server = loginServer(p.args[0]);
    const env = process.env;
    const config = io.context.config;
    let auth: AuthConfig | undefined;
    let answer: AuthAnswer | undefined;
    if (username === "" && password === "") {
      // docker tries what is kept first, and asks only when the registry refuses it.
      const kept = await getCredentials(config, server, env);
      if (kept) {
        io.err.write(
          `Authenticating with existing credentials... [Username: ${kept.username ?? ""}]\n\n Info -> To login with a different account, run 'berth logout' followed by 'berth login'\n\n\n`,
        );
        try {
          answer = await authenticate(io, kept);
          auth = kept;
        } catch (err) {
          if (!(err instanceof DaemonError && err.status === 401)) throw err;
        }
      }
    }
    if (!auth) {
      if (password === "" || username === "") {
        const asked = await promptCredentials(io, username, password);
        username = asked.username;
        password = asked.password;
      }
      auth = { username, password, serveraddress: server };
      answer = await authenticate(io, auth);
    }
    if (answer?.IdentityToken)
      auth = { username: auth.username ?? "", serveraddress: server, identitytoken: answer.IdentityToken };
    let stored: { inFile: boolean; changed: boolean };
    try {
      stored = await storeCredentials(io.context.configDir, config, auth, env);
    } catch (err) {
      throw new CliError(`Error saving credentials: ${(err as Error).message}`);
    }
    if (stored.inFile && stored.changed) {
      io.err.write(
        `\nWARNING! Your credentials are stored unencrypted in '${configPath(io.context.configDir)}'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n\n`,
      );
    }
    io.out.write(`${answer?.Status || "Login Succeeded"}\n`);
  },
};
export default command;
