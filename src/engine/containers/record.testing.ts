// A container record as berthd keeps one, for this folder's unit tests: busybox's image, the
// create request's decoded config, the fields a test cares about given.
import { type ContainerRecord, type ContainerState, createdState } from "./record.ts";
import { decodeCreateRequest } from "./spec/decode.ts";

export interface TestRecordOptions {
  id?: string;
  name?: string;
  cmd?: string[];
  labels?: Record<string, string>;
  state?: ContainerState;
  /** Where its files are kept (LogPath, ResolvConfPath, HostnamePath, HostsPath): "" for none. */
  filesDir?: string;
}

export function testRecord(o: TestRecordOptions = {}): ContainerRecord {
  const cmd = o.cmd ?? ["sh", "-c", "exit 3"];
  const { config, hostConfig } = decodeCreateRequest({ Image: "busybox", Cmd: cmd, Labels: o.labels ?? {} });
  const file = (name: string) => (o.filesDir ? `${o.filesDir}/${name}` : "");
  return {
    ID: o.id ?? "a".repeat(64),
    Name: `/${o.name ?? "web"}`,
    Created: "2026-12-05T12:00:00.000Z",
    Path: cmd[0] ?? "",
    Args: cmd.slice(1),
    Config: config,
    HostConfig: hostConfig,
    Image: `sha256:${"e".repeat(64)}`,
    ImageName: "docker.io/library/busybox:latest",
    State: o.state ?? createdState(),
    Runtime: "berth-runc",
    RestartCount: 0,
    LogPath: file("log"),
    ResolvConfPath: file("resolv.conf"),
    HostnamePath: file("hostname"),
    HostsPath: file("hosts"),
  };
}
