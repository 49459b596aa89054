/*
 * One function per request (README.md's table): each checks what it needs beyond the frame's
 * shape (request_check, spawn_decode), acts, and replies exactly once. The fds that came with a
 * request are the handler's: passed on (a spawn's child, a copy, a hold) or closed.
 */
#include "keeper.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static void refuse(const char *why, const int *fds, int nfds) {
  close_fds(fds, nfds);
  reply("ERR", why, NULL);
}

static void do_spawn(char **fields, int nfields, const int *fds, int nfds) {
  struct spawn_req s;
  const char *why = spawn_decode(fields, nfields, &s);
  if (!why && proc_find(s.name)) why = "name in use";
  if (!why && nprocs >= PROCS_MAX) why = "too many names";
  struct proc *p = why ? NULL : calloc(1, sizeof *p);
  if (!why && !p) why = "out of memory";
  if (why) {
    refuse(why, fds, nfds);
    return;
  }
  pid_t pid = spawn(s.argv, s.env, fds, nfds);
  close_fds(fds, nfds);
  if (pid < 0) {
    free(p);
    reply("ERR", strerror(errno), NULL);
    return;
  }
  strcpy(p->name, s.name); /* lengths checked by name_ok */
  strcpy(p->pidfile, s.pidfile);
  strcpy(p->exitfile, s.exitfile);
  p->state = SPAWNING;
  p->spawned = pid;
  /* At the end, so LIST shows spawn order. */
  struct proc **tail = &procs;
  while (*tail) tail = &(*tail)->next;
  *tail = p;
  nprocs++;
  nspawning++;
  char b[24];
  reply("OK", num(b, pid), NULL);
}

static void do_hold(struct proc *p, const int *fds, int nfds) {
  if (p->nheld + nfds > HELD_MAX) { refuse("too many held fds", fds, nfds); return; }
  memcpy(p->held + p->nheld, fds, sizeof(int) * (size_t)nfds);
  p->nheld += nfds;
  reply("OK", NULL);
  release_if_done(p);
}

static void do_copy(struct proc *p, const char *kind, const int *fds) {
  int k = copy_kind(kind);
  if (k < 0) { refuse("bad copy kind", fds, 2); return; }
  if (p->ncopies >= COPIES_MAX) { refuse("too many copies", fds, 2); return; }
  if (copy_add(p, k, fds[0], fds[1]) != 0) { refuse("out of memory", fds, 2); return; }
  reply("OK", NULL);
}

static void do_resize(struct proc *p, const char *rows, const char *cols) {
  uint32_t r, c;
  if (parse_uint(rows, 65535, &r) != 0 || parse_uint(cols, 65535, &c) != 0) { refuse("bad size", NULL, 0); return; }
  for (struct copy *x = p->copies; x; x = x->next) {
    if (x->kind != K_PTY_OUT) continue;
    struct winsize ws = {.ws_row = (unsigned short)r, .ws_col = (unsigned short)c};
    if (ioctl(x->src, TIOCSWINSZ, &ws) != 0) { refuse(strerror(errno), NULL, 0); return; }
    reply("OK", NULL);
    return;
  }
  refuse("no pty-out copy", NULL, 0);
}

static void do_closein(struct proc *p) {
  for (struct copy *x = p->copies; x; x = x->next)
    if (x->kind == K_IN || x->kind == K_PTY_IN) x->closing = x->kick = 1;
  reply("OK", NULL);
}

static void do_list(void) {
  static const char *const states[] = {[SPAWNING] = "spawning", [RUNNING] = "running", [EXITED] = "exited", [FAILED] = "failed"};
  char n[24], pid[24], status[24], sec[24], nsec[24];
  reply("OK", num(n, nprocs), NULL);
  for (struct proc *p = procs; p; p = p->next)
    reply("PROC", p->name, num(pid, p->state == SPAWNING || p->state == FAILED ? p->spawned : p->main), states[p->state],
          num(status, p->status), num(sec, p->when.tv_sec), num(nsec, p->when.tv_nsec), NULL);
}

void handle_request(char **fields, int nfields, int *fds, int nfds) {
  int verb;
  const char *why = request_check(fields, nfields, nfds, &verb);
  if (why) { refuse(why, fds, nfds); return; }
  char b[24];
  struct proc *p = NULL;
  if (verb != V_HELLO && verb != V_SPAWN && verb != V_LIST && verb != V_QUIT && !(p = proc_find(fields[1])))
    { refuse("no such name", fds, nfds); return; }
  switch (verb) {
  case V_HELLO: reply("OK", "1", num(b, getpid()), NULL); break;
  case V_SPAWN: do_spawn(fields, nfields, fds, nfds); break;
  case V_HOLD: do_hold(p, fds, nfds); break;
  case V_COPY: do_copy(p, fields[2], fds); break;
  case V_RESIZE: do_resize(p, fields[2], fields[3]); break;
  case V_CLOSEIN: do_closein(p); break;
  case V_LIST: do_list(); break;
  case V_FORGET: proc_forget(p); reply("OK", NULL); break;
  case V_QUIT: reply("OK", NULL); flush_and_exit(); break;
  }
}
