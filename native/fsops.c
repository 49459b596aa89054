/*
 * fsops: the file-system calls Node has no binding for (mknod and the l*xattr family), for
 * berth-containerd's layer application and diffing (src/containerd/archive/fsops.ts).
 *
 * Why it exists: Node cannot create device nodes or read/write extended attributes. This program
 * is a long-lived child that performs one syscall per request and reports the result. It holds no
 * policy: TypeScript resolves every path inside the layer root and decides what to call.
 *
 * Protocol on stdin/stdout, little-endian, strictly in order (replies come in request order, so
 * the caller may pipeline many requests):
 *   request  u32 length of the rest, u8 op, then arguments, each u32 length + bytes
 *   reply    u32 length of the rest, i32 errno (0 = success), then result bytes
 * Ops:
 *   1 MKNOD      path, mode (u32), major (u32), minor (u32)   -> nothing
 *   2 LSETXATTR  path, name, value                            -> nothing
 *   3 LGETXATTR  path, name                                   -> the value
 *   4 LLISTXATTR path                                         -> names, each NUL-terminated
 * A malformed request ends the program with status 2 (the caller sees EOF), after the replies to
 * every request before it are written: the caller then knows which request it stopped on. EOF on
 * stdin ends it with status 0. A path or name with a NUL inside is answered EINVAL (as a C string it would name
 * something else). Decoding (next_request, valid_request) is pure, so native/fuzz/ can fuzz it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>

enum { OP_MKNOD = 1, OP_LSETXATTR = 2, OP_LGETXATTR = 3, OP_LLISTXATTR = 4 };
enum { MAX_ARGS = 4, MAX_REQUEST = 1 << 20, XATTR_BUF = 65536 };

struct buf {
  unsigned char *data;
  size_t len, cap;
};

static void __attribute__((noreturn)) die(int status) { _exit(status); }

static void reserve(struct buf *b, size_t extra) {
  if (b->len + extra <= b->cap) return;
  size_t cap = b->cap ? b->cap : 65536;
  while (cap < b->len + extra) cap *= 2;
  unsigned char *p = realloc(b->data, cap);
  if (!p) die(3);
  b->data = p;
  b->cap = cap;
}

static void put_u32(unsigned char *p, uint32_t v) {
  p[0] = v & 0xff;
  p[1] = (v >> 8) & 0xff;
  p[2] = (v >> 16) & 0xff;
  p[3] = (v >> 24) & 0xff;
}

static uint32_t get_u32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void reply(struct buf *out, int err, const void *data, size_t len) {
  reserve(out, 8 + len);
  put_u32(out->data + out->len, (uint32_t)(4 + len));
  put_u32(out->data + out->len + 4, (uint32_t)err);
  if (len) memcpy(out->data + out->len + 8, data, len);
  out->len += 8 + len;
}

static void flush(struct buf *out) {
  size_t off = 0;
  while (off < out->len) {
    ssize_t n = write(STDOUT_FILENO, out->data + off, out->len - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      die(4);
    }
    off += (size_t)n;
  }
  out->len = 0;
}

struct args {
  /* Each argument is copied NUL-terminated so paths and names can be passed to libc as is. */
  char *v[MAX_ARGS];
  size_t len[MAX_ARGS];
  int n;
};

static int parse_args(unsigned char *p, size_t len, struct args *a, char *scratch) {
  a->n = 0;
  while (len > 0) {
    if (a->n == MAX_ARGS || len < 4) return -1;
    uint32_t l = get_u32(p);
    if (l > len - 4) return -1;
    memcpy(scratch, p + 4, l);
    scratch[l] = '\0';
    a->v[a->n] = scratch;
    a->len[a->n] = l;
    a->n++;
    scratch += l + 1;
    p += 4 + l;
    len -= 4 + l;
  }
  return 0;
}

static int arg_u32(const struct args *a, int i, uint32_t *v) {
  if (a->len[i] != 4) return -1;
  *v = get_u32((const unsigned char *)a->v[i]);
  return 0;
}

/*
 * The next request in data (len bytes buffered): 1 with its op, its arguments (copied
 * NUL-terminated into scratch, which holds MAX_REQUEST + MAX_ARGS bytes) and *used, the bytes it
 * took; 0 when more bytes must be read first; -1 when it is malformed.
 */
