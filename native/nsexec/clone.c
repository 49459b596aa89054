/*
 * The clone: the child goes on with the plan (the container's init or exec'd process); the parent
 * half writes the child's id maps, reports its pid, forwards a seccomp notify fd to the agent, and
 * either exits once the child is at the exec fifo or in execve, or stays to relay its stdio and
 * exit with its status.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nsexec.h"

enum { CLONE_MODE_CREATE = 0, CLONE_MODE_WAIT = 1, CLONE_MODE_EXEC_DETACH = 2 };

/*
 * The child hands its seccomp notify fd back; it goes on to the agent over the connection made
 * before any namespace was joined, with the container process state the runtime supplies
 * ("SECCOMP" -> "OK <json>"). The child waits for the 'k' that says it was sent.
 */
static void forward_seccomp_fd(pid_t child) {
  int fd = recv_fd(seccomp_pair[0]);
  if (fd < 0) { close(seccomp_pair[0]); seccomp_pair[0] = -1; return; } /* ended before loading it */
  current_step = "seccomp agent";
  send_line("SECCOMP");
  char *answer = read_sync_line(16 << 20);
  if (!answer || strncmp(answer, "OK ", 3) != 0) {
    kill(child, SIGKILL);
    errno = 0;
    fail("%s", answer ? answer : "runtime went away");
  }
  if (send_with_fd(seccomp_agent_fd, fd, answer + 3, strlen(answer + 3)) < 0) { kill(child, SIGKILL); fail("send to the seccomp agent"); }
  free(answer);
  close(fd);
  close(seccomp_agent_fd);
  seccomp_agent_fd = -1;
  if (write(seccomp_pair[0], "k", 1) != 1) { kill(child, SIGKILL); fail("release child after seccomp"); }
  close(seccomp_pair[0]);
  seccomp_pair[0] = -1;
}

/* Waits for the child's next word on err_fd: returns 1 with the byte in *c, or 0 at EOF,
 * forwarding its seccomp notify fd meanwhile. */
static ssize_t wait_setup(pid_t child, int err_fd, char *c) {
  for (;;) {
    struct pollfd p[2] = {{.fd = err_fd, .events = POLLIN}, {.fd = seccomp_pair[0], .events = POLLIN}};
    if (poll(p, 2, -1) < 0) { if (errno == EINTR) continue; fail("poll"); }
    if (seccomp_pair[0] >= 0 && p[1].revents) { forward_seccomp_fd(child); continue; }
    if (!p[0].revents) continue;
    ssize_t n = read(err_fd, c, 1);
    if (n < 0 && errno == EINTR) continue;
    return n;
  }
}

