/*
 * Resolving paths without escaping: inside the rootfs (openat2 RESOLVE_IN_ROOT, so a symlink in an
 * image cannot lead outside it) and below a procfs root (RESOLVE_BENEATH | RESOLVE_NO_XDEV, so
 * nothing mounted over /proc is written). clean_path and split_parent are pure and fuzzed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nsexec.h"

/* The inode number of a procfs root directory. */
#define PROC_ROOT_INO 1

/*
 * path as an absolute path with every run of slashes collapsed into out (size bytes): "a//b" and
 * "/a/b" name the same file inside a root, and a config may repeat slashes far past PATH_MAX (runc
 * accepts that). Fails with ENAMETOOLONG, writing nothing else, when even that does not fit.
 */
int clean_path(const char *path, char *out, size_t size) {
  if (size < 2) { errno = ENAMETOOLONG; return -1; }
  size_t n = 0;
  out[n++] = '/';
  for (const char *p = path; *p; p++) {
    if (*p == '/' && out[n - 1] == '/') continue;
    if (n + 1 >= size) { errno = ENAMETOOLONG; return -1; }
    out[n++] = *p;
  }
  out[n] = '\0';
  return 0;
}

int open_in_root(const char *root, const char *path, int flags) {
  char clean[PATH_MAX];
  if (clean_path(path, clean, sizeof(clean)) < 0) return -1;
  int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) return -1;
  struct open_how how = {0};
  how.flags = flags | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  const char *rel = clean + 1;
  int fd = (int)syscall(SYS_openat2, rootfd, *rel ? rel : ".", &how, sizeof(how));
  int saved = errno;
  close(rootfd);
  errno = saved;
  return fd;
}

/*
 * mkdir -p inside root. Each prefix is resolved with RESOLVE_IN_ROOT; a component that does not
 * resolve is either created, or, if it is a dangling symlink, its target (taken inside the root)
 * is created instead, so nothing is ever made outside the rootfs.
 */
static int mkdir_in_root_depth(const char *root, const char *path, mode_t mode, int depth) {
  if (depth > 40) { errno = ELOOP; return -1; }
  /* The whole path is checked before anything is made: a path too long fails having made nothing. */
  char clean[PATH_MAX];
  if (clean_path(path, clean, sizeof(clean)) < 0) return -1;
  char cur[PATH_MAX + NAME_MAX + 2] = ""; /* same size as next: next is only ever < PATH_MAX */
  const char *p = clean;
  while (*p) {
    while (*p == '/') p++;
    if (!*p) break;
    const char *end = strchr(p, '/');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    char comp[NAME_MAX + 1];
    if (len > NAME_MAX) { errno = ENAMETOOLONG; return -1; }
    memcpy(comp, p, len);
    comp[len] = '\0';
    p += len;
    char next[PATH_MAX + NAME_MAX + 2];
    if (snprintf(next, sizeof(next), "%s/%s", cur, comp) >= PATH_MAX) { errno = ENAMETOOLONG; return -1; }
    int fd = open_in_root(root, next, O_PATH);
    if (fd >= 0) { close(fd); snprintf(cur, sizeof(cur), "%s", next); continue; }
    if (errno != ENOENT) return -1;
    int pfd = open_in_root(root, cur[0] ? cur : "/", O_PATH | O_DIRECTORY);
    if (pfd < 0) return -1;
    char target[PATH_MAX];
    ssize_t n = readlinkat(pfd, comp, target, sizeof(target) - 1);
    if (n >= 0) {
      target[n] = '\0';
      close(pfd);
      /* Slashes are collapsed before the length counts: the target may repeat them too. */
      char redirected[PATH_MAX * 2 + NAME_MAX + 3];
      int w = target[0] == '/' ? snprintf(redirected, sizeof(redirected), "%s/%s", target, p)
                               : snprintf(redirected, sizeof(redirected), "%s/%s/%s", cur, target, p);
      if (w < 0 || (size_t)w >= sizeof(redirected)) { errno = ENAMETOOLONG; return -1; }
      return mkdir_in_root_depth(root, redirected, mode, depth + 1);
    }
    int r = mkdirat(pfd, comp, mode);
    int e = errno;
    close(pfd);
    if (r < 0 && e != EEXIST) { errno = e; return -1; }
    snprintf(cur, sizeof(cur), "%s", next);
  }
  return 0;
}

int mkdir_in_root(const char *root, const char *path, mode_t mode) {
  return mkdir_in_root_depth(root, path, mode, 0);
}

/*
 * The parent directory and last component of path (repeated and trailing slashes dropped). Fails
 * rather than truncate: ENAMETOOLONG when either part does not fit, EINVAL when there is no last
 * component to create ("/", ".", "..").
 */
int split_parent(const char *path, char parent[PATH_MAX], char name[NAME_MAX + 1]) {
  if (clean_path(path, parent, PATH_MAX) < 0) return -1;
  size_t len = strlen(parent);
  while (len > 1 && parent[len - 1] == '/') parent[--len] = '\0';
  char *slash = strrchr(parent, '/'); /* never NULL: a clean path starts with one */
  const char *last = slash + 1;
  size_t nlen = strlen(last);
  if (nlen == 0 || strcmp(last, ".") == 0 || strcmp(last, "..") == 0) { errno = EINVAL; return -1; }
  if (nlen > NAME_MAX) { errno = ENAMETOOLONG; return -1; }
  memcpy(name, last, nlen + 1);
  slash[slash == parent ? 1 : 0] = '\0';
  return 0;
}

/* Create a file (not following a final symlink) inside root, parents included. */
int touch_in_root(const char *root, const char *path) {
  char parent[PATH_MAX], name[NAME_MAX + 1];
  if (split_parent(path, parent, name) < 0) return -1;
  if (mkdir_in_root(root, parent, 0755) < 0) return -1;
  int pfd = open_in_root(root, parent, O_PATH | O_DIRECTORY);
  if (pfd < 0) return -1;
  int fd = openat(pfd, name, O_CREAT | O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
  int e = errno;
  close(pfd);
  if (fd < 0) { errno = e; return -1; }
  close(fd);
  return 0;
}

/* out holds 64 bytes: "/proc/self/fd/" and an int always fit. */
void fdpath(int fd, char out[64]) { snprintf(out, 64, "/proc/self/fd/%d", fd); }

/*
 * Opens a file under /proc for writing only through a procfs nothing is mounted into: "/proc" must
 * be the root of a procfs mount (not a symlink, another filesystem or a procfs subdirectory bound
 * there), and the rest of the path is resolved below it without crossing a mount, so a file or
 * directory mounted over any component (even another procfs file) is refused, not written.
 */
int open_proc_for_write(const char *path) {
  if (strncmp(path, "/proc/", 6) != 0 || !path[6]) { errno = 0; fail("%s is not under /proc", path); }
  int root = open("/proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (root < 0) fail("open /proc");
  struct statfs sf;
  struct stat st;
  if (fstatfs(root, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC || fstat(root, &st) < 0 || st.st_ino != PROC_ROOT_INO) {
    errno = 0;
    fail("/proc is not the root of a procfs mount (writing %s)", path);
  }
  struct open_how how = {0};
  how.flags = O_WRONLY | O_NOFOLLOW | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS;
  int fd = (int)syscall(SYS_openat2, root, path + 6, &how, sizeof(how));
  if (fd < 0 && errno == EXDEV) fail("open %s: something is mounted over it or over a directory on its way", path);
  if (fd < 0) fail("open %s", path);
  close(root);
  if (fstatfs(fd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC) { errno = 0; fail("%s is not on procfs", path); }
  return fd;
}
