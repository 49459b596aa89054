// Columns aligned like Go's text/tabwriter with runc's settings (min width 12, padding 3).
export function tabulate(rows: string[][], minWidth = 12, padding = 3): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      if (i < row.length - 1) widths[i] = Math.max(widths[i] ?? 0, Math.max(minWidth, cell.length + padding));
    });
  }
  return rows
    .map((row) => row.map((cell, i) => (i < row.length - 1 ? cell.padEnd(widths[i]!) : cell)).join("") + "\n")
    .join("");
}
