/*
 * berth-logger: a container's stdout (fd 3) and stderr (fd 4) into dockerd's json-file log, with
 * max-size/max-file rotation, as the binary:// logger of containerd's shims. README.md is the
 * contract: arguments, fds, formats, and what it does on each error. Every knob is an argument.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jsonlog.h"

#define ARGS_MAX 16           /* 8 key/value pairs: more than the 4 keys there are */
#define ARG_LEN_MAX 4095      /* an argument, at most PATH_MAX with its NUL */
#define MAX_FILE_MAX 1000     /* name.1 ... name.999 */
#define NAME_LEN_MAX 250      /* room for ".999" within NAME_MAX */
#define MAX_SIZE_MAX (1ULL << 62)
#define DRAIN_READS_MAX 1024  /* reads per stream after SIGTERM: 16 MiB, then exit */

struct logfile {
  int dirfd, fd;
  const char *name;
  unsigned long long size, max_size; /* max_size 0: no rotation */
  unsigned max_file;
  unsigned long long dropped; /* lines not written (a full disk, an I/O error, no file) */
  int dropping;               /* the last write failed: said once until one succeeds */
};

struct stream {
  int fd; /* -1 once it reached its end */
  const char *name;
  struct splitter sp;
  struct timespec first; /* the time of a long line's first piece, shared by its pieces */
  int continued;
  struct logfile *log;
};

static char entry[ENTRY_MAX];

static void die(int code, const char *what, int err) {
  if (err)
    fprintf(stderr, "berth-logger: %s: %s\n", what, strerror(err));
  else
    fprintf(stderr, "berth-logger: %s\n", what);
  exit(code);
}

/* A decimal number of at most 19 digits, no sign, within [min, max]; -1 otherwise. */
static int parse_num(const char *s, unsigned long long min, unsigned long long max, unsigned long long *out) {
  size_t n = strlen(s);
  if (n == 0 || n > 19 || strspn(s, "0123456789") != n) return -1;
  unsigned long long v = strtoull(s, NULL, 10);
  if (v < min || v > max) return -1;
  *out = v;
  return 0;
}

static void parse_args(int argc, char **argv, const char **dir, struct logfile *lf) {
  unsigned long long v;
  int seen[4] = {0};
  static const char *keys[] = {"dir", "name", "max-size", "max-file"};
  if (argc - 1 > ARGS_MAX || (argc - 1) % 2) die(2, "usage: berth-logger dir D name N [max-size B] [max-file N]", 0);
  for (int i = 1; i < argc; i += 2) {
    const char *k = argv[i], *val = argv[i + 1];
    if (strlen(k) > ARG_LEN_MAX || strlen(val) > ARG_LEN_MAX) die(2, "an argument is too long", 0);
    int key = -1;
    for (int j = 0; j < 4; j++)
      if (!strcmp(k, keys[j])) key = j;
    if (key < 0) die(2, "unknown argument (dir, name, max-size, max-file)", 0);
    if (seen[key]++) die(2, "an argument is given twice", 0);
    if (key == 0) {
      if (val[0] != '/') die(2, "dir must be an absolute path", 0);
      *dir = val;
    } else if (key == 1) {
      size_t n = strlen(val);
      if (n == 0 || n > NAME_LEN_MAX || strchr(val, '/') || !strcmp(val, ".") || !strcmp(val, ".."))
        die(2, "name must be a file name (1-250 bytes, no slash, not . or ..)", 0);
      lf->name = val;
    } else if (key == 2) {
      if (parse_num(val, 0, MAX_SIZE_MAX, &v)) die(2, "max-size must be a number of bytes (0: no limit)", 0);
      lf->max_size = v;
    } else {
      if (parse_num(val, 1, MAX_FILE_MAX, &v)) die(2, "max-file must be 1-1000", 0);
      lf->max_file = (unsigned)v;
    }
  }
  if (!seen[0] || !seen[1]) die(2, "dir and name are required", 0);
}

/* The log file, opened (created 0640) without following a symlink; only a regular file with one
 * link is taken. Returns the fd, or -1 with errno (ELOOP for a symlink, EINVAL for the rest). */
static int open_log(struct logfile *lf, int flags) {
  int fd = openat(lf->dirfd, lf->name, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | flags,
                  0640);
  if (fd < 0) return -1;
  struct stat st;
  if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_nlink != 1 || fchmod(fd, 0640)) {
    close(fd);
    errno = EINVAL;
    return -1;
  }
  lf->size = (unsigned long long)st.st_size;
  return fd;
}

static void name_at(char *out, size_t cap, const char *name, unsigned i) {
  if (i == 0)
    snprintf(out, cap, "%s", name);
  else
    snprintf(out, cap, "%s.%u", name, i);
}

/* As dockerd: name.(N-1) goes, name.i becomes name.(i+1), name becomes name.1, a new name is
 * made; with max-file 1 the file is emptied. A step that fails leaves the current file in use
 * (over its size) and the next line tries again. */