static int next_request(const unsigned char *data, size_t len, unsigned char *op, struct args *a, char *scratch,
                        size_t *used) {
  if (len < 4) return 0;
  uint32_t rlen = get_u32(data);
  if (rlen < 1 || rlen > MAX_REQUEST) return -1;
  if (len - 4 < rlen) return 0;
  /* parse_args writes through a non-const pointer only into scratch, never into data. */
  if (parse_args((unsigned char *)data + 5, rlen - 1, a, scratch) < 0) return -1;
  *op = data[4];
  *used = 4 + (size_t)rlen;
  return 1;
}

/* Whether a request's arguments fit its op (count, 4-byte integers); an unknown op does not. */
static int valid_request(unsigned char op, const struct args *a) {
  uint32_t v;
  switch (op) {
    case OP_MKNOD: return a->n == 4 && !arg_u32(a, 1, &v) && !arg_u32(a, 2, &v) && !arg_u32(a, 3, &v);
    case OP_LSETXATTR: return a->n == 3;
    case OP_LGETXATTR: return a->n == 2;
    case OP_LLISTXATTR: return a->n == 1;
    default: return 0;
  }
}

/* Whether the path (and, for the xattr calls, the name) has a NUL inside: libc would stop there. */
static int names_have_nul(unsigned char op, const struct args *a) {
  int names = op == OP_LSETXATTR || op == OP_LGETXATTR ? 2 : 1;
  for (int i = 0; i < names && i < a->n; i++)
    if (memchr(a->v[i], '\0', a->len[i])) return 1;
  return 0;
}

static char xattr_buf[XATTR_BUF];

/* Ends the program on a malformed request, the earlier requests' replies written first. */
static void __attribute__((noreturn)) malformed(struct buf *out) {
  flush(out);
  die(2);
}

static void handle(unsigned char op, const struct args *a, struct buf *out) {
  if (!valid_request(op, a)) malformed(out);
  if (names_have_nul(op, a)) {
    reply(out, EINVAL, NULL, 0);
    return;
  }
  switch (op) {
    case OP_MKNOD: {
      uint32_t mode, major, minor;
      if (arg_u32(a, 1, &mode) || arg_u32(a, 2, &major) || arg_u32(a, 3, &minor)) malformed(out);
      int rc = mknod(a->v[0], (mode_t)mode, makedev(major, minor));
      reply(out, rc < 0 ? errno : 0, NULL, 0);
      return;
    }
    case OP_LSETXATTR: {
      int rc = lsetxattr(a->v[0], a->v[1], a->v[2], a->len[2], 0);
      reply(out, rc < 0 ? errno : 0, NULL, 0);
      return;
    }
    case OP_LGETXATTR: {
      ssize_t n = lgetxattr(a->v[0], a->v[1], xattr_buf, sizeof xattr_buf);
      if (n < 0)
        reply(out, errno, NULL, 0);
      else
        reply(out, 0, xattr_buf, (size_t)n);
      return;
    }
    case OP_LLISTXATTR: {
      ssize_t n = llistxattr(a->v[0], xattr_buf, sizeof xattr_buf);
      if (n < 0)
        reply(out, errno, NULL, 0);
      else
        reply(out, 0, xattr_buf, (size_t)n);
      return;
    }
    default:
      malformed(out);
  }
}

int main(void) {
  struct buf in = {0}, out = {0};
  /* Room for every argument of the largest request plus their terminating NULs. */
  char *scratch = malloc(MAX_REQUEST + MAX_ARGS);
  if (!scratch) die(3);
  size_t start = 0;
  for (;;) {
    reserve(&in, 65536);
    ssize_t n = read(STDIN_FILENO, in.data + in.len, in.cap - in.len);
    if (n < 0) {
      if (errno == EINTR) continue;
      die(4);
    }
    if (n == 0) {
      flush(&out);
      return start == in.len ? 0 : 2;
    }
    in.len += (size_t)n;
    /* Handle every complete request now buffered, then answer them with one write. */
    for (;;) {
      struct args a;
      unsigned char op;
      size_t used;
      int r = next_request(in.data + start, in.len - start, &op, &a, scratch, &used);
      if (r < 0) malformed(&out);
      if (r == 0) {
        /* Room for the whole of a request whose length is known (it is at most MAX_REQUEST). */
        if (in.len - start >= 4) reserve(&in, 4 + (size_t)get_u32(in.data + start));
        break;
      }
      handle(op, &a, &out);
      start += used;
    }
    flush(&out);
    memmove(in.data, in.data + start, in.len - start);
    in.len -= start;
    start = 0;
  }
}
