// docker's human units (github.com/docker/go-units' HumanSize and HumanDuration, as the CLI
// calls them) and Go's time.Time String(), for the ps and images columns.

const DECIMAL = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];

/** Go's %.<precision>g: that many significant digits, trailing zeros dropped. */
function significant(x: number, precision: number): string {
  const s = x.toPrecision(precision);
  if (s.includes("e")) {
    const [m, e] = s.split("e") as [string, string];
    const mant = m.includes(".") ? m.replace(/0+$/, "").replace(/\.$/, "") : m;
    const n = Number(e);
    return `${mant}e${n < 0 ? "-" : "+"}${String(Math.abs(n)).padStart(2, "0")}`;
  }
  return s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s;
}

/**
 * units.HumanSizeWithPrecision: decimal units (1000), `precision` significant digits: 4096 ->
 * "4.1kB", 2073000 -> "2.07MB" (ps and images use 3; images' VirtualSize uses HumanSize's 4).
 */
export function humanSize(bytes: number, precision = 3): string {
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < DECIMAL.length - 1) {
    size /= 1000;
    i++;
  }
  return `${significant(size, precision)}${DECIMAL[i]}`;
}

const BINARY = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];

/** units.BytesSize: binary units (1024), 4 significant digits: 221184 -> "216KiB" (docker stats). */
export function bytesSize(bytes: number): string {
  let size = bytes;
  let i = 0;
  while (size >= 1024 && i < BINARY.length - 1) {
    size /= 1024;
    i++;
  }
  return `${significant(size, 4)}${BINARY[i]}`;
}

/** units.HumanDuration: "Less than a second", "About a minute", "3 hours", "2 weeks", ... */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return "Less than a second";
  if (seconds === 1) return "1 second";
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / 3_600_000 + 0.5);
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(ms / 3_600_000 / 24 / 365)} years`;
}

/** "<duration> ago" from a Unix time in seconds (ps' RunningFor, images' CreatedSince). */
export function humanSince(unixSeconds: number, nowMs: number): string {
  return `${humanDuration(nowMs - unixSeconds * 1000)} ago`;
}

const pad2 = (n: number) => String(n).padStart(2, "0");

/**
 * The zone's abbreviation as some English locale names it (CET, EST, IST), else "+hh[mm]" (Go
 * reads tzdata's, which has JST where ICU's English locales only have GMT+9).
 */
function zoneName(d: Date, timeZone: string | undefined, offset: string): string {
  for (const locale of ["en-US", "en-GB", "en-IN", "en-AU"]) {
    const name = new Intl.DateTimeFormat(locale, { timeZone, timeZoneName: "short" })
      .formatToParts(d)
      .find((p) => p.type === "timeZoneName")?.value;
    if (name === "UTC" || (name === "GMT" && offset === "+0000")) return name;
    if (name && !/^GMT[+-]/.test(name)) return name;
  }
  return offset.endsWith("00") ? offset.slice(0, 3) : offset;
}

/**
 * Go's time.Unix(s, 0).String() in the local zone: "2026-12-05 18:44:17 +0000 UTC". The zone's
 * abbreviation is what Intl knows (UTC, CET, ...), or the offset Go would print for an unnamed zone.
 */
export function goTimeString(unixSeconds: number, timeZone?: string): string {
  const d = new Date(unixSeconds * 1000);
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    timeZoneName: "longOffset",
  }).formatToParts(d);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "";
  const offsetText = get("timeZoneName"); // "GMT", "GMT+01:00"
  const m = /GMT([+-])(\d\d):(\d\d)/.exec(offsetText);
  const offset = m ? `${m[1]}${m[2]}${m[3]}` : "+0000";
  const zone = zoneName(d, timeZone, offset);
  const year = get("year").padStart(4, "0");
  return `${year}-${get("month")}-${get("day")} ${pad2(Number(get("hour")))}:${get("minute")}:${get("second")} ${offset} ${zone}`;
}
