/*
 * What the keeper's files share: the named processes, their copies and held fds, the one client,
 * and the entry points of each file. README.md is the contract this implements.
 */
#ifndef KEEPER_H
#define KEEPER_H
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "frame.h"

#define BUNDLE_FD 3
#define LISTEN_FD 4
#define PROCS_MAX 1024          /* names at a time */
#define HELD_MAX FRAME_FDS_MAX  /* fds held per name */
#define COPIES_MAX 4            /* copies per name: in or pty-in, out, out, pty-out */
#define COPY_BUF (64 * 1024)    /* the most a copy keeps that its dst has not taken */
#define PTY_RETRY_MS 50         /* a pty master with no slave yet is read again after this */
#define DRAIN_MS 2000           /* an output copy outlives its process by at most this */
#define PENDING_MAX 4096        /* exits of unknown pids kept while a spawn is outstanding */

enum state { SPAWNING, RUNNING, EXITED, FAILED };

struct copy {
  struct copy *next;
  int kind, src, dst;
  char *buf; /* allocated at the first read, freed with the copy */
  size_t len, off;
  int closing;       /* CLOSEIN: write what is buffered, then end */
  int kick;          /* step it at the next turn of the loop even if poll says nothing */
  int64_t retry_at;  /* pty-out with no slave: not read before this (monotonic ms) */
  int64_t deadline;  /* output of an exited process: ends by this (0: not exited) */
  int src_at, dst_at; /* their places in this turn's poll array, or -1 */
};

struct proc {
  struct proc *next;
  char name[NAME_LEN_MAX + 1], pidfile[NAME_LEN_MAX + 1], exitfile[NAME_LEN_MAX + 1];
  int state, status;
  pid_t spawned, main;
  struct timespec when; /* CLOCK_REALTIME of the exit (or of the failed spawn's exit) */
  int held[HELD_MAX], nheld;
  struct copy *copies;
  int ncopies;
};

extern struct proc *procs;
extern int nprocs, nspawning;

/* main.c */
int64_t now_ms(void);
/* client.c: the one client */
void client_accept(void);
int client_fd(void);
int client_wants_write(void);
void client_io(short revents);
void reply(const char *first, ...); /* one frame of NUL-separated fields, the list ends in NULL */
const char *num(char buf[24], long long v); /* a number as a field */
void close_fds(const int *fds, int n);
void flush_and_exit(void);
/* requests.c */
void handle_request(char **fields, int nfields, int *fds, int nfds);
/* spawn.c */
pid_t spawn(char *const argv[], char *const env[], const int *fds, int nfds);
/* reap.c */
struct proc *proc_find(const char *name);
void proc_forget(struct proc *p);
void reap(void);
void release_if_done(struct proc *p);
/* copy.c */
int copy_add(struct proc *p, int kind, int src, int dst);
void copy_end(struct proc *p, struct copy *c);
void copies_exited(struct proc *p);
int copy_poll(struct copy *c, short *src_events, short *dst_events, int64_t *wake);
void copy_step(struct proc *p, struct copy *c);
#endif
