// berth's release, the one place it is written: the CLI's --version, version and info, and
// berthd's /version read it (package.json's "version" says the same; a test checks they agree).
export const BERTH_VERSION = "0.1.0";
