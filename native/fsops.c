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
 * A malformed request ends the program with status 2 (the caller sees EOF); EOF on stdin ends it
 * with status 0.
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

static void die(int status) { _exit(status); }

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

static char xattr_buf[XATTR_BUF];

static void handle(unsigned char op, const struct args *a, struct buf *out) {
  switch (op) {
    case OP_MKNOD: {
      uint32_t mode, major, minor;
      if (a->n != 4 || arg_u32(a, 1, &mode) || arg_u32(a, 2, &major) || arg_u32(a, 3, &minor)) die(2);
      int rc = mknod(a->v[0], (mode_t)mode, makedev(major, minor));
      reply(out, rc < 0 ? errno : 0, NULL, 0);
      return;
    }
    case OP_LSETXATTR: {
      if (a->n != 3) die(2);
      int rc = lsetxattr(a->v[0], a->v[1], a->v[2], a->len[2], 0);
      reply(out, rc < 0 ? errno : 0, NULL, 0);
      return;
    }
    case OP_LGETXATTR: {
      if (a->n != 2) die(2);
      ssize_t n = lgetxattr(a->v[0], a->v[1], xattr_buf, sizeof xattr_buf);
      if (n < 0)
        reply(out, errno, NULL, 0);
      else
        reply(out, 0, xattr_buf, (size_t)n);
      return;
    }
    case OP_LLISTXATTR: {
      if (a->n != 1) die(2);
      ssize_t n = llistxattr(a->v[0], xattr_buf, sizeof xattr_buf);
      if (n < 0)
        reply(out, errno, NULL, 0);
      else
        reply(out, 0, xattr_buf, (size_t)n);
      return;
    }
    default:
      die(2);
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
    while (in.len - start >= 4) {
      uint32_t len = get_u32(in.data + start);
      if (len < 1 || len > MAX_REQUEST) die(2);
      if (in.len - start - 4 < len) {
        reserve(&in, len + 4);
        break;
      }
      struct args a;
      if (parse_args(in.data + start + 5, len - 1, &a, scratch) < 0) die(2);
      handle(in.data[start + 4], &a, &out);
      start += 4 + len;
    }
    flush(&out);
    memmove(in.data, in.data + start, in.len - start);
    in.len -= start;
    start = 0;
  }
}
