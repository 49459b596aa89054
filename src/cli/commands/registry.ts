// The command tree: each command's file, loaded only when it runs (a dynamic import: `berth ps`
// evaluates nothing of `logs`), and the management spellings that reach the same command.
import type { Command } from "./command.ts";

type Loader = () => Promise<{ default: Command }>;

/** Top-level commands, by the name docker gives them. */
export const COMMANDS: Record<string, { load: Loader; summary: string }> = {
  attach: {
    load: () => import("./attach.ts"),
    summary: "Attach local standard input, output, and error streams to a running container",
  },
  commit: { load: () => import("./commit.ts"), summary: "Create a new image from a container's changes" },
  cp: {
    load: () => import("./cp.ts"),
    summary: "Copy files/folders between a container and the local filesystem",
  },
  create: { load: () => import("./create.ts"), summary: "Create a new container" },
  diff: {
    load: () => import("./diff.ts"),
    summary: "Inspect changes to files or directories on a container's filesystem",
  },
  events: { load: () => import("./events.ts"), summary: "Get real time events from the server" },
  exec: { load: () => import("./exec.ts"), summary: "Execute a command in a running container" },
  export: { load: () => import("./export.ts"), summary: "Export a container's filesystem as a tar archive" },
  history: { load: () => import("./history.ts"), summary: "Show the history of an image" },
  images: { load: () => import("./images.ts"), summary: "List images" },
  import: {
    load: () => import("./import.ts"),
    summary: "Import the contents from a tarball to create a filesystem image",
  },
  info: { load: () => import("./info.ts"), summary: "Display system-wide information" },
  inspect: { load: () => import("./inspect.ts"), summary: "Return low-level information on Docker objects" },
  kill: { load: () => import("./kill.ts"), summary: "Kill one or more running containers" },
  load: { load: () => import("./load.ts"), summary: "Load an image from a tar archive or STDIN" },
  login: { load: () => import("./login.ts"), summary: "Authenticate to a registry" },
  logout: { load: () => import("./logout.ts"), summary: "Log out from a registry" },
  logs: { load: () => import("./logs.ts"), summary: "Fetch the logs of a container" },
  pause: { load: () => import("./pause.ts"), summary: "Pause all processes within one or more containers" },
  port: { load: () => import("./port.ts"), summary: "List port mappings or a specific mapping for the container" },
  ps: { load: () => import("./ps.ts"), summary: "List containers" },
  pull: { load: () => import("./pull.ts"), summary: "Download an image from a registry" },
  push: { load: () => import("./push.ts"), summary: "Upload an image to a registry" },
  rename: { load: () => import("./rename.ts"), summary: "Rename a container" },
  restart: { load: () => import("./restart.ts"), summary: "Restart one or more containers" },
  rm: { load: () => import("./rm.ts"), summary: "Remove one or more containers" },
  rmi: { load: () => import("./rmi.ts"), summary: "Remove one or more images" },
  run: { load: () => import("./run.ts"), summary: "Create and run a new container from an image" },
  save: {
    load: () => import("./save.ts"),
    summary: "Save one or more images to a tar archive (streamed to STDOUT by default)",
  },
  start: { load: () => import("./start-attach.ts"), summary: "Start one or more stopped containers" },
  stats: {
    load: () => import("./stats.ts"),
    summary: "Display a live stream of container(s) resource usage statistics",
  },
  stop: { load: () => import("./stop.ts"), summary: "Stop one or more running containers" },
  tag: { load: () => import("./tag.ts"), summary: "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE" },
  top: { load: () => import("./top.ts"), summary: "Display the running processes of a container" },
  unpause: { load: () => import("./unpause.ts"), summary: "Unpause all processes within one or more containers" },
  update: { load: () => import("./update.ts"), summary: "Update configuration of one or more containers" },
  version: { load: () => import("./version.ts"), summary: "Show the Docker version information" },
  wait: {
    load: () => import("./wait.ts"),
    summary: "Block until one or more containers stop, then print their exit codes",
  },
};

/** Management commands: "container ls" is "ps", "image rm" is "rmi", ... */
export const MANAGEMENT: Record<string, { summary: string; sub: Record<string, string | Loader> }> = {
  container: {
    summary: "Manage containers",
    sub: {
      attach: "attach",
      commit: "commit",
      cp: "cp",
      create: "create",
      diff: "diff",
      exec: "exec",
      export: "export",
      inspect: () => import("./inspect-container.ts"),
      kill: "kill",
      logs: "logs",
      ls: "ps",
      list: "ps",
      ps: "ps",
      pause: "pause",
      port: "port",
      prune: () => import("./container-prune.ts"),
      rename: "rename",
      restart: "restart",
      rm: "rm",
      remove: "rm",
      run: "run",
      start: "start",
      stats: "stats",
      stop: "stop",
      top: "top",
      unpause: "unpause",
      update: "update",
      wait: "wait",
    },
  },
  image: {
    summary: "Manage images",
    sub: {
      history: "history",
      import: "import",
      inspect: () => import("./inspect-image.ts"),
      load: "load",
      ls: "images",
      list: "images",
      prune: () => import("./image-prune.ts"),
      pull: "pull",
      push: "push",
      rm: "rmi",
      remove: "rmi",
      save: "save",
      tag: "tag",
    },
  },
  system: {
    summary: "Manage Docker",
    sub: {
      df: () => import("./system-df.ts"),
      events: "events",
      info: "info",
      prune: () => import("./system-prune.ts"),
    },
  },
  network: { summary: "Manage networks", sub: { prune: () => import("./network-prune.ts") } },
  volume: { summary: "Manage volumes", sub: { prune: () => import("./volume-prune.ts") } },
};

/** The command `words` name and how many words that took (1 or 2), or undefined. */
export function lookup(words: readonly string[]): { load: Loader; used: number; name: string } | undefined {
  const [first, second] = words;
  if (first === undefined) return undefined;
  const top = COMMANDS[first];
  if (top) return { load: top.load, used: 1, name: first };
  const group = MANAGEMENT[first];
  if (!group || second === undefined) return undefined;
  const target = Object.hasOwn(group.sub, second) ? group.sub[second] : undefined;
  if (target === undefined) return undefined;
  const load = typeof target === "string" ? (COMMANDS[target] as { load: Loader }).load : target;
  return { load, used: 2, name: `${first} ${second}` };
}
