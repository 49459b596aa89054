// A mount as containerd passes it between services: what a snapshotter returns and what the diff
// service and the runtime consume. `options` are mount(8) options (e.g. "lowerdir=...", "ro").
export interface Mount {
  type: string;
  source: string;
  target?: string;
  options: string[];
}
