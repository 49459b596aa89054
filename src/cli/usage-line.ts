// The usage line of a command's --help, naming the command as it was called: "container ls
// [OPTIONS]" for ps's "ps [OPTIONS]", as docker's does. A usage that already begins with the
// called name (the two-word "system prune [OPTIONS]") is kept whole: swapping its first word
// for the called name repeated the last word ("system prune prune").

/** `usage` (the command's own, e.g. "ps [OPTIONS]") as called by `calledAs` ("container ls"). */
export function usageLine(calledAs: string, usage: string): string {
  if (usage === calledAs || usage.startsWith(`${calledAs} `)) return usage;
  const own = usage.split(" ", 1)[0] as string;
  return `${calledAs}${usage.slice(own.length)}`;
}
