/*
 * The one client on the listening socket (fd 4): accepting it (a second one gets ERR busy and is
 * closed), reading its frames with the fds that came with them, and queueing what is sent to it.
 *
 * A frame is read in two recvmsg calls that never ask for more than the rest of that frame (its
 * 4-byte length, then its body): the kernel hands over a sendmsg's fds with its first byte and
 * ends a read there, so the fds collected while a frame is read are exactly that frame's.
 */
#include "keeper.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define OUT_MAX (256 * 1024) /* replies and events a client may leave unread before it is dropped */
#define FRAMES_PER_TURN 64   /* frames handled before the loop serves the copies again */

static int cfd = -1;
static unsigned char hdr[4];
static size_t hdr_got;
static char *body; /* allocated once the length is known, freed when the frame is handled */
static size_t body_len, body_got;
static int fds[FRAME_FDS_MAX], nfds;
static char *out; /* the queue: out[out_off..out_len) is unsent */
static size_t out_len, out_off, out_cap;

int client_fd(void) { return cfd; }
int client_wants_write(void) { return out_len > out_off; }

const char *num(char buf[24], long long v) {
  snprintf(buf, 24, "%lld", v);
  return buf;
}

void close_fds(const int *list, int n) {
  for (int i = 0; i < n; i++) close(list[i]);
}

static void drop(void) {
  if (cfd >= 0) close(cfd);
  cfd = -1;
  free(body);
  body = NULL;
  hdr_got = body_len = body_got = 0;
  close_fds(fds, nfds);
  nfds = 0;
  free(out);
  out = NULL;
  out_len = out_off = out_cap = 0;
}

/* Writes what is queued until the socket would block; a peer that is gone is dropped. */
static void flush(void) {
  while (cfd >= 0 && out_off < out_len) {
    ssize_t n = send(cfd, out + out_off, out_len - out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) { drop(); return; }
    out_off += (size_t)n;
  }
  if (out_off == out_len) { free(out); out = NULL; out_len = out_off = out_cap = 0; }
}

/* Encodes fields as one frame into dst (cap bytes): its length, or 0 when it does not fit. */
static size_t encode(char *dst, size_t cap, const char *const *f, int n) {
  size_t len = 0;
  for (int i = 0; i < n; i++) len += strlen(f[i]) + (i > 0);
  if (len == 0 || len > FRAME_MAX || len + 4 > cap) return 0;
  uint32_t be = __builtin_bswap32((uint32_t)len);
  memcpy(dst, &be, 4);
  char *p = dst + 4;
  for (int i = 0; i < n; i++) {
    if (i > 0) *p++ = '\0';
    size_t l = strlen(f[i]);
    memcpy(p, f[i], l);
    p += l;
  }
  return len + 4;
}

void reply(const char *first, ...) {
  const char *f[8];
  int n = 0;
  va_list ap;
  va_start(ap, first);
  for (const char *s = first; s && n < 8; s = va_arg(ap, const char *)) f[n++] = s;
  va_end(ap);
  if (cfd < 0) return; /* nobody to tell: the exit files and LIST keep what matters */
  size_t need = 4;
  for (int i = 0; i < n; i++) need += strlen(f[i]) + 1;
  if (out_len - out_off + need > OUT_MAX) { drop(); return; }
  if (out_len + need > out_cap) {
    /* Move the unsent part to the front before growing. */
    if (out_off > 0) memmove(out, out + out_off, out_len - out_off);
    out_len -= out_off;
    out_off = 0;
    size_t cap = out_cap ? out_cap : 4096;
    while (cap < out_len + need) cap *= 2;
    char *bigger = cap > out_cap ? realloc(out, cap) : out;
    if (!bigger) { drop(); return; }
    out = bigger;
    out_cap = cap;
  }
  out_len += encode(out + out_len, out_cap - out_len, f, n);
}

void client_accept(void) {
  int s = accept4(LISTEN_FD, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (s < 0) return;
  if (cfd >= 0) {
    char frame[16];
    const char *busy[] = {"ERR", "busy"};
    size_t n = encode(frame, sizeof frame, busy, 2);
    if (send(s, frame, n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) { /* it is closed either way */ }
    close(s);
    return;
  }
  cfd = s;
}

/* Takes the fds a recvmsg brought; -1 when SCM_RIGHTS was cut short or foreign (they are closed). */
static int take_fds(struct msghdr *msg) {
  int bad = (msg->msg_flags & MSG_CTRUNC) != 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) { bad = 1; continue; }
    size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < n; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      if (nfds < FRAME_FDS_MAX) fds[nfds++] = fd;
      else { close(fd); bad = 1; }
    }
  }
  return bad ? -1 : 0;
}

/* Hands a whole frame to the requests; the frame's body and fds are the handler's from here. */
static void dispatch(void) {
  char *b = body;
  size_t len = body_len;
  int own[FRAME_FDS_MAX], n = nfds;
  memcpy(own, fds, sizeof(int) * (size_t)n);
  body = NULL;
  hdr_got = body_len = body_got = 0;
  nfds = 0;
  char *fields[FIELDS_MAX + 1];
  b[len] = '\0';
  int nf = frame_split(b, len, fields, FIELDS_MAX);
  if (nf < 0) { close_fds(own, n); reply("ERR", "too many fields", NULL); }
  else handle_request(fields, nf, own, n);
  free(b);
}

/* A frame's length has arrived: allocate its body, or answer a length that is refused. 0 to go on. */
static int frame_start(void) {
  uint32_t be;
  memcpy(&be, hdr, 4);
  uint32_t len = __builtin_bswap32(be);
  if (len == 0) {
    close_fds(fds, nfds);
    nfds = 0;
    hdr_got = 0;
    reply("ERR", "empty frame", NULL);
    return 0;
  }
  if (len > FRAME_MAX || !(body = malloc((size_t)len + 1))) {
    /* The stream cannot be resynchronised: say why, then close. */
    reply("ERR", len > FRAME_MAX ? "frame too long" : "out of memory", NULL);
    flush();
    drop();
    return -1;
  }
  body_len = len;
  body_got = 0;
  return 0;
}

void client_io(short revents) {
  if (revents & POLLOUT) flush();
  for (int frames = 0; cfd >= 0 && frames < FRAMES_PER_TURN;) {
    int have_body = hdr_got == 4;
    struct iovec iov = {
        .iov_base = have_body ? (void *)(body + body_got) : (void *)(hdr + hdr_got),
        .iov_len = have_body ? body_len - body_got : 4 - hdr_got,
    };
    union {
      char buf[CMSG_SPACE(sizeof(int) * FRAME_FDS_MAX)];
      struct cmsghdr align;
    } control;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf};
    ssize_t n = recvmsg(cfd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    if (n > 0 && take_fds(&msg) != 0) { reply("ERR", "bad SCM_RIGHTS", NULL); flush(); drop(); break; }
    if (n <= 0) { drop(); break; }
    if (!have_body) {
      hdr_got += (size_t)n;
      if (hdr_got < 4) continue;
      if (frame_start() != 0) break;
      if (!body) { frames++; continue; }
    } else {
      body_got += (size_t)n;
    }
    if (body_got == body_len) { dispatch(); frames++; }
  }
  flush();
}

void flush_and_exit(void) {
  int64_t until = now_ms() + 1000;
  while (cfd >= 0 && out_off < out_len && now_ms() < until) {
    struct pollfd p = {.fd = cfd, .events = POLLOUT};
    poll(&p, 1, 100);
    flush();
  }
  _exit(0);
}
