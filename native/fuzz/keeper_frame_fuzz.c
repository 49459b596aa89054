/*
 * libFuzzer harness for berth-keeper's wire format (native/berth-keeper/frame.c): the split of a
 * frame into fields, the request check, SPAWN's decoding, names, numbers and pid files. Pure
 * functions only. Built and run by scripts/fuzz-native.sh.
 *
 * An input is one frame as the keeper hands it over: the first byte says how many fds came with
 * it (mod 17), the rest is the body (at most FRAME_MAX bytes, as the keeper allows). The body is
 * also tried as a pid file's content.
 */
#include <stdlib.h>
#include <string.h>

#include "../berth-keeper/frame.c"

static int in(const char *p, const char *buf, size_t len) { return p >= buf && p <= buf + len; }

/* What name_ok accepts, checked byte by byte another way. */
static void check_name(const char *s) {
  int ok = name_ok(s, 0);
  size_t n = strlen(s);
  int want = n >= 1 && n <= NAME_LEN_MAX && s[0] != '.' &&
             strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
  if (ok != want) __builtin_trap();
  if (name_ok(s, 1) != (n == 0 || want)) __builtin_trap();
}

static void check_uint(const char *s) {
  uint32_t v;
  if (parse_uint(s, SPAWN_ARGS_MAX, &v) != 0) return;
  char *end;
  unsigned long want = strtoul(s, &end, 10);
  if (*end || s[0] < '0' || s[0] > '9' || want != v || v > SPAWN_ARGS_MAX) __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size - 1 > FRAME_MAX) return 0;
  int nfds = data[0] % (FRAME_FDS_MAX + 1);
  size_t len = size - 1;
  char *body = malloc(len + 1);
  char **fields = malloc(sizeof(char *) * (FIELDS_MAX + 1));
  if (!body || !fields) abort();
  memcpy(body, data + 1, len);
  body[len] = '\0';

  int pid = pidfile_parse(body, len);
  if (pid != -1 && (pid < 1 || pid > 4194304 || len == 0 || len > 8)) __builtin_trap();

  int n = frame_split(body, len, fields, FIELDS_MAX);
  if (n == 0 || n < -1) __builtin_trap();
  if (n > 0) {
    /* The fields tile the body: each inside it, and their lengths plus the NULs add up to it. */
    size_t total = 0;
    for (int i = 0; i < n; i++) {
      if (!in(fields[i], body, len)) __builtin_trap();
      total += strlen(fields[i]) + (i > 0);
      check_name(fields[i]);
      check_uint(fields[i]);
      if (copy_kind(fields[i]) >= 0 && strcmp(fields[i], "in") && strcmp(fields[i], "out") &&
          strcmp(fields[i], "pty-in") && strcmp(fields[i], "pty-out"))
        __builtin_trap();
    }
    if (total != len) __builtin_trap();
    int verb = -1;
    const char *why = request_check(fields, n, nfds, &verb);
    if (!why && (verb < V_HELLO || verb > V_QUIT)) __builtin_trap();
    if (!why && verb == V_SPAWN) {
      struct spawn_req s;
      if (!spawn_decode(fields, n, &s)) {
        if (!name_ok(s.name, 0) || !name_ok(s.pidfile, 1) || !name_ok(s.exitfile, 1)) __builtin_trap();
        int argc = 0, envc = 0;
        while (s.argv[argc]) {
          if (!in(s.argv[argc], body, len) || ++argc > SPAWN_ARGS_MAX) __builtin_trap();
        }
        while (s.env[envc]) {
          if (!in(s.env[envc], body, len) || ++envc > SPAWN_ARGS_MAX) __builtin_trap();
        }
        if (argc < 1 || 6 + argc + envc != n) __builtin_trap();
      }
    }
  }
  free(fields);
  free(body);
  return 0;
}
