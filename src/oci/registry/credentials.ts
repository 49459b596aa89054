// Credentials from a docker-style config.json ({"auths": {"host": {"auth": base64("user:pass")}}}),
// the file `docker login` writes; docker.io's entry is keyed https://index.docker.io/v1/.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { InvalidArgumentError } from "../../common/errors.ts";
import type { Credentials } from "./auth.ts";

export type CredentialStore = (host: string) => Credentials | undefined;

export function dockerConfigPath(): string {
  return join(process.env.DOCKER_CONFIG ?? join(homedir(), ".docker"), "config.json");
}

export function credentialsFromDockerConfig(text: string): CredentialStore {
  let doc: { auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }> };
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`docker config.json: ${(err as Error).message}`);
  }
  const auths = doc.auths ?? {};
  const key = (h: string) => (h === "docker.io" || h === "registry-1.docker.io" ? "https://index.docker.io/v1/" : h);
  return (host) => {
    const e = auths[key(host)] ?? auths[`https://${host}`] ?? auths[`http://${host}`];
    if (!e) return undefined;
    if (e.auth) {
      const plain = Buffer.from(e.auth, "base64").toString("utf8");
      const i = plain.indexOf(":");
      if (i < 0) throw new InvalidArgumentError(`docker config.json: auth for ${host} is not base64("user:password")`);
      return { username: plain.slice(0, i), password: plain.slice(i + 1), identityToken: e.identitytoken };
    }
    if (e.username) return { username: e.username, password: e.password ?? "", identityToken: e.identitytoken };
    return undefined;
  };
}

/** The user's docker config.json, or no credentials when there is none. */
export function defaultCredentials(): CredentialStore {
  try {
    return credentialsFromDockerConfig(readFileSync(dockerConfigPath(), "utf8"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return () => undefined;
    throw err;
  }
}
