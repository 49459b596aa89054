// --gpus: one device request per flag, read as the docker CLI reads it — comma-separated fields
// (double quotes keep commas inside one: '"device=0,1"'), a bare field is the count ("all" or an
// integer), else driver=, count=, device=, capabilities= ("gpu" appended), options=k=v,... .
type Read<T> = { value: T } | { problem: string };

export interface DeviceRequest {
  Driver: string;
  Count: number;
  DeviceIDs: string[] | null;
  Capabilities: string[][];
  Options: Record<string, string>;
}

/** One CSV record: fields split at commas, a field in double quotes may hold commas and "" for ". */
function csvFields(line: string): Read<string[]> {
  if (line === "") return { problem: "EOF" };
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = "";
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length)
          return { problem: `parse error on line 1, column ${i + 1}: extraneous or missing " in quoted-field` };
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += line[i++];
      }
      if (i < line.length && line[i] !== ",") {
        return { problem: `parse error on line 1, column ${i}: extraneous or missing " in quoted-field` };
      }
    } else {
      const end = line.indexOf(",", i);
      field = line.slice(i, end < 0 ? line.length : end);
      if (field.includes('"'))
        return { problem: `parse error on line 1, column ${i + field.indexOf('"') + 1}: bare " in non-quoted-field` };
      i = end < 0 ? line.length : end;
    }
    out.push(field);
    if (i >= line.length) return { value: out };
    i++; // the comma
  }
}

function count(s: string): Read<number> {
  if (s === "all") return { value: -1 };
  if (!/^[+-]?\d+$/.test(s) || !Number.isSafeInteger(Number(s))) {
    return { problem: `invalid count (${s}): value must be either "all" or an integer: invalid syntax` };
  }
  return { value: Number(s) };
}

export function parseGpuRequest(v: string): Read<DeviceRequest> {
  const fields = csvFields(v);
  if ("problem" in fields) return fields;
  const req: DeviceRequest = { Driver: "", Count: 0, DeviceIDs: null, Capabilities: [["gpu"]], Options: {} };
  const seen = new Set<string>();
  for (const field of fields.value) {
    const eq = field.indexOf("=");
    const key = eq < 0 ? field : field.slice(0, eq);
    const val = eq < 0 ? "" : field.slice(eq + 1);
    if (seen.has(key)) return { problem: `gpu request key '${key}' can be specified only once` };
    seen.add(key);
    if (eq < 0) {
      seen.add("count");
      const c = count(key);
      if ("problem" in c) return c;
      req.Count = c.value;
      continue;
    }
    switch (key) {
      case "driver":
        req.Driver = val;
        break;
      case "count": {
        const c = count(val);
        if ("problem" in c) return c;
        req.Count = c.value;
        break;
      }
      case "device":
        req.DeviceIDs = val.split(",");
        break;
      case "capabilities":
        req.Capabilities = [[...val.split(","), "gpu"]];
        break;
      case "options": {
        const opts = csvFields(val);
        if ("problem" in opts) return opts;
        for (const o of opts.value) {
          const oe = o.indexOf("=");
          req.Options[oe < 0 ? o : o.slice(0, oe)] = oe < 0 ? "" : o.slice(oe + 1);
        }
        break;
      }
      default:
        return { problem: `unexpected key '${key}' in '${field}'` };
    }
  }
  if (!seen.has("count") && req.DeviceIDs === null) req.Count = 1;
  return { value: req };
}

export function checkGpus(v: string): string | undefined {
  const r = parseGpuRequest(v);
  return "problem" in r ? r.problem : undefined;
}
