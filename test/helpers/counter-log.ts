// Containers that count into a log, for the tests that kill what stands between a container and
// its output (the daemon, the shim) and check afterwards that nothing was lost or repeated.

/** Counts every 100 ms until a stop file appears in the container's /tmp, then exits with its number. */
export const COUNTER_SCRIPT =
  "i=0; while [ ! -e /tmp/stop ]; do echo $i; i=$((i+1)); sleep 0.1; done; exit $(cat /tmp/stop)";

/** The numbers a counter's log holds (`last`), and every line that is not the next number. */
export function readCounter(text: string): { last: number; gaps: string[] } {
  const lines = text.split("\n").filter(Boolean);
  const gaps: string[] = [];
  for (const [i, l] of lines.entries()) if (l !== String(i)) gaps.push(`line ${i}: ${JSON.stringify(l)}`);
  return { last: lines.length - 1, gaps };
}
