/*
 * Reading the plan: from its fd, decoded (decode_plan_buf is pure and fuzzed), and the checked
 * accessors through which every op takes its arguments. See plan.h for the encoding.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nsexec.h"

/* Frees what decode_plan_buf allocated (ops[0..n), any of whose args may still be NULL). */
void free_plan(struct op *ops, uint32_t n) {
  if (!ops) return;
  for (uint32_t i = 0; i < n; i++) free(ops[i].args);
  free(ops);
}

unsigned char *read_plan(int fd, size_t *out_len) {
  size_t cap = 1 << 16, len = 0;
  unsigned char *buf = malloc(cap);
  if (!buf) fail("out of memory");
  /* The plan is length-prefixed by its header so we stop at its end (the fd stays open). */
  for (;;) {
    if (len == cap) {
      if (cap >= MAX_PLAN) { errno = 0; fail("plan larger than %zu bytes", MAX_PLAN); }
      unsigned char *bigger = realloc(buf, cap * 2);
      if (!bigger) fail("out of memory");
      buf = bigger;
      cap *= 2;
    }
    ssize_t n = read(fd, buf + len, cap - len);
    if (n < 0) { if (errno == EINTR) continue; fail("read plan"); }
    if (n == 0) break;
    len += n;
    if (len >= 8) {
      uint32_t total; memcpy(&total, buf + 4, 4);
      if (len >= total) break;
    }
  }
  *out_len = len;
  return buf;
}

/*
 * Decodes a plan in buf (len bytes) into ops whose arguments point into buf. Pure: no syscalls and
 * no exit, so it can be fuzzed (native/fuzz/). Returns NULL with a reason in *why when the plan is
 * malformed; every length is checked against the plan's end before it is used.
 */
struct op *decode_plan_buf(const unsigned char *buf, size_t len, uint32_t *count, const char **why) {
  if (len < 12 || memcmp(buf, "BRTH", 4) != 0) { *why = "bad plan header"; return NULL; }
  uint32_t total, n;
  memcpy(&total, buf + 4, 4);
  memcpy(&n, buf + 8, 4);
  if (total > len || total < 12) { *why = "truncated plan"; return NULL; }
  /* Every op takes at least 4 bytes: a count past that is a lie, not an allocation to attempt. */
  if (n > (total - 12) / 4) { *why = "truncated op"; return NULL; }
  struct op *ops = calloc(n ? n : 1, sizeof(*ops));
  if (!ops) { *why = "out of memory"; return NULL; }
  size_t off = 12;
  for (uint32_t i = 0; i < n; i++) {
    if (total - off < 4) { *why = "truncated op"; goto bad; }
    memcpy(&ops[i].code, buf + off, 2);
    memcpy(&ops[i].argc, buf + off + 2, 2);
    off += 4;
    ops[i].args = calloc(ops[i].argc ? ops[i].argc : 1, sizeof(struct arg));
    if (!ops[i].args) { *why = "out of memory"; goto bad; }
    for (uint16_t a = 0; a < ops[i].argc; a++) {
      if (total - off < 4) { *why = "truncated arg"; goto bad; }
      memcpy(&ops[i].args[a].len, buf + off, 4);
      off += 4;
      if (total - off < ops[i].args[a].len) { *why = "truncated arg data"; goto bad; }
      ops[i].args[a].p = buf + off;
      off += ops[i].args[a].len;
    }
  }
  *count = n;
  return ops;
bad:
  free_plan(ops, n);
  return NULL;
}

struct op *decode_plan(const unsigned char *buf, size_t len, uint32_t *count) {
  const char *why = NULL;
  struct op *ops = decode_plan_buf(buf, len, count, &why);
  if (!ops) { errno = 0; fail("%s", why); }
  return ops;
}

const char *S(struct op *o, int i) {
  if (i < 0 || i >= o->argc) { errno = 0; fail("op %d: missing argument %d", o->code, i); }
  const struct arg *a = &o->args[i];
  if (a->len == 0 || a->p[a->len - 1] != '\0') { errno = 0; fail("op %d: argument %d is not a string", o->code, i); }
  /* A NUL inside would silently cut the string short: refused, never truncated. */
  if (memchr(a->p, '\0', a->len - 1)) { errno = 0; fail("op %d: argument %d contains a NUL byte", o->code, i); }
  return (const char *)a->p;
}

int64_t N(struct op *o, int i) {
  if (i < 0 || i >= o->argc || o->args[i].len != 8) { errno = 0; fail("op %d: argument %d is not an integer", o->code, i); }
  int64_t v;
  memcpy(&v, o->args[i].p, 8);
  return v;
}

/* A NULL-terminated vector of the string arguments from..from+count-1 (all of them present). */
char **collect_strings(struct op *o, int from, int count) {
  if (from < 0 || count < 0 || from > o->argc || count > o->argc - from) {
    errno = 0;
    fail("op %d: %d strings from argument %d, but it has %d arguments", o->code, count, from, o->argc);
  }
  char **v = calloc((size_t)count + 1, sizeof(char *));
  if (!v) fail("out of memory");
  for (int i = 0; i < count; i++) v[i] = (char *)S(o, from + i);
  return v;
}

/* An argument count from the plan, checked to lie within the op's own arguments past `from`. */
int count_arg(struct op *o, int i, int from) {
  int64_t n = N(o, i);
  if (n < 0 || n > o->argc - from) { errno = 0; fail("op %d: argument count %lld out of range", o->code, (long long)n); }
  return (int)n;
}
