/*
 * The copies COPY starts: non-blocking, in the keeper's loop, one buffer each (allocated at its
 * first read, at most COPY_BUF, freed with it). A copy reads its src only when its buffer is
 * empty, so a dst that does not keep up stops the reading instead of growing anything.
 *   in       stdin: ends at EOF of src, on CLOSEIN, or when its process exits; dst is closed.
 *   pty-in   stdin to a pty master: the same, but CLOSEIN writes one ^D before it ends.
 *   out      output: ends at EOF of src, or after its process exited once src has nothing more
 *            (at most DRAIN_MS later).
 *   pty-out  a pty master's output: EIO before the exit means no slave is open yet, so src is
 *            read again PTY_RETRY_MS later; after the exit EIO, like an empty src, means drained.
 */
#include "keeper.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

static int nonblock(int fd) {
  int fl = fcntl(fd, F_GETFL);
  return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int process_gone(const struct proc *p) { return p->state == EXITED || p->state == FAILED; }

int copy_add(struct proc *p, int kind, int src, int dst) {
  struct copy *c = calloc(1, sizeof *c);
  if (!c) return -1;
  /* Best effort: a file (a log) cannot be made non-blocking, and never blocks for long. */
  nonblock(src);
  nonblock(dst);
  *c = (struct copy){.next = p->copies, .kind = kind, .src = src, .dst = dst, .kick = 1, .src_at = -1, .dst_at = -1};
  if (process_gone(p)) c->deadline = now_ms() + DRAIN_MS;
  p->copies = c;
  p->ncopies++;
  return 0;
}

void copy_end(struct proc *p, struct copy *c) {
  for (struct copy **q = &p->copies; *q; q = &(*q)->next)
    if (*q == c) { *q = c->next; break; }
  p->ncopies--;
  close(c->src);
  close(c->dst);
  free(c->buf);
  free(c);
  release_if_done(p);
}

void copies_exited(struct proc *p) {
  int64_t deadline = now_ms() + DRAIN_MS;
  for (struct copy *c = p->copies; c; c = c->next) {
    c->deadline = deadline;
    c->kick = 1;
  }
}

int copy_poll(struct copy *c, short *src_events, short *dst_events, int64_t *wake) {
  int64_t now = now_ms();
  *src_events = *dst_events = 0;
  if (c->kick) *wake = now;
  if (c->deadline && c->deadline < *wake) *wake = c->deadline;
  if (c->len > 0) *dst_events = POLLOUT;
  else if (c->closing) *wake = now;
  else if (c->retry_at > now) { if (c->retry_at < *wake) *wake = c->retry_at; }
  else *src_events = POLLIN;
  return *src_events || *dst_events;
}

/* Moves data until src or dst would block; ends the copy when its job is done. */
void copy_step(struct proc *p, struct copy *c) {
  int64_t now = now_ms();
  int out = c->kind == K_OUT || c->kind == K_PTY_OUT;
  c->kick = 0;
  if (c->deadline && now >= c->deadline) goto end;
  if (!out && process_gone(p)) goto end; /* its stdin has no reader any more */
  /* A bounded number of rounds, so one busy copy cannot keep the loop from the others. */
  for (int round = 0; round < 16; round++) {
    if (c->len > 0) {
      ssize_t n = write(c->dst, c->buf + c->off, c->len);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
      if (n <= 0) goto end;
      c->off += (size_t)n;
      c->len -= (size_t)n;
      continue;
    }
    c->off = 0;
    if (c->closing) {
      if (c->kind == K_PTY_IN && write(c->dst, "\x04", 1) != 1) { /* the copy ends either way */ }
      goto end;
    }
    if (c->retry_at > now) return;
    c->retry_at = 0;
    if (!c->buf && !(c->buf = malloc(COPY_BUF))) goto end;
    ssize_t n = read(c->src, c->buf, COPY_BUF);
    if (n > 0) { c->len = (size_t)n; continue; }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      if (out && process_gone(p)) goto end;
      return;
    }
    if (n < 0 && errno == EIO && c->kind == K_PTY_OUT && !process_gone(p)) {
      c->retry_at = now + PTY_RETRY_MS;
      return;
    }
    goto end; /* EOF, or an error */
  }
  c->kick = 1;
  return;
end:
  copy_end(p, c);
}
