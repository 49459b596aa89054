// docker stats' numbers and columns: a reading from GET /containers/{id}/stats (dockerd's
// StatsJSON) to the entry docker's CLI keeps (CPU % from the delta against precpu_stats, memory
// without the page cache, block and network bytes summed), and the entry to the row its --format
// sees (.Container .Name .ID .CPUPerc .MemUsage .MemPerc .NetIO .BlockIO .PIDs). Pure.
import type { TableSpec } from "./table.ts";
import { bytesSize, humanSize } from "./units.ts";

/** The parts of a stats document docker's CLI reads; anything may be missing or of the wrong type. */
export interface StatsDoc {
  name?: unknown;
  id?: unknown;
  cpu_stats?: unknown;
  precpu_stats?: unknown;
  memory_stats?: unknown;
  blkio_stats?: unknown;
  pids_stats?: unknown;
  networks?: unknown;
}

/** What docker keeps of a container between readings (its StatsEntry). */
export interface StatsEntry {
  /** The name or id the user gave, or the 12-digit id when listing all. */
  container: string;
  name: string;
  id: string;
  cpuPercent: number;
  memory: number;
  memoryLimit: number;
  memoryPercent: number;
  netRx: number;
  netTx: number;
  blockRead: number;
  blockWrite: number;
  pids: number;
  /** An error ended its stream: the columns show "--". */
  invalid: boolean;
}

export function emptyEntry(container: string): StatsEntry {
  return {
    container,
    name: "",
    id: "",
    cpuPercent: 0,
    memory: 0,
    memoryLimit: 0,
    memoryPercent: 0,
    netRx: 0,
    netTx: 0,
    blockRead: 0,
    blockWrite: 0,
    pids: 0,
    invalid: false,
  };
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
/** A counter: a finite non-negative number, else 0 (a hostile daemon's text or -1 counts nothing). */
function num(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : 0;
}
function text(v: unknown): string {
  return typeof v === "string" ? v : "";
}

/** docker's calculateCPUPercentUnix: the container's share of the host's CPU time, times the CPUs. */
export function cpuPercent(doc: StatsDoc): number {
  const cpu = obj(doc.cpu_stats);
  const pre = obj(doc.precpu_stats);
  const usage = obj(cpu.cpu_usage);
  const cpuDelta = num(usage.total_usage) - num(obj(pre.cpu_usage).total_usage);
  const systemDelta = num(cpu.system_cpu_usage) - num(pre.system_cpu_usage);
  let online = num(cpu.online_cpus);
  if (online === 0 && Array.isArray(usage.percpu_usage)) online = usage.percpu_usage.length;
  return systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * online * 100 : 0;
}

/** docker's calculateMemUsageUnixNoCache: usage less inactive file pages (cgroup v1's total_, or v2's). */
export function memoryUsage(doc: StatsDoc): number {
  const mem = obj(doc.memory_stats);
  const usage = num(mem.usage);
  const stats = obj(mem.stats);
  if ("total_inactive_file" in stats && num(stats.total_inactive_file) < usage)
    return usage - num(stats.total_inactive_file);
  if (num(stats.inactive_file) < usage) return usage - num(stats.inactive_file);
  return usage;
}

/** Bytes read and written: io_service_bytes_recursive's entries by the first letter of their op. */
export function blockIo(doc: StatsDoc): { read: number; write: number } {
  const list = obj(doc.blkio_stats).io_service_bytes_recursive;
  let read = 0;
  let write = 0;
  for (const e of Array.isArray(list) ? list : []) {
    const op = text(obj(e).op);
    if (op[0] === "r" || op[0] === "R") read += num(obj(e).value);
    else if (op[0] === "w" || op[0] === "W") write += num(obj(e).value);
  }
  return { read, write };
}

/** The entry docker's CLI makes of one reading. */
export function entryOf(container: string, doc: StatsDoc): StatsEntry {
  const memory = memoryUsage(doc);
  const memoryLimit = num(obj(doc.memory_stats).limit);
  let netRx = 0;
  let netTx = 0;
  for (const n of Object.values(obj(doc.networks))) {
    netRx += num(obj(n).rx_bytes);
    netTx += num(obj(n).tx_bytes);
  }
  const io = blockIo(doc);
  return {
    container,
    name: text(doc.name),
    id: text(doc.id),
    cpuPercent: cpuPercent(doc),
    memory,
    memoryLimit,
    memoryPercent: memoryLimit !== 0 ? (memory / memoryLimit) * 100 : 0,
    netRx,
    netTx,
    blockRead: io.read,
    blockWrite: io.write,
    pids: num(obj(doc.pids_stats).current),
    invalid: false,
  };
}

/** The row --format sees, its keys in the order docker's `json` prints them. */
export function statsRow(e: StatsEntry, trunc: boolean): Record<string, string> {
  const bad = e.invalid;
  const pct = (n: number) => (bad ? "--" : `${n.toFixed(2)}%`);
  const pair = (a: number, b: number) => (bad ? "--" : `${humanSize(a)} / ${humanSize(b)}`);
  return {
    BlockIO: pair(e.blockRead, e.blockWrite),
    CPUPerc: pct(e.cpuPercent),
    Container: e.container,
    ID: trunc ? e.id.slice(0, 12) : e.id,
    MemPerc: pct(e.memoryPercent),
    MemUsage: bad ? "-- / --" : `${bytesSize(e.memory)} / ${bytesSize(e.memoryLimit)}`,
    Name: e.name.length > 1 ? e.name.slice(1) : "--",
    NetIO: pair(e.netRx, e.netTx),
    PIDs: bad ? "--" : String(e.pids),
  };
}

/** docker stats' default table and the headers of its other fields. */
export const STATS_TABLE: TableSpec = {
  columns: [
    { header: "CONTAINER ID", field: "{{.ID}}" },
    { header: "NAME", field: "{{.Name}}" },
    { header: "CPU %", field: "{{.CPUPerc}}" },
    { header: "MEM USAGE / LIMIT", field: "{{.MemUsage}}" },
    { header: "MEM %", field: "{{.MemPerc}}" },
    { header: "NET I/O", field: "{{.NetIO}}" },
    { header: "BLOCK I/O", field: "{{.BlockIO}}" },
    { header: "PIDS", field: "{{.PIDs}}" },
  ],
  extraHeaders: { Container: "CONTAINER" },
};
