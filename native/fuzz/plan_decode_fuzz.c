/*
 * libFuzzer harness for nsexec's plan decoder and the path helpers that take the plan's strings.
 * Compiled with the files that hold them (plan.c, resolve.c, and sync.c for fail(), which they
 * reference); only pure functions are called (no syscall, no exit). Built and run by
 * scripts/fuzz-native.sh.
 *
 * Each input is tried two ways: as an encoded plan (every argument of every decoded op must lie
 * inside the input, and its strings go through clean_path/split_parent), and as one path string.
 */
#include "../nsexec/plan.c"
#include "../nsexec/resolve.c"
#include "../nsexec/sync.c"

/* The invariants a cleaned path keeps: absolute, no repeated slash, shorter than its buffer. */
static void check_clean(const char *path) {
  char clean[PATH_MAX];
  if (clean_path(path, clean, sizeof(clean)) < 0) {
    if (errno != ENAMETOOLONG) __builtin_trap();
    return;
  }
  size_t n = strlen(clean);
  if (clean[0] != '/' || n >= sizeof(clean) || strstr(clean, "//")) __builtin_trap();
  char parent[PATH_MAX], name[NAME_MAX + 1];
  if (split_parent(path, parent, name) < 0) {
    if (errno != ENAMETOOLONG && errno != EINVAL) __builtin_trap();
    return;
  }
  size_t nl = strlen(name);
  if (parent[0] != '/' || nl == 0 || nl > NAME_MAX || strchr(name, '/')) __builtin_trap();
  if (!strcmp(name, ".") || !strcmp(name, "..")) __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint32_t count = 0;
  const char *why = NULL;
  struct op *ops = decode_plan_buf(data, size, &count, &why);
  if (!ops && !why) __builtin_trap();
  if (ops) {
    for (uint32_t i = 0; i < count; i++) {
      for (uint16_t k = 0; k < ops[i].argc; k++) {
        const struct arg *a = &ops[i].args[k];
        if (a->p < data || a->len > size || a->p + a->len > data + size) __builtin_trap();
        if (a->len > 0 && a->p[a->len - 1] == '\0' && !memchr(a->p, '\0', a->len - 1)) check_clean((const char *)a->p);
      }
    }
    free_plan(ops, count);
  }
  /* The raw input as one string, whatever a plan would make of it. */
  char *s = malloc(size + 1);
  if (!s) return 0;
  memcpy(s, data, size);
  s[size] = '\0';
  check_clean(s);
  free(s);
  return 0;
}
