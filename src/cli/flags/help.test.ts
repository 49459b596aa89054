// renderHelp against the docker CLI 28's own --help output (captured from `docker ps --help` and
// `docker version --help`, with docker's flag texts as the fixture): the same column, the same
// wrapping at 79 columns, defaults, aliases, a help text with its own line breaks.
import assert from "node:assert/strict";
import { test } from "node:test";
import { renderFlagUsages, renderHelp } from "./help.ts";
import type { FlagDef } from "./parse.ts";

const FORMAT_PS =
  "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates";

const PS: FlagDef[] = [
  { long: "all", short: "a", kind: "bool", help: "Show all containers (default shows just running)" },
  { long: "filter", short: "f", kind: "strings", type: "filter", help: "Filter output based on conditions provided" },
  { long: "format", kind: "string", help: FORMAT_PS },
  { long: "last", short: "n", kind: "int", default: -1, help: "Show n last created containers (includes all states)" },
  { long: "latest", short: "l", kind: "bool", help: "Show the latest created container (includes all states)" },
  { long: "no-trunc", kind: "bool", help: "Don't truncate output" },
  { long: "quiet", short: "q", kind: "bool", help: "Only display container IDs" },
  { long: "size", short: "s", kind: "bool", help: "Display total file sizes" },
];

const PS_HELP = `Usage:  docker ps [OPTIONS]

List containers

Aliases:
  docker container ls, docker container list, docker container ps, docker ps

Options:
  -a, --all             Show all containers (default shows just running)
  -f, --filter filter   Filter output based on conditions provided
      --format string   Format output using a custom template:
                        'table':            Print output in table format
                        with column headers (default)
                        'table TEMPLATE':   Print output in table format
                        using the given Go template
                        'json':             Print in JSON format
                        'TEMPLATE':         Print output using the given
                        Go template.
                        Refer to https://docs.docker.com/go/formatting/
                        for more information about formatting output with
                        templates
  -n, --last int        Show n last created containers (includes all
                        states) (default -1)
  -l, --latest          Show the latest created container (includes all
                        states)
      --no-trunc        Don't truncate output
  -q, --quiet           Only display container IDs
  -s, --size            Display total file sizes
`;

test("docker ps --help, laid out as docker 28 lays it out", () => {
  const aliases = "docker container ls, docker container list, docker container ps, docker ps";
  // Given out of order: --help lists flags by name, as pflag does.
  assert.equal(renderHelp("docker ps [OPTIONS]", "List containers", [...PS].reverse(), { aliases }), PS_HELP);
});

test("a command without flags has no Options section; hidden flags are not listed", () => {
  assert.equal(
    renderHelp("docker port CONTAINER [PRIVATE_PORT[/PROTO]]", "List port mappings", [
      { long: "secret", kind: "bool", help: "x", hidden: true },
    ]),
    "Usage:  docker port CONTAINER [PRIVATE_PORT[/PROTO]]\n\nList port mappings\n",
  );
});

test("defaults: strings quoted, other types as they are, zero values not shown", () => {
  const out = renderFlagUsages(
    [
      { long: "pull", kind: "string", default: "missing", help: "Pull" },
      { long: "sig-proxy", kind: "bool", default: true, help: "Proxy" },
      { long: "interval", kind: "string", type: "duration", default: "0s", help: "Every" },
      { long: "name", kind: "string", default: "", help: "Name" },
      { long: "count", kind: "int", default: 0, help: "Count" },
    ],
    79,
  );
  assert.equal(
    out,
    [
      "      --count int           Count",
      "      --interval duration   Every (default 0s)",
      "      --name string         Name",
      '      --pull string         Pull (default "missing")',
      "      --sig-proxy           Proxy (default true)",
      "",
    ].join("\n"),
  );
});

test("a narrow terminal: the text goes on its own lines, indented 16", () => {
  const out = renderFlagUsages(
    [
      {
        long: "a-very-long-flag-name",
        kind: "string",
        help: "one two three four five six seven eight nine ten eleven twelve",
      },
    ],
    50,
  );
  // Text width 50 - 16 = 34, less pflag's slop of 5: lines of at most 29 characters.
  assert.equal(
    out,
    "      --a-very-long-flag-name string   \n                one two three four five six\n                seven eight nine ten eleven\n                twelve\n",
  );
});
