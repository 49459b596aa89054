// The X-Registry-Auth header docker clients send with a pull or push: base64url of a JSON
// AuthConfig ({"username","password","serveraddress"} or {"identitytoken"}; "auth" is
// base64("user:password") as config.json keeps it). Decoded once here, bounded, every field's
// type checked; a bad header is a 400 (as dockerd 23+ answers; 20.10 pulled anonymously instead).
import { InvalidArgumentError } from "../../common/errors.ts";

export interface RegistryAuth {
  username: string;
  password: string;
  identityToken: string;
  serverAddress: string;
}

/** Far above a real header (a few hundred bytes; an identity token a few KiB). */
export const MAX_AUTH_HEADER = 16 << 10;
const FIELDS = ["username", "password", "auth", "email", "serveraddress", "identitytoken", "registrytoken"] as const;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

const bad = (why: string) => new InvalidArgumentError(`invalid X-Registry-Auth header: ${why}`);

/** The header's credentials; undefined when there is none or it names none ("e30=" is `{}`). */
export function decodeRegistryAuth(header: string | string[] | undefined): RegistryAuth | undefined {
  if (Array.isArray(header)) throw bad("given more than once");
  if (header === undefined || header.trim() === "") return undefined;
  if (header.length > MAX_AUTH_HEADER) throw bad(`longer than ${MAX_AUTH_HEADER} bytes`);
  const text = header.trim();
  if (!BASE64.test(text)) throw bad("not base64url");
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(text.replace(/-/g, "+").replace(/_/g, "/"), "base64").toString("utf8"));
  } catch (err) {
    throw bad(`not JSON: ${(err as Error).message.slice(0, 120)}`);
  }
  return authFromDocument(doc, bad);
}

/**
 * Docker's AuthConfig from its JSON document (the header's, or POST /auth's body), every field's
 * type checked (`bad` words the refusal); undefined when it names no credentials.
 */
export function authFromDocument(doc: unknown, bad: (why: string) => Error): RegistryAuth | undefined {
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) throw bad("not a JSON object");
  const fields: Partial<Record<(typeof FIELDS)[number], string>> = {};
  for (const f of FIELDS) {
    const v = (doc as Record<string, unknown>)[f];
    if (v === undefined || v === null) continue;
    if (typeof v !== "string")
      throw bad(`json: cannot unmarshal ${Array.isArray(v) ? "array" : typeof v} into field ${f} of type string`);
    fields[f] = v;
  }
  let username = fields.username ?? "";
  let password = fields.password ?? "";
  if (username === "" && fields.auth) {
    const plain = Buffer.from(fields.auth, "base64").toString("utf8");
    const colon = plain.indexOf(":");
    if (colon < 0) throw bad('"auth" is not base64 of user:password');
    username = plain.slice(0, colon);
    password = plain.slice(colon + 1);
  }
  const identityToken = fields.identitytoken ?? fields.registrytoken ?? "";
  if (username === "" && password === "" && identityToken === "") return undefined;
  return { username, password, identityToken, serverAddress: fields.serveraddress ?? "" };
}
