// What berth-containerd reports as its version. containerd clients compare the major version (ctr
// warns about mismatches), so the version says which containerd API level berth speaks.
export const BERTH_VERSION = {
  version: "1.6.0-berth",
  revision: "berth-0.1.0",
} as const;
