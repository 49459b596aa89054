/*
 * The named processes and their exits: every child is reaped here (spawned processes, watched
 * processes, the container's orphans). A spawned process's exit is RAN (and its pid file names the
 * process watched from then on), a watched process's exit is EXIT (its exit file written first).
 * While a spawn is outstanding, exits of pids nobody watches yet are kept: the main process may
 * exit, and be reaped, before the pid file that names it is read.
 */
#include "keeper.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct proc *procs;
int nprocs, nspawning;

/* A ring of exits of unknown pids, allocated while a spawn is outstanding; the oldest go first. */
static struct pending {
  pid_t pid;
  int status;
  struct timespec when;
} *pending;
static int pending_head, npending;

static void pending_add(pid_t pid, int status, struct timespec when) {
  if (!pending && !(pending = malloc(sizeof *pending * PENDING_MAX))) return;
  if (npending == PENDING_MAX) { pending_head = (pending_head + 1) % PENDING_MAX; npending--; }
  pending[(pending_head + npending++) % PENDING_MAX] = (struct pending){pid, status, when};
}

static struct pending *pending_find(pid_t pid) {
  for (int i = 0; i < npending; i++) {
    struct pending *e = &pending[(pending_head + i) % PENDING_MAX];
    if (e->pid == pid) return e;
  }
  return NULL;
}

/* One spawn fewer outstanding; with none left, kept exits can no longer matter. */
static void spawn_settled(void) {
  if (--nspawning > 0) return;
  free(pending);
  pending = NULL;
  pending_head = npending = 0;
}

struct proc *proc_find(const char *name) {
  for (struct proc *p = procs; p; p = p->next)
    if (strcmp(p->name, name) == 0) return p;
  return NULL;
}

void release_if_done(struct proc *p) {
  if ((p->state != EXITED && p->state != FAILED) || p->ncopies > 0) return;
  close_fds(p->held, p->nheld);
  p->nheld = 0;
}

void proc_forget(struct proc *p) {
  while (p->copies) copy_end(p, p->copies);
  close_fds(p->held, p->nheld);
  if (p->state == SPAWNING) spawn_settled();
  for (struct proc **q = &procs; *q; q = &(*q)->next)
    if (*q == p) { *q = p->next; break; }
  nprocs--;
  free(p);
}

/* "<pid> <status> <sec> <nsec>\n" into the exit file: a temporary name, then renamed into place. */
static void write_exitfile(const struct proc *p) {
  if (!p->exitfile[0]) return;
  char tmp[NAME_LEN_MAX + 8], line[96];
  snprintf(tmp, sizeof tmp, ".%s.tmp", p->exitfile); /* a leading '.' is no name the shim can give */
  int n = snprintf(line, sizeof line, "%d %d %lld %ld\n", p->main, p->status, (long long)p->when.tv_sec, p->when.tv_nsec);
  unlinkat(BUNDLE_FD, tmp, 0);
  int fd = openat(BUNDLE_FD, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return;
  int ok = write(fd, line, (size_t)n) == n;
  close(fd);
  if (!ok || renameat(BUNDLE_FD, tmp, BUNDLE_FD, p->exitfile) != 0) unlinkat(BUNDLE_FD, tmp, 0);
}

/* The pid in a pid file of the bundle: a regular file, not through a symlink; or -1. */
static int read_pidfile(const char *name) {
  int fd = openat(BUNDLE_FD, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return -1;
  struct stat st;
  char buf[33];
  ssize_t n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? read(fd, buf, sizeof buf) : -1;
  close(fd);
  return n < 0 || n == (ssize_t)sizeof buf ? -1 : pidfile_parse(buf, (size_t)n);
}

static void exited(struct proc *p, int status, struct timespec when) {
  char pid[24], st[24], sec[24], nsec[24];
  p->state = EXITED;
  p->status = status;
  p->when = when;
  write_exitfile(p);
  reply("EXIT", p->name, num(pid, p->main), num(st, status), num(sec, when.tv_sec), num(nsec, when.tv_nsec), NULL);
  copies_exited(p);
  release_if_done(p);
}

static void ran(struct proc *p, int status, struct timespec when) {
  char spawned[24], st[24], main_pid[24];
  int pid = status == 0 && p->pidfile[0] ? read_pidfile(p->pidfile) : -1;
  reply("RAN", p->name, num(spawned, p->spawned), num(st, status), num(main_pid, pid > 0 ? pid : 0), NULL);
  if (pid <= 0) {
    p->state = FAILED;
    p->status = status;
    p->when = when;
    copies_exited(p);
    release_if_done(p);
  } else {
    p->state = RUNNING;
    p->main = pid;
    struct pending *e = pid == p->spawned ? NULL : pending_find(pid);
    siginfo_t si = {0};
    if (pid == p->spawned) exited(p, status, when); /* the spawned process was the main one */
    else if (e) { e->pid = 0; exited(p, e->status, e->when); }
    /* Reaped, then pushed out of a full table: its status is lost, but nobody may wait for ever. */
    else if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) != 0 && errno == ECHILD)
      exited(p, 255, when);
  }
  spawn_settled();
}

void reap(void) {
  for (;;) {
    int ws;
    pid_t pid = waitpid(-1, &ws, WNOHANG | __WALL);
    if (pid <= 0) return;
    int status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    struct timespec when;
    clock_gettime(CLOCK_REALTIME, &when);
    struct proc *p = procs;
    while (p && !((p->state == SPAWNING && p->spawned == pid) || (p->state == RUNNING && p->main == pid))) p = p->next;
    if (p && p->state == SPAWNING) ran(p, status, when);
    else if (p) exited(p, status, when);
    else if (nspawning > 0) pending_add(pid, status, when);
  }
}
