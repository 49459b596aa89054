/*
 * What nsexec's files share: the state one op leaves for a later one, and each file's entry points.
 * The plan's format and its readers are in plan.h.
 */
#ifndef NSEXEC_H
#define NSEXEC_H
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "plan.h"

/* sync.c: the sync socket to the runtime and the step being carried out (named in errors). */
extern int sync_fd;
extern const char *current_step;
extern int err_write_fd;
extern int errors_to_stderr;
void send_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void __attribute__((noreturn, format(printf, 1, 2))) fail(const char *fmt, ...);
char *read_sync_line(size_t max);

/* main.c: fds one op makes and a later op (or the other half of the clone) uses; -1 when unset. */
extern int console_fd;         /* where the pty master goes (console socket, or console_recv_fd's pair) */
extern int console_recv_fd;    /* parent half's end of a console socketpair: it receives the pty master */
extern int stdio_pipes[3][2];  /* the child's stdio pipes ([0] read end, [1] write end) */
extern int seccomp_agent_fd;   /* the seccomp agent's socket, connected before any namespace is joined */
extern int seccomp_pair[2];    /* the child hands its notify fd back over it: [0] parent half, [1] child */
extern int fifo_fd;            /* the exec fifo (O_PATH), reopened for writing by the init */

/* reexec.c */
void reexec_from_sealed_copy(char **argv);

/* resolve.c: paths inside a root (openat2 RESOLVE_IN_ROOT) and below /proc. */
int clean_path(const char *path, char *out, size_t size);
int open_in_root(const char *root, const char *path, int flags);
int mkdir_in_root(const char *root, const char *path, mode_t mode);
int split_parent(const char *path, char parent[PATH_MAX], char name[NAME_MAX + 1]);
int touch_in_root(const char *root, const char *path);
void fdpath(int fd, char out[64]);
int open_proc_for_write(const char *path);

/* sock.c */
int send_with_fd(int sock, int fd, const char *data, size_t len);
int connect_unix(const char *path);
int recv_fd(int sock);

/* mounts.c: the root filesystem. */
void op_mount(struct op *o);
void op_set_propagation(struct op *o);
void op_remount(struct op *o);
void op_mask_path(struct op *o);
void op_mknod(struct op *o);
void op_symlink(struct op *o);
void op_pivot_root(const char *root);
void op_move_root(const char *root);
void op_chroot(const char *root);

/* ops.c: the process and its surroundings. */
void op_write_proc(struct op *o);
void op_loopback_up(void);
void op_wait_fifo(void);
void op_drop_bounding(struct op *o);
void op_capset(struct op *o);
void op_ambient(struct op *o);
void op_seccomp(struct op *o);
void op_bpf_device_filter(struct op *o);
void op_lookup(struct op *o);
void op_exec(struct op *o);

/* hooks.c */
void op_sync(struct op *o);
void op_run_hook(struct op *o);

/* console.c: the terminal and the foreground relays. */
void op_console_setup(struct op *o);
int relay_terminal(pid_t child, int master);
int relay_pipes(pid_t child);

/* clone.c */
void op_clone(struct op *ops, uint32_t i, uint32_t count);

#endif