static int run_parent(pid_t child, struct op *ops, uint32_t from, uint32_t to, int mode, int go_fd, int err_fd) {
  /* id maps for a new user namespace are written by the parent, then the child may go on. */
  for (uint32_t i = from; i < to; i++) {
    if (ops[i].code != OP_IDMAP) continue;
    char p[64];
    int w = snprintf(p, sizeof(p), "/proc/%d/%s", child, S(&ops[i], 0));
    if (w < 0 || (size_t)w >= sizeof(p)) { kill(child, SIGKILL); errno = ENAMETOOLONG; fail("id map file %s", S(&ops[i], 0)); }
    /* Through a procfs nothing is mounted into (a mount namespace joined by path has its own /proc). */
    int fd = open_proc_for_write(p);
    const char *data = S(&ops[i], 1);
    if (fd < 0 || write(fd, data, strlen(data)) != (ssize_t)strlen(data)) { kill(child, SIGKILL); fail("write %s", p); }
    close(fd);
  }
  send_line("PID %d", child);
  if (write(go_fd, "g", 1) != 1) fail("release child");
  close(go_fd);
  /* The child says how far it got on err_fd (close-on-exec in it): 'r' it blocks on the exec fifo
   * (and closes the pipe), 'x' it calls execve, 'e' it failed (its ERR line is out). EOF with no
   * word at all means it died first, of a signal: that is a failure to report, not a start. */
  char said = 0, c;
  while (wait_setup(child, err_fd, &c) == 1) {
    said = c;
    if (c == 'e' || (c == 'r' && mode == CLONE_MODE_CREATE)) break;
  }
  close(err_fd);
  if (said == 'e') { int st; waitpid(child, &st, 0); return 1; }
  if (!said) {
    int st = 0;
    while (waitpid(child, &st, 0) < 0 && errno == EINTR) {}
    current_step = "container init";
    errno = 0;
    if (WIFSIGNALED(st)) fail("killed by signal %d (%s) during setup", WTERMSIG(st), strsignal(WTERMSIG(st)));
    fail("exited with status %d during setup", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  }
  if (mode == CLONE_MODE_EXEC_DETACH) send_line("EXEC");
  if (mode != CLONE_MODE_WAIT) return 0;
  if (mode == CLONE_MODE_WAIT) send_line("EXEC");
  /* Stay the parent and report the exit as a shell would. */
  int status;
  if (console_recv_fd >= 0) {
    /* The master arrives once the child has set up its terminal; no master means it failed. */
    fcntl(console_recv_fd, F_SETFL, 0);
    int master = recv_fd(console_recv_fd);
    if (master < 0) { while (waitpid(child, &status, 0) < 0 && errno == EINTR) {} }
    else status = relay_terminal(child, master);
  } else if (stdio_pipes[1][0] >= 0) {
    status = relay_pipes(child);
  } else {
    while (waitpid(child, &status, 0) < 0) if (errno != EINTR) fail("wait");
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

/* Clones the process with the flags of ops[i]: only the child returns; the parent half runs the
 * rest of its part (run_parent) and exits with what it reports. */
void op_clone(struct op *ops, uint32_t i, uint32_t count) {
  struct op *o = &ops[i];
  int err_pipe[2] = {-1, -1};
  unsigned long flags = (unsigned long)N(o, 0);
  int mode = (int)N(o, 1);
  int go[2];
  if (pipe2(go, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0) fail("pipe");
  pid_t pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, 0, NULL, NULL, 0);
  if (pid < 0) fail("clone");
  if (pid > 0) {
    close(go[0]);
    close(err_pipe[1]);
    if (console_fd >= 0) { close(console_fd); console_fd = -1; }
    if (fifo_fd >= 0) { close(fifo_fd); fifo_fd = -1; } /* only the init waits on it */
    if (stdio_pipes[0][0] >= 0) { close(stdio_pipes[0][0]); close(stdio_pipes[1][1]); close(stdio_pipes[2][1]); }
    if (seccomp_pair[1] >= 0) { close(seccomp_pair[1]); seccomp_pair[1] = -1; }
    /* Find the end of the parent's idmap ops: they follow the clone op. */
    _exit(run_parent(pid, ops, i + 1, count, mode, go[1], err_pipe[0]));
  }
  close(go[1]);
  close(err_pipe[0]);
  err_write_fd = err_pipe[1];
  if (console_recv_fd >= 0) { close(console_recv_fd); console_recv_fd = -1; }
  /* Only the parent half talks to the seccomp agent. */
  if (seccomp_agent_fd >= 0) { close(seccomp_agent_fd); seccomp_agent_fd = -1; }
  if (seccomp_pair[0] >= 0) { close(seccomp_pair[0]); seccomp_pair[0] = -1; }
  if (stdio_pipes[0][0] >= 0) {
    if (dup2(stdio_pipes[0][0], 0) < 0 || dup2(stdio_pipes[1][1], 1) < 0 || dup2(stdio_pipes[2][1], 2) < 0) fail("dup2 stdio");
    for (int k = 0; k < 3; k++) { close(stdio_pipes[k][0]); close(stdio_pipes[k][1]); }
  }
  char c;
  ssize_t n;
  do n = read(go[0], &c, 1); while (n < 0 && errno == EINTR);
  if (n != 1) _exit(1);
  close(go[0]);
}