static void rotate(struct logfile *lf) {
  char from[NAME_MAX + 1], to[NAME_MAX + 1];
  if (lf->max_file <= 1) {
    if (ftruncate(lf->fd, 0) == 0) lf->size = 0;
    return;
  }
  name_at(to, sizeof to, lf->name, lf->max_file - 1);
  if (unlinkat(lf->dirfd, to, 0) && errno != ENOENT) goto failed;
  for (unsigned i = lf->max_file - 1; i >= 1; i--) {
    name_at(from, sizeof from, lf->name, i - 1);
    name_at(to, sizeof to, lf->name, i);
    if (renameat(lf->dirfd, from, lf->dirfd, to) && errno != ENOENT) goto failed;
  }
  int fd = open_log(lf, O_EXCL);
  if (fd < 0) goto failed;
  close(lf->fd);
  lf->fd = fd;
  lf->size = 0;
  return;
failed:
  fprintf(stderr, "berth-logger: rotating %s: %s\n", lf->name, strerror(errno));
}

/* One entry written whole or not at all: a short write is cut back, and the line is dropped. */
static void write_entry(struct logfile *lf, const char *buf, size_t n) {
  if (lf->max_size && lf->size >= lf->max_size) rotate(lf);
  size_t done = 0;
  while (done < n) {
    ssize_t w = write(lf->fd, buf + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    done += (size_t)w;
  }
  if (done == n) {
    lf->size += n;
    if (lf->dropping) fprintf(stderr, "berth-logger: %s: writing again, %llu lines dropped\n", lf->name, lf->dropped);
    lf->dropping = 0;
    return;
  }
  int err = errno;
  if (done > 0 && ftruncate(lf->fd, (off_t)lf->size)) err = errno;
  lf->dropped++;
  if (!lf->dropping) fprintf(stderr, "berth-logger: %s: dropping lines: %s\n", lf->name, strerror(err));
  lf->dropping = 1;
}

static void emit(void *ctx, const uint8_t *line, size_t len, int newline) {
  struct stream *s = ctx;
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  if (!s->continued) s->first = now;
  s->continued = !newline;
  size_t n = format_entry(entry, sizeof entry, line, len, newline, s->name, &s->first);
  if (n == 0) {
    s->log->dropped++;
    return;
  }
  write_entry(s->log, entry, n);
}

/* One read into the stream's line buffer: 1 if bytes came, 0 if none are there now, -1 at the
 * stream's end (an error ends it alike; what was buffered is flushed). */
static int pump(struct stream *s) {
  ssize_t r;
  do r = read(s->fd, s->sp.buf + s->sp.len, splitter_room(&s->sp));
  while (r < 0 && errno == EINTR);
  if (r < 0 && errno == EAGAIN) return 0;
  if (r > 0) {
    splitter_commit(&s->sp, (size_t)r, emit, s);
    return 1;
  }
  splitter_flush(&s->sp, emit, s); /* EOF, or an error that ends the stream alike */
  close(s->fd);
  s->fd = -1;
  return -1;
}

static int fd_open(int fd) { return fcntl(fd, F_GETFD) != -1; }

int main(int argc, char **argv) {
  static struct logfile lf = {.dirfd = -1, .fd = -1, .max_file = 1};
  static struct stream streams[2] = {{.fd = 3, .name = "stdout"}, {.fd = 4, .name = "stderr"}};
  const char *dir = NULL;
  parse_args(argc, argv, &dir, &lf);
  if (!fd_open(3) || !fd_open(4)) die(2, "fds 3 (stdout) and 4 (stderr) must be open", 0);

  /* SIGTERM (what containerd's shims send at the end) and SIGINT come through a signalfd. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  if (sigprocmask(SIG_BLOCK, &set, NULL)) die(1, "sigprocmask", errno);
  int sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sigfd < 0) die(1, "signalfd", errno);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGHUP, SIG_IGN);

  lf.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (lf.dirfd < 0) die(1, "opening the log directory", errno);
  lf.fd = open_log(&lf, 0);
  if (lf.fd < 0) die(1, errno == ELOOP ? "the log path is a symlink" : "opening the log file", errno);
  for (int i = 0; i < 2; i++) {
    streams[i].log = &lf;
    int fl = fcntl(streams[i].fd, F_GETFL);
    if (fl < 0 || fcntl(streams[i].fd, F_SETFL, fl | O_NONBLOCK)) die(1, "fcntl", errno);
  }
  /* Ready: the shim waits for fd 5 to close (or for a byte on it). */
  if (fd_open(5)) close(5);

  while (streams[0].fd >= 0 || streams[1].fd >= 0) {
    struct pollfd p[3] = {{.fd = streams[0].fd, .events = POLLIN},
                          {.fd = streams[1].fd, .events = POLLIN},
                          {.fd = sigfd, .events = POLLIN}};
    if (poll(p, 3, -1) < 0) {
      if (errno == EINTR) continue;
      die(1, "poll", errno);
    }
    if (p[2].revents) {
      /* Told to stop: what the pipes hold now is written, then the rest of a line, then exit. */
      for (int i = 0; i < 2; i++)
        for (int n = 0; streams[i].fd >= 0 && n < DRAIN_READS_MAX && pump(&streams[i]) == 1; n++) {
        }
      for (int i = 0; i < 2; i++) splitter_flush(&streams[i].sp, emit, &streams[i]);
      break;
    }
    for (int i = 0; i < 2; i++)
      if (p[i].fd >= 0 && p[i].revents) pump(&streams[i]);
  }
  if (lf.dropped) fprintf(stderr, "berth-logger: %s: %llu lines dropped\n", lf.name, lf.dropped);
  return 0;
}
