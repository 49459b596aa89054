/*
 * libFuzzer harness for fsops' request decoder: the bytes berth-containerd sends it carry names,
 * xattr names and values taken from image layers. fsops.c is compiled in whole with its main
 * renamed; only the pure decoding is called (handle() would make real syscalls). Built and run by
 * scripts/fuzz-native.sh.
 */
#define main fsops_main
#include "../fsops.c"
#undef main

static char *scratch;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!scratch && !(scratch = malloc(MAX_REQUEST + MAX_ARGS))) return 0;
  /* A stream of requests, decoded as fsops' loop does: each takes its bytes, or the rest waits. */
  size_t off = 0;
  for (;;) {
    struct args a;
    unsigned char op;
    size_t used = 0;
    int r = next_request(data + off, size - off, &op, &a, scratch, &used);
    if (r <= 0) break;
    if (used < 5 || used > size - off) __builtin_trap();
    if (a.n < 0 || a.n > MAX_ARGS) __builtin_trap();
    for (int i = 0; i < a.n; i++) {
      /* Every argument is a NUL-terminated copy inside scratch. */
      if (a.v[i] < scratch || a.v[i] + a.len[i] >= scratch + MAX_REQUEST + MAX_ARGS) __builtin_trap();
      if (a.v[i][a.len[i]] != '\0') __builtin_trap();
    }
    if (valid_request(op, &a)) (void)names_have_nul(op, &a);
    off += used;
  }
  return 0;
}
