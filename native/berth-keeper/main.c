/*
 * berth-keeper: one per container, started by berth-shim with fd 3 = the bundle directory and
 * fd 4 = a listening unix socket (README.md is the contract). It becomes a subreaper in a session
 * of its own and serves one loop: signals (reaping), the listening socket, the client, the copies.
 */
#include "keeper.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int64_t now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int die(const char *why) {
  size_t n = strlen(why);
  if (write(2, why, n) != (ssize_t)n || write(2, "\n", 1) != 1) { /* stderr is /dev/null anyway */ }
  return 2;
}

/* The poll array for this turn: signals, the listener, the client, then each copy's src and dst. */
static struct pollfd *pfd;
static size_t pfd_cap;

static int add(size_t *n, int fd, short events) {
  pfd[*n] = (struct pollfd){.fd = fd, .events = events};
  return (int)(*n)++;
}

int main(void) {
  struct stat st;
  int listening = 0;
  socklen_t len = sizeof listening;
  if (fstat(BUNDLE_FD, &st) != 0 || !S_ISDIR(st.st_mode)) return die("berth-keeper: fd 3 is not a directory");
  if (getsockopt(LISTEN_FD, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening)
    return die("berth-keeper: fd 4 is not a listening socket");
  /* The bundle is the working directory of the keeper and of what it spawns (as for a runtime a
   * shim runs); the keeper holds no other directory. */
  if (fchdir(BUNDLE_FD) != 0) return die("berth-keeper: cannot enter fd 3");
  setsid(); /* fails only for a group leader, which is in a session of its own already */
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) return die("berth-keeper: PR_SET_CHILD_SUBREAPER failed");
  signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigprocmask(SIG_BLOCK, &set, NULL);
  if (fcntl(BUNDLE_FD, F_SETFD, FD_CLOEXEC) != 0 || fcntl(LISTEN_FD, F_SETFD, FD_CLOEXEC) != 0 ||
      fcntl(LISTEN_FD, F_SETFL, O_NONBLOCK) != 0 || syscall(SYS_close_range, LISTEN_FD + 1, ~0U, 0) != 0)
    return die("berth-keeper: cannot set up its fds");
  int sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sigfd < 0) return die("berth-keeper: signalfd failed");
  for (;;) {
    size_t need = 3;
    for (struct proc *p = procs; p; p = p->next) need += 2 * (size_t)p->ncopies;
    if (need > pfd_cap) {
      struct pollfd *bigger = realloc(pfd, need * sizeof *pfd);
      if (!bigger) return die("berth-keeper: out of memory");
      pfd = bigger;
      pfd_cap = need;
    }
    size_t n = 0;
    add(&n, sigfd, POLLIN);
    add(&n, LISTEN_FD, POLLIN);
    int client_at = client_fd() < 0 ? -1 : add(&n, client_fd(), POLLIN | (client_wants_write() ? POLLOUT : 0));
    int64_t wake = INT64_MAX;
    for (struct proc *p = procs; p; p = p->next)
      for (struct copy *c = p->copies; c; c = c->next) {
        short se, de;
        copy_poll(c, &se, &de, &wake);
        c->src_at = se ? add(&n, c->src, se) : -1;
        c->dst_at = de ? add(&n, c->dst, de) : -1;
      }
    int64_t now = now_ms();
    int timeout = wake == INT64_MAX ? -1 : wake <= now ? 0 : wake - now > INT_MAX ? INT_MAX : (int)(wake - now);
    if (poll(pfd, n, timeout) < 0 && errno != EINTR) return die("berth-keeper: poll failed");
    if (pfd[0].revents) {
      /* Which signal does not matter: SIGCHLD means reap, the others are ignored. */
      struct signalfd_siginfo si[8];
      while (read(sigfd, si, sizeof si) > 0) {}
      reap();
    }
    now = now_ms();
    for (struct proc *p = procs; p; p = p->next)
      for (struct copy *c = p->copies, *next; c; c = next) {
        next = c->next;
        short ev = (c->src_at >= 0 ? pfd[c->src_at].revents : 0) | (c->dst_at >= 0 ? pfd[c->dst_at].revents : 0);
        if (ev || c->kick || (c->deadline && c->deadline <= now) || (c->retry_at && c->retry_at <= now)) copy_step(p, c);
      }
    if (pfd[1].revents) client_accept();
    if (client_at >= 0 && pfd[client_at].revents) client_io(pfd[client_at].revents);
  }
}
