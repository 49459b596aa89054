// Names the kernel defines that several layers check input against: the CLI refuses a bad flag
// before sending it, berthd a bad API body, berth-runc a bad config.json. One list, so they agree.

/** The resource limits a container may set (setrlimit's RLIMIT_<NAME>, lower case, as docker spells them). */
export const RLIMIT_NAMES: ReadonlySet<string> = new Set([
  "core",
  "cpu",
  "data",
  "fsize",
  "locks",
  "memlock",
  "msgqueue",
  "nice",
  "nofile",
  "nproc",
  "rss",
  "rtprio",
  "rttime",
  "sigpending",
  "stack",
]);

/** The IPC-namespaced sysctls outside fs.mqueue.* (a container with its own IPC namespace may set them). */
export const IPC_NAMESPACED_SYSCTLS: ReadonlySet<string> = new Set([
  "kernel.msgmax",
  "kernel.msgmnb",
  "kernel.msgmni",
  "kernel.sem",
  "kernel.shmall",
  "kernel.shmmax",
  "kernel.shmmni",
  "kernel.shm_rmid_forced",
]);
