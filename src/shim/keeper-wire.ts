// The keeper's wire format (native/berth-keeper/README.md): a frame is a 4-byte big-endian length
// N (1..65536) and N bytes of NUL-separated fields, the verb first. This module encodes requests
// and decodes what a keeper sends (replies, events, LIST's records) into checked values. The
// keeper is a process the shim trusts less than itself: every length, count, name and number is
// checked here, and anything off is a KeeperProtocolError, after which keeper.ts drops the
// connection (a stream with a bad frame cannot be resynchronised). Pure: keeper.ts does the I/O.
import { BerthError, InvalidArgumentError } from "../common/errors.ts";

/** The largest frame either side sends (the contract's limit). */
export const MAX_FRAME = 65536;
/** Fds that may travel with one request. */
export const MAX_FDS = 16;
/** Names a keeper knows at a time: LIST never answers more. */
export const MAX_NAMES = 1024;
/** SPAWN's argv and env counts. */
export const MAX_ARGS = 256;
export const MAX_ENV = 256;

/** Process and file names: 1–128 of [A-Za-z0-9_.-], not starting with '.'. */
const NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;
/** Linux pids stay below 2^22 (PID_MAX_LIMIT). */
const PID_MAX = 1 << 22;

/** The keeper sent something the contract does not allow; the connection is unusable. */
export class KeeperProtocolError extends BerthError {
  constructor(message: string) {
    super("internal", `keeper protocol: ${message}`);
  }
}

/** A request the keeper refused (`ERR <message>`). */
export class KeeperRefusedError extends BerthError {
  constructor(verb: string, message: string) {
    super("internal", `keeper refused ${verb}: ${message}`);
  }
}

/** `name` if the keeper accepts it as a process or file name; InvalidArgumentError otherwise. */
export function keeperName(name: string, what = "name"): string {
  if (!NAME.test(name)) throw new InvalidArgumentError(`keeper ${what} ${JSON.stringify(name)}: not a valid name`);
  return name;
}

/** One request frame: length, then the fields NUL-separated. */
export function encodeFrame(fields: readonly string[]): Buffer {
  for (const f of fields) {
    if (f.includes("\0")) throw new InvalidArgumentError("a keeper request field holds a NUL byte");
  }
  const body = Buffer.from(fields.join("\0"));
  if (body.length === 0 || body.length > MAX_FRAME) {
    throw new InvalidArgumentError(`a keeper request of ${body.length} bytes (1 to ${MAX_FRAME} fit in a frame)`);
  }
  const frame = Buffer.allocUnsafe(4 + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, 4);
  return frame;
}

/** Cuts a byte stream into frames; a length out of bounds throws (and the stream is done). */
export class FrameReader {
  #buf: Buffer = Buffer.alloc(0);

