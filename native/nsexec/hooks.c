/*
 * Hooks: the sync point where the runtime runs its own hooks and sends back the states, and
 * hooks run by nsexec inside the container's namespaces with a state on stdin.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nsexec.h"

/* States the runtime sent at the hook sync point (tab-separated); a hook gets one on stdin. */
static char *hook_states[4];

/* Runs a hook inside the container's namespaces with the state on stdin, bounded by timeout. */
void op_run_hook(struct op *o) {
  const char *path = S(o, 0);
  int timeout = (int)N(o, 1);
  int which = (int)N(o, 2);
  int argc = count_arg(o, 3, 4);
  char **argv = collect_strings(o, 4, argc);
  char **envp = collect_strings(o, 4 + argc, o->argc - 4 - argc);
  char *fallback[] = {(char *)path, NULL};
  int in[2];
  if (pipe2(in, O_CLOEXEC) < 0) fail("pipe");
  pid_t pid = fork();
  if (pid < 0) fail("fork hook");
  if (pid == 0) {
    dup2(in[0], 0);
    execve(path, argc ? argv : fallback, envp);
    _exit(127);
  }
  close(in[0]);
  const char *state = which >= 0 && which < 4 && hook_states[which] ? hook_states[which] : "{}";
  ssize_t w = write(in[1], state, strlen(state));
  (void)w;
  close(in[1]);
  int status;
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    pid_t r = waitpid(pid, &status, timeout > 0 ? WNOHANG : 0);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) fail("wait hook");
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (timeout > 0 && now.tv_sec - start.tv_sec >= timeout) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      errno = 0;
      fail("hook %s timed out after %ds", path, timeout);
    }
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    errno = 0;
    fail("hook %s failed: %s %d", path, WIFEXITED(status) ? "exit status" : "signal",
         WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
  }
}

void op_sync(struct op *o) {
  const char *name = S(o, 0);
  send_line("HOOK %s", name);
  /* Read one line answer: "OK <state-json>" or "FAIL <msg>". */
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  if (!buf) fail("out of memory");
  for (;;) {
    if (len + 1 >= cap) {
      if (cap >= (size_t)64 << 20) { errno = 0; fail("answer from the runtime too long during %s", name); }
      char *bigger = realloc(buf, cap * 2);
      if (!bigger) fail("out of memory");
      buf = bigger;
      cap *= 2;
    }
    ssize_t n = read(sync_fd, buf + len, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) { errno = 0; fail("runtime went away during %s", name); }
    if (buf[len] == '\n') break;
    len++;
  }
  buf[len] = '\0';
  if (strncmp(buf, "OK", 2) != 0) { errno = 0; fail("%s", buf); }
  char *rest = len > 3 ? buf + 3 : "";
  for (int i = 0; i < 4; i++) {
    char *tab = strchr(rest, '\t');
    if (tab) *tab = '\0';
    free(hook_states[i]);
    hook_states[i] = *rest ? strdup(rest) : NULL;
    if (*rest && !hook_states[i]) fail("out of memory");
    if (!tab) { for (int j = i + 1; j < 4; j++) { free(hook_states[j]); hook_states[j] = NULL; } break; }
    rest = tab + 1;
  }
  free(buf);
}
