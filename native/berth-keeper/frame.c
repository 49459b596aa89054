/*
 * The pure half of the protocol (frame.h): everything a frame's bytes are checked against before
 * the keeper acts on them. Fuzzed by native/fuzz/keeper_frame_fuzz.c.
 */
#include <string.h>

#include "frame.h"

int frame_split(char *body, size_t len, char **fields, int max) {
  int n = 0;
  char *p = body, *end = body + len;
  for (;;) {
    if (n == max) return -1;
    fields[n++] = p;
    char *nul = memchr(p, '\0', (size_t)(end - p));
    if (!nul) return n;
    p = nul + 1;
  }
}

static const struct rule {
  const char *verb;
  int fields_min, fields_max, fds_min, fds_max, named;
} rules[] = {
    [V_HELLO] = {"HELLO", 1, 1, 0, 0, 0},
    [V_SPAWN] = {"SPAWN", 7, FIELDS_MAX, 1, FRAME_FDS_MAX, 1},
    [V_HOLD] = {"HOLD", 2, 2, 1, FRAME_FDS_MAX, 1},
    [V_COPY] = {"COPY", 3, 3, 2, 2, 1},
    [V_RESIZE] = {"RESIZE", 4, 4, 0, 0, 1},
    [V_CLOSEIN] = {"CLOSEIN", 2, 2, 0, 0, 1},
    [V_LIST] = {"LIST", 1, 1, 0, 0, 0},
    [V_FORGET] = {"FORGET", 2, 2, 0, 0, 1},
    [V_QUIT] = {"QUIT", 1, 1, 0, 0, 0},
};

const char *request_check(char **fields, int nfields, int nfds, int *verb) {
  for (int v = 0; v < (int)(sizeof rules / sizeof rules[0]); v++) {
    const struct rule *r = &rules[v];
    if (strcmp(fields[0], r->verb) != 0) continue;
    if (nfields < r->fields_min || nfields > r->fields_max) return "wrong number of fields";
    if (nfds < r->fds_min || nfds > r->fds_max) return "wrong number of fds";
    if (r->named && !name_ok(fields[1], 0)) return "bad name";
    *verb = v;
    return NULL;
  }
  return "unknown verb";
}

int name_ok(const char *s, int allow_empty) {
  size_t n = strlen(s);
  if (n == 0) return allow_empty;
  if (n > NAME_LEN_MAX || s[0] == '.') return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
      return 0;
  }
  return 1;
}

int parse_uint(const char *s, uint32_t max, uint32_t *out) {
  uint64_t v = 0;
  size_t n = strlen(s);
  if (n == 0 || n > 10) return -1;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  if (v > max) return -1;
  *out = (uint32_t)v;
  return 0;
}

int copy_kind(const char *s) {
  static const char *const kinds[] = {[K_IN] = "in", [K_PTY_IN] = "pty-in", [K_OUT] = "out", [K_PTY_OUT] = "pty-out"};
  for (int k = 0; k < (int)(sizeof kinds / sizeof kinds[0]); k++)
    if (strcmp(s, kinds[k]) == 0) return k;
  return -1;
}

const char *spawn_decode(char **fields, int nfields, struct spawn_req *out) {
  uint32_t argc, envc;
  if (!name_ok(fields[2], 1) || !name_ok(fields[3], 1)) return "bad file name";
  if (parse_uint(fields[4], SPAWN_ARGS_MAX, &argc) != 0 || argc == 0) return "bad argc";
  /* fields: SPAWN name pidfile exitfile argc argv[argc] envc env[envc] */
  if ((uint32_t)nfields < 6 + argc) return "wrong number of fields";
  if (parse_uint(fields[5 + argc], SPAWN_ARGS_MAX, &envc) != 0) return "bad envc";
  if ((uint32_t)nfields != 6 + argc + envc) return "wrong number of fields";
  out->name = fields[1];
  out->pidfile = fields[2];
  out->exitfile = fields[3];
  out->argv = &fields[5];
  out->env = &fields[6 + argc];
  fields[5 + argc] = NULL;
  fields[nfields] = NULL;
  return NULL;
}

int pidfile_parse(const char *buf, size_t len) {
  if (len > 0 && buf[len - 1] == '\n') len--;
  if (len == 0 || len > 7) return -1;
  int pid = 0;
  for (size_t i = 0; i < len; i++) {
    if (buf[i] < '0' || buf[i] > '9') return -1;
    pid = pid * 10 + (buf[i] - '0');
  }
  return pid >= 1 && pid <= 4194304 ? pid : -1;
}