  /** Appends `chunk`; returns the frames now complete, each as its fields. */
  push(chunk: Buffer): string[][] {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const frames: string[][] = [];
    while (this.#buf.length >= 4) {
      const n = this.#buf.readUInt32BE(0);
      if (n === 0 || n > MAX_FRAME) throw new KeeperProtocolError(`a frame of ${n} bytes`);
      if (this.#buf.length < 4 + n) break;
      frames.push(
        this.#buf
          .subarray(4, 4 + n)
          .toString("utf8")
          .split("\0"),
      );
      this.#buf = this.#buf.subarray(4 + n);
    }
    // What is kept is at most one frame and its header: bounded by MAX_FRAME.
    if (this.#buf.length > 0 && this.#buf.byteOffset > 0) this.#buf = Buffer.from(this.#buf);
    return frames;
  }

  /** Bytes of a frame begun and not finished. */
  get pending(): number {
    return this.#buf.length;
  }
}

/** `RAN`: the process SPAWN started exited; mainPid is what its pid file named (0: none, the name failed). */
export interface RanEvent {
  name: string;
  spawnedPid: number;
  status: number;
  mainPid: number;
}

/** `EXIT`: a watched process exited (status: its code, or 128 + the signal). */
export interface ExitEvent {
  name: string;
  pid: number;
  status: number;
  exitedAt: Date;
}

export type ProcState = "spawning" | "running" | "exited" | "failed";

/** One of LIST's `PROC` records. */
export interface ProcRecord {
  name: string;
  pid: number;
  state: ProcState;
  status: number;
  /** Set when the state is `exited`. */
  exitedAt: Date | undefined;
}

export type KeeperMessage =
  | { kind: "ok"; fields: string[] }
  | { kind: "err"; message: string }
  | { kind: "ran"; event: RanEvent }
  | { kind: "exit"; event: ExitEvent }
  | { kind: "proc"; record: ProcRecord };

/** A decimal field within [min, max]. */
function num(field: string | undefined, what: string, min: number, max: number): number {
  if (field === undefined || !/^\d{1,16}$/.test(field)) throw new KeeperProtocolError(`${what}: not a number`);
  const n = Number(field);
  if (n < min || n > max) throw new KeeperProtocolError(`${what} ${n} out of range`);
  return n;
}

function name(field: string | undefined): string {
  if (field === undefined || !NAME.test(field)) throw new KeeperProtocolError("a bad process name");
  return field;
}

function arity(fields: string[], n: number): void {
  if (fields.length !== n) throw new KeeperProtocolError(`${fields[0]} with ${fields.length - 1} fields`);
}

const pid = (f: string | undefined, what: string, min = 1) => num(f, what, min, PID_MAX);
/** A wait status as the keeper reports it: a code, or 128 + a signal. */
const status = (f: string | undefined) => num(f, "status", 0, 255);

function time(sec: string | undefined, nsec: string | undefined): Date {
  const s = num(sec, "seconds", 0, 2 ** 40);
  const ns = num(nsec, "nanoseconds", 0, 999_999_999);
  return new Date(s * 1000 + Math.floor(ns / 1e6));
}

const STATES: readonly ProcState[] = ["spawning", "running", "exited", "failed"];

/** What one frame from a keeper says; KeeperProtocolError for anything the contract does not allow. */
export function parseMessage(fields: string[]): KeeperMessage {
  switch (fields[0]) {
    case "OK":
      return { kind: "ok", fields: fields.slice(1) };
    case "ERR":
      return { kind: "err", message: fields.slice(1).join(" ") };
    case "RAN":
      arity(fields, 5);
      return {
        kind: "ran",
        event: {
          name: name(fields[1]),
          spawnedPid: pid(fields[2], "spawned pid"),
          status: status(fields[3]),
          mainPid: pid(fields[4], "main pid", 0),
        },
      };
    case "EXIT":
      arity(fields, 6);
      return {
        kind: "exit",
        event: {
          name: name(fields[1]),
          pid: pid(fields[2], "pid"),
          status: status(fields[3]),
          exitedAt: time(fields[4], fields[5]),
        },
      };
    case "PROC": {
      arity(fields, 7);
      const state = fields[3] as ProcState;
      if (!STATES.includes(state)) throw new KeeperProtocolError(`process state ${JSON.stringify(fields[3])}`);
      return {
        kind: "proc",
        record: {
          name: name(fields[1]),
          pid: pid(fields[2], "pid", 0),
          state,
          status: status(fields[4]),
          exitedAt: state === "exited" ? time(fields[5], fields[6]) : undefined,
        },
      };
    }
    default:
      throw new KeeperProtocolError(`unknown verb ${JSON.stringify(fields[0]?.slice(0, 32))}`);
  }
}

/** HELLO's reply fields: the protocol (1) and the keeper's pid. */
export function parseHello(fields: string[]): number {
  if (fields.length !== 2 || fields[0] !== "1") throw new KeeperProtocolError("HELLO answered with another protocol");
  return pid(fields[1], "keeper pid");
}

/** SPAWN's reply: the pid of the process it forked. */
export function parseSpawned(fields: string[]): number {
  if (fields.length !== 1) throw new KeeperProtocolError("SPAWN answered with more than a pid");
  return pid(fields[0], "spawned pid");
}

/** LIST's reply: how many PROC frames follow. */
export function parseListCount(fields: string[]): number {
  if (fields.length !== 1) throw new KeeperProtocolError("LIST answered without a count");
  return num(fields[0], "LIST count", 0, MAX_NAMES);
}
