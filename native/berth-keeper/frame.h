/*
 * The keeper's wire format and its pure checks (README.md is the contract): frame lengths, the
 * split of a frame into NUL-separated fields, the verb table, the name rule, decimal numbers,
 * SPAWN's layout and the pid file's content. No syscall, no exit: fuzzed (native/fuzz/).
 */
#ifndef KEEPER_FRAME_H
#define KEEPER_FRAME_H
#include <stddef.h>
#include <stdint.h>

#define FRAME_MAX 65536    /* a frame's body, either direction */
#define FRAME_FDS_MAX 16   /* fds with one frame */
#define NAME_LEN_MAX 128   /* process and file names */
#define SPAWN_ARGS_MAX 256 /* argc and envc each */
/* SPAWN name pidfile exitfile argc argv... envc env...: the most fields any frame has. */
#define FIELDS_MAX (5 + SPAWN_ARGS_MAX + 1 + SPAWN_ARGS_MAX)

enum verb { V_HELLO, V_SPAWN, V_HOLD, V_COPY, V_RESIZE, V_CLOSEIN, V_LIST, V_FORGET, V_QUIT };
enum copy_kind { K_IN, K_PTY_IN, K_OUT, K_PTY_OUT };

/* Splits body[0..len) (body[len] must be NUL) into at most max fields, NUL-terminating each in
 * place. Returns the count, or -1 when there are more than max. */
int frame_split(char *body, size_t len, char **fields, int max);

/* Checks a request's verb, field count and fd count: the verb in *verb and NULL, or a reason. */
const char *request_check(char **fields, int nfields, int nfds, int *verb);

/* 1 when s is a name: 1-128 bytes of [A-Za-z0-9_.-], not starting with '.'; "" too if allow_empty. */
int name_ok(const char *s, int allow_empty);

/* A decimal number of at most 10 digits, no sign, no more than max: 0, or -1. */
int parse_uint(const char *s, uint32_t max, uint32_t *out);

/* COPY's kind by name, or -1. */
int copy_kind(const char *s);

struct spawn_req {
  const char *name, *pidfile, *exitfile;
  char **argv, **env; /* each NULL-terminated, pointing into the fields */
};
/* Decodes SPAWN's fields (fields[nfields] must be writable: argv and env end in a NULL written
 * over the envc field and there). NULL, or a reason. */
const char *spawn_decode(char **fields, int nfields, struct spawn_req *out);

/* A pid file's content: digits, optionally one trailing newline, a pid of 1..4194304; or -1. */
int pidfile_parse(const char *buf, size_t len);
#endif
