// The edge of exec: the bodies of POST /containers/{id}/exec (ExecConfig) and POST
// /exec/{id}/start (ExecStartCheck) decoded once, as dockerd's Go decoder reads them (names
// matched case-insensitively, null as the zero value, its "json: cannot unmarshal" words), every
// string and list bounded as a create request's are.
import { InvalidArgumentError } from "../../common/errors.ts";
import { LIMITS } from "../containers/spec/decode.ts";
import { type Bounds, bool, fields, int, list, str, strSlice, typeError } from "../containers/spec/go-json.ts";

const SHORT: Bounds = { maxBytes: LIMITS.shortBytes };
const ARG: Bounds = { maxBytes: LIMITS.argBytes };
/** A terminal's rows and columns (the kernel's winsize fields are 16-bit). */
const MAX_CONSOLE = 65_535;

/** What an exec asks for, by its API names. */
export interface ExecConfig {
  User: string;
  Privileged: boolean;
  Tty: boolean;
  /** [height, width] for the terminal at start (API 1.42+). */
  ConsoleSize: [number, number] | undefined;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  DetachKeys: string;
  Env: string[];
  WorkingDir: string;
  Cmd: string[];
}

export interface ExecStartCheck {
  Detach: boolean;
  Tty: boolean;
  ConsoleSize: [number, number] | undefined;
}

function consoleSize(value: unknown, field: string): [number, number] | undefined {
  if (value === null || value === undefined) return undefined;
  if (!Array.isArray(value)) typeError(value, field, "[2]uint");
  // Go fills a [2]uint from the first two elements (missing ones stay 0, extra ones are dropped);
  // more than two is refused here: no client sends them.
  const items = list(value, field, "[2]uint", 2, (v, f) => int(v, f, "uint", [0, MAX_CONSOLE]));
  return [items[0] ?? 0, items[1] ?? 0];
}

/** POST /containers/{id}/exec's body. */
export function decodeExecConfig(body: unknown): ExecConfig {
  const f = fields(body, "ExecConfig", "types.ExecConfig");
  const at = (name: string) => `ExecConfig.${name}`;
  const cmd = strSlice(f.get("cmd"), at("Cmd"), LIMITS.args, ARG) ?? [];
  if (cmd.length === 0) throw new InvalidArgumentError("No exec command specified");
  return {
    User: str(f.get("user"), at("User"), SHORT),
    Privileged: bool(f.get("privileged"), at("Privileged")),
    Tty: bool(f.get("tty"), at("Tty")),
    ConsoleSize: consoleSize(f.get("consolesize"), at("ConsoleSize")),
    AttachStdin: bool(f.get("attachstdin"), at("AttachStdin")),
    AttachStdout: bool(f.get("attachstdout"), at("AttachStdout")),
    AttachStderr: bool(f.get("attachstderr"), at("AttachStderr")),
    DetachKeys: str(f.get("detachkeys"), at("DetachKeys"), SHORT),
    Env: list(f.get("env"), at("Env"), "[]string", LIMITS.env, (v, fl) => str(v, fl, ARG)),
    WorkingDir: str(f.get("workingdir"), at("WorkingDir"), SHORT),
    Cmd: cmd,
  };
}

/** POST /exec/{id}/start's body (an empty body is all defaults). */
export function decodeExecStart(body: unknown): ExecStartCheck {
  const f = fields(body, "ExecStartCheck", "types.ExecStartCheck");
  return {
    Detach: bool(f.get("detach"), "ExecStartCheck.Detach"),
    Tty: bool(f.get("tty"), "ExecStartCheck.Tty"),
    ConsoleSize: consoleSize(f.get("consolesize"), "ExecStartCheck.ConsoleSize"),
  };
}
