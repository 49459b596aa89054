// The memory a set of processes would hold if nothing else ran beside them ("alone"), from their
// /proc/PID/smaps. Pss splits each shared page among every process mapping it, machine-wide, so a
// side's Pss falls when unrelated processes map the same files (other node processes share the
// node binary's pages with berth's daemons; a second dockerd halves dockerd's) and rises when they
// exit. "Alone" counts what only depends on the side itself:
// - anonymous pages (the mapping's Anonymous: heap, stacks, written private file pages) of every
//   process, summed: each process has its own (the sides' processes are exec'd, not forked, so no
//   copy-on-write sharing among them);
// - the other resident pages of a mapping (file pages, shared memory: Rss − Anonymous) once per
//   mapped object (device + inode; a pseudo-mapping such as [vdso] by its name): the largest such
//   total among the side's processes. Processes running one binary touch nearly the same pages of
//   it, so the largest is close to their union (a lower bound of it; the sum is the upper bound).

/** One mapping of /proc/PID/smaps: what it maps and its kB counts. */
export interface Mapping {
  /** Device and inode ("fe:00 5308934"), or the pseudo-name ("[vdso]") when the inode is 0. */
  object: string;
  path: string;
  rssKb: number;
  pssKb: number;
  anonymousKb: number;
  privateKb: number;
}

const HEADER = /^[0-9a-f]+-[0-9a-f]+ \S+ [0-9a-f]+ ([0-9a-f]+:[0-9a-f]+) (\d+)\s*(.*)$/;
const FIELD = /^(\w+):\s+(\d+) kB$/;
/** Bounds on what is parsed: smaps of a real process has a few thousand mappings at most. */
const MAX_MAPPINGS = 1_000_000;

/** The mappings of one smaps text, in order; lines it does not know are skipped. */
export function parseSmaps(text: string): Mapping[] {
  const maps: Mapping[] = [];
  let m: Mapping | undefined;
  let fields: Record<string, number> = {};
  const finish = () => {
    if (m === undefined) return;
    m.rssKb = fields.Rss ?? 0;
    m.pssKb = fields.Pss ?? 0;
    m.anonymousKb = Math.min(fields.Anonymous ?? 0, m.rssKb);
    m.privateKb = (fields.Private_Clean ?? 0) + (fields.Private_Dirty ?? 0);
    maps.push(m);
  };
  for (const line of text.split("\n")) {
    const field = FIELD.exec(line);
    if (field) {
      fields[field[1]!] = Number(field[2]);
      continue;
    }
    const h = HEADER.exec(line);
    if (!h) continue;
    finish();
    if (maps.length >= MAX_MAPPINGS) return maps;
    const path = h[3]!.trim();
    const object = h[2] === "0" ? path || "[anonymous]" : `${h[1]} ${h[2]}`;
    m = { object, path, rssKb: 0, pssKb: 0, anonymousKb: 0, privateKb: 0 };
    fields = {};
  }
  finish();
  return maps;
}

/** What a set of processes holds, in kB. */
export interface Footprint {
  /** The memory the set would hold alone (see above): anonymousKb + objectsKb. */
  aloneKb: number;
  /** Anonymous pages, every process's summed. */
  anonymousKb: number;
  /** File and shared-memory pages, once per mapped object (the largest among the processes). */
  objectsKb: number;
  rssKb: number;
  pssKb: number;
  /** Private_Clean + Private_Dirty (pages no other process maps, here or elsewhere). */
  privateKb: number;
}

/** The footprint of processes given by their mappings (one list per process). */
export function footprint(processes: readonly (readonly Mapping[])[]): Footprint {
  const f: Footprint = { aloneKb: 0, anonymousKb: 0, objectsKb: 0, rssKb: 0, pssKb: 0, privateKb: 0 };
  /** Per mapped object, the largest resident non-anonymous total one process has of it. */
  const largest = new Map<string, number>();
  for (const maps of processes) {
    const mine = new Map<string, number>();
    for (const m of maps) {
      f.rssKb += m.rssKb;
      f.pssKb += m.pssKb;
      f.privateKb += m.privateKb;
      f.anonymousKb += m.anonymousKb;
      const rest = m.rssKb - m.anonymousKb;
      if (rest > 0) mine.set(m.object, (mine.get(m.object) ?? 0) + rest);
    }
    for (const [object, kb] of mine) largest.set(object, Math.max(largest.get(object) ?? 0, kb));
  }
  for (const kb of largest.values()) f.objectsKb += kb;
  f.aloneKb = f.anonymousKb + f.objectsKb;
  return f;
}
