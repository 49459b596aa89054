/*
 * The sync socket to the runtime (src/runc/container/nsexec.ts): the lines nsexec sends, the
 * answers it reads, and fail(), which reports a step's error and ends the process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nsexec.h"

int sync_fd = -1;
const char *current_step = "start";
/* Write end of the clone's error pipe in the child, on which it tells its parent half how far it
 * got ('r' ready at the exec fifo, 'x' calling execve, 'e' failed; see run_parent). */
int err_write_fd = -1;
/* Past the exec fifo nobody reads the sync socket: fail() also writes to the process's stderr. */
int errors_to_stderr = 0;

void send_line(const char *fmt, ...) {
  char buf[4096];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (n > (int)sizeof(buf) - 2) n = sizeof(buf) - 2;
  for (int i = 0; i < n; i++) if (buf[i] == '\n') buf[i] = ' ';
  buf[n++] = '\n';
  /* MSG_NOSIGNAL: after `create` returns nobody reads; a failure must not turn into SIGPIPE. */
  if (sync_fd >= 0) { ssize_t w = send(sync_fd, buf, n, MSG_NOSIGNAL); if (w < 0 && errno == ENOTSOCK) w = write(sync_fd, buf, n); (void)w; }
}

/* An errno in Go's words (syscall.Errno.Error()), which runc prints and its callers match: docker's
 * CLI picks exit 126 for "permission denied", 127 for "no such file or directory". Go's table is
 * the C library's text with the first letter lower-cased unless the word is an acronym ("Bad
 * address" -> "bad address", "RFS specific error" unchanged). */
static const char *go_errno_words(int err) {
  static char words[256];
  snprintf(words, sizeof(words), "%s", strerror(err));
  if (words[0] >= 'A' && words[0] <= 'Z' && words[1] >= 'a' && words[1] <= 'z') words[0] = (char)(words[0] - 'A' + 'a');
  return words;
}

void __attribute__((noreturn)) fail(const char *fmt, ...) {
  char msg[3000];
  int saved = errno;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  const char *why = saved ? go_errno_words(saved) : "";
  if (saved) send_line("ERR %s: %s: %s", current_step, msg, why);
  else send_line("ERR %s: %s", current_step, msg);
  /* As runc's init does: the caller of `start` sees the error where the process's output goes. */
  if (errors_to_stderr) {
    signal(SIGPIPE, SIG_IGN); /* a stderr nobody reads must not turn exit 1 into a signal */
    dprintf(2, "%s%s%s\n", msg, saved ? ": " : "", why);
  }
  if (err_write_fd >= 0) { ssize_t w = write(err_write_fd, "e", 1); (void)w; }
  _exit(1);
}

/* One line from the runtime on the sync socket, without its newline; NULL if the runtime went away. */
char *read_sync_line(size_t max) {
  size_t cap = 256, len = 0;
  char *buf = malloc(cap);
  if (!buf) fail("out of memory");
  for (;;) {
    char ch;
    ssize_t n = read(sync_fd, &ch, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) { free(buf); return NULL; }
    if (ch == '\n') break;
    if (len + 1 >= cap) {
      if (cap >= max) { errno = 0; fail("answer from the runtime longer than %zu bytes", max); }
      char *bigger = realloc(buf, cap * 2);
      if (!bigger) fail("out of memory");
      buf = bigger;
      cap *= 2;
    }
    buf[len++] = ch;
  }
  buf[len] = '\0';
  return buf;
}
