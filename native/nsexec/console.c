/*
 * The container's stdio: its terminal (a pty whose master goes to the console socket, the slave
 * taken from the master and bound on /dev/console), and the relays the parent half runs in the
 * foreground (run, exec), through the pty master or through pipes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "nsexec.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41) /* Linux 4.13: open the slave of a pty master */
#endif

static void send_fd(int sock, int fd, const char *name) {
  if (send_with_fd(sock, fd, name, strlen(name)) < 0) fail("send console master");
}

void op_console_setup(struct op *o) {
  unsigned rows = (unsigned)N(o, 0), cols = (unsigned)N(o, 1);
  int bind_console = (int)N(o, 2);
  if (console_fd < 0) { errno = 0; fail("terminal requested but no console socket"); }
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) fail("open /dev/ptmx");
  if (unlockpt(master) < 0) fail("unlockpt");
  int ptn;
  if (ioctl(master, TIOCGPTN, &ptn) < 0) fail("get pty number");
  char slave_path[64];
  snprintf(slave_path, sizeof(slave_path), "/dev/pts/%d", ptn);
  /* The slave comes from the master itself, never from its name: whatever /dev/pts/N resolves to
   * (a link, another pty, something swapped in meanwhile) is not necessarily this pty. */
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) fail("open the slave of pty %d", ptn);
  struct stat sst;
  struct statfs ssf;
  if (fstat(slave, &sst) < 0 || fstatfs(slave, &ssf) < 0) fail("stat pty %d", ptn);
  if (!S_ISCHR(sst.st_mode) || major(sst.st_rdev) < 136 || major(sst.st_rdev) > 143 || ssf.f_type != DEVPTS_SUPER_MAGIC) {
    errno = 0;
    fail("the slave of pty %d is not a devpts pty", ptn);
  }
  if (rows || cols) {
    struct winsize ws = {.ws_row = rows, .ws_col = cols};
    ioctl(slave, TIOCSWINSZ, &ws);
  }
  /* /dev/console shows the container's terminal; it must be a plain file we created. */
  int cfd = bind_console ? open("/dev/console", O_CREAT | O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0600) : -1;
  if (cfd >= 0) {
    struct stat st;
    if (fstat(cfd, &st) == 0 && S_ISREG(st.st_mode)) {
      char t[64], s[64];
      fdpath(cfd, t);
      fdpath(slave, s);
      if (mount(s, t, NULL, MS_BIND, NULL) < 0) fail("bind console");
    }
    close(cfd);
  }
  send_fd(console_fd, master, slave_path);
  close(master);
  close(console_fd);
  console_fd = -1;
  for (int i = 0; i < 3; i++) if (dup2(slave, i) < 0) fail("dup2 pty");
  if (slave > 2) close(slave);
  else fcntl(slave, F_SETFD, 0); /* dup2 onto itself leaves close-on-exec set */
  if (ioctl(0, TIOCSCTTY, 0) < 0) fail("set controlling terminal");
}

static int copy_once(int from, int to) {
  char buf[8192];
  ssize_t n = read(from, buf, sizeof(buf));
  if (n <= 0) return -1;
  for (ssize_t off = 0; off < n;) {
    ssize_t w = write(to, buf + off, n - off);
    if (w < 0) { if (errno == EINTR) continue; return -1; }
    off += w;
  }
  return 0;
}

/* Relays stdin -> pty master -> stdout until the child exits; returns its wait status. */
int relay_terminal(pid_t child, int master) {
  struct termios saved;
  int raw = isatty(0) && tcgetattr(0, &saved) == 0;
  if (raw) {
    struct termios t = saved;
    cfmakeraw(&t);
    tcsetattr(0, TCSANOW, &t);
    struct winsize ws;
    /* The caller's size, when it has one, replaces the spec's consoleSize (as runc resizes). */
    if (ioctl(0, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) ioctl(master, TIOCSWINSZ, &ws);
  }
  int status = 0, in_open = 1;
  for (;;) {
    struct pollfd p[2] = {{.fd = master, .events = POLLIN}, {.fd = in_open ? 0 : -1, .events = POLLIN}};
    int r = poll(p, 2, 100);
    if (r > 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      if (copy_once(master, 1) < 0) break; /* EIO: every slave end is closed */
    }
    if (r > 0 && in_open && (p[1].revents & (POLLIN | POLLHUP))) {
      if (copy_once(0, master) < 0) in_open = 0;
    }
    if (waitpid(child, &status, WNOHANG) == child) {
      while (copy_once(master, 1) == 0) {}
      child = 0;
      break;
    }
  }
  if (raw) tcsetattr(0, TCSANOW, &saved);
  if (child > 0) while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
  return status;
}

/*
 * Relays the parent's stdin into the child's stdin pipe and the child's stdout/stderr pipes out,
 * until the child has exited and its pipes are drained. Returns the child's wait status.
 */
int relay_pipes(pid_t child) {
  int in_w = stdio_pipes[0][1], out_r = stdio_pipes[1][0], err_r = stdio_pipes[2][0];
  int status = 0, exited = 0, in_open = 1;
  for (;;) {
    struct pollfd p[3] = {
        {.fd = out_r, .events = POLLIN}, {.fd = err_r, .events = POLLIN}, {.fd = in_open ? 0 : -1, .events = POLLIN}};
    int r = poll(p, 3, exited ? 50 : 100);
    if (r > 0) {
      if (p[0].revents) { if (copy_once(out_r, 1) < 0) { close(out_r); out_r = -1; } }
      if (p[1].revents) { if (copy_once(err_r, 2) < 0) { close(err_r); err_r = -1; } }
      if (in_open && p[2].revents) {
        if (copy_once(0, in_w) < 0) { in_open = 0; close(in_w); in_w = -1; }
      }
    }
    if (!exited && waitpid(child, &status, WNOHANG) == child) exited = 1;
    /* Done once both outputs hit EOF; after the exit, also when they go quiet (a leftover
     * process outside a pid namespace may hold them open). */
    if (out_r < 0 && err_r < 0) break;
    if (exited && r == 0) break;
  }
  if (in_w >= 0) close(in_w);
  if (!exited) while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
  return status;
}
