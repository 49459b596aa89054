/*
 * The ops that build the container's root filesystem: mounts, propagation, remounts, masked paths,
 * device nodes, symlinks, and the switch to the new root. Every path inside the rootfs goes
 * through resolve.c; a mount targets the opened fd (/proc/self/fd/N), never the path again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "nsexec.h"

enum { MK_NONE = 0, MK_DIR = 1, MK_FILE = 2, MK_ORDINARY_DIR = 3 };

/* Fails unless dest (inside root) is missing or a directory; a symlink, even to one, is refused. */
static void require_ordinary_dir(const char *root, const char *dest, const char *fstype) {
  int fd = open_in_root(root, dest, O_PATH | O_NOFOLLOW);
  if (fd < 0) { if (errno == ENOENT) return; fail("open mount target %s", dest); }
  struct stat st;
  if (fstat(fd, &st) < 0) fail("stat %s", dest);
  close(fd);
  if (!S_ISDIR(st.st_mode)) { errno = 0; fail("mount %s on %s: filesystem \"%s\" must be mounted on ordinary directory", fstype, dest, fstype); }
}

void op_mount(struct op *o) {
  const char *root = S(o, 0), *src = S(o, 1), *dest = S(o, 2), *fstype = S(o, 3);
  unsigned long flags = (unsigned long)N(o, 4);
  const char *data = S(o, 5);
  int mk = (int)N(o, 6);
  /* Without a root the destination is a host path the kernel takes as is (never a truncated copy). */
  char fdtarget[64];
  const char *target = dest;
  int tfd = -1;

  if (root[0]) {
    /* procfs and sysfs go on a plain directory only: never through a symlink the image made. */
    if (mk == MK_ORDINARY_DIR) require_ordinary_dir(root, dest, fstype);
    if ((mk == MK_DIR || mk == MK_ORDINARY_DIR) && mkdir_in_root(root, dest, 0755) < 0) fail("mkdir %s", dest);
    if (mk == MK_FILE && touch_in_root(root, dest) < 0) fail("create %s", dest);
    tfd = open_in_root(root, dest, O_PATH | (mk == MK_ORDINARY_DIR ? O_NOFOLLOW | O_DIRECTORY : 0));
    if (tfd < 0) fail("open mount target %s", dest);
    fdpath(tfd, fdtarget);
    target = fdtarget;
  }
  unsigned long first = flags;
  /* A bind mount ignores most flags: mount it, then remount with them. */
  int bind_remount = (flags & MS_BIND) && (flags & ~(MS_BIND | MS_REC | MS_SILENT)) != 0;
  if (bind_remount) first = flags & (MS_BIND | MS_REC | MS_SILENT);
  if (mount(src[0] ? src : NULL, target, fstype[0] ? fstype : NULL, first, data[0] ? data : NULL) < 0)
    fail("mount %s on %s (%s)", src, dest, fstype);
  if (bind_remount) {
    /* Re-open: the target path now names the new mount. */
    if (tfd >= 0) { close(tfd); tfd = open_in_root(root, dest, O_PATH); if (tfd < 0) fail("reopen %s", dest); fdpath(tfd, fdtarget); }
    unsigned long rf = (flags & ~MS_REC) | MS_REMOUNT | MS_BIND;
    if (mount(NULL, target, NULL, rf, NULL) < 0) {
      /* Flags the kernel locked on the source (e.g. from a user namespace) must be kept. */
      struct statvfs sv;
      if (errno != EPERM || statvfs(target, &sv) < 0) fail("remount %s", dest);
      if (sv.f_flag & ST_NOSUID) rf |= MS_NOSUID;
      if (sv.f_flag & ST_NODEV) rf |= MS_NODEV;
      if (sv.f_flag & ST_NOEXEC) rf |= MS_NOEXEC;
      if (sv.f_flag & ST_RDONLY) rf |= MS_RDONLY;
      if (mount(NULL, target, NULL, rf, NULL) < 0) fail("remount %s", dest);
    }
  }
  if (tfd >= 0) close(tfd);
}

/* Changes the propagation of the mount at path; with a root, path is resolved inside it. */
void op_set_propagation(struct op *o) {
  const char *root = S(o, 0), *path = S(o, 1);
  unsigned long flags = (unsigned long)N(o, 2);
  char fdtarget[64];
  const char *target = path;
  int fd = -1;
  if (root[0]) {
    fd = open_in_root(root, path, O_PATH);
    if (fd < 0) fail("open %s", path);
    fdpath(fd, fdtarget);
    target = fdtarget;
  }
  if (mount(NULL, target, NULL, flags, NULL) < 0) fail("set propagation of %s", path);
  if (fd >= 0) close(fd);
}

void op_remount(struct op *o) {
  const char *root = S(o, 0), *path = S(o, 1);
  unsigned long flags = (unsigned long)N(o, 2);
  int keep_locked = (int)N(o, 3);
  char fdtarget[64];
  const char *target = path;
  int fd = -1;
  if (root[0]) {
    fd = open_in_root(root, path, O_PATH);
    if (fd < 0) { if (errno == ENOENT) return; fail("open %s", path); }
    fdpath(fd, fdtarget);
    target = fdtarget;
  }
  if (keep_locked) {
    /* Flags the kernel locked (e.g. in a user namespace) must be repeated in a remount. */
    struct statvfs sv;
    if (statvfs(target, &sv) == 0) {
      if (sv.f_flag & ST_NOSUID) flags |= MS_NOSUID;
      if (sv.f_flag & ST_NODEV) flags |= MS_NODEV;
      if (sv.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
    }
  }
  if (mount(NULL, target, NULL, flags | MS_REMOUNT, NULL) < 0) {
    /* A path that is not yet a mount point must first become one (readonly paths). */
    if (errno == EINVAL && (flags & MS_BIND)) {
      if (mount(target, target, NULL, MS_BIND | MS_REC, NULL) < 0) fail("bind %s", path);
      if (fd >= 0) { close(fd); fd = open_in_root(root, path, O_PATH); if (fd < 0) fail("reopen %s", path); fdpath(fd, fdtarget); }
      if (mount(NULL, target, NULL, flags | MS_REMOUNT, NULL) < 0) fail("remount %s", path);
    } else fail("remount %s", path);
  }
  if (fd >= 0) close(fd);
}

void op_mask_path(struct op *o) {
  const char *path = S(o, 0);
  struct stat st;
  int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) { if (errno == ENOENT) return; fail("open masked path %s", path); }
  if (fstat(fd, &st) < 0) fail("stat %s", path);
  char target[64];
  fdpath(fd, target);
  if (S_ISDIR(st.st_mode)) {
    if (mount("tmpfs", target, "tmpfs", MS_RDONLY, NULL) < 0) fail("mask %s", path);
  } else {
    /* /dev/null inside the container must be the real null device before it covers anything. */
    int nfd = open("/dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC);
    struct stat ns;
    if (nfd < 0 || fstat(nfd, &ns) < 0) fail("open /dev/null");
    if (!S_ISCHR(ns.st_mode) || major(ns.st_rdev) != 1 || minor(ns.st_rdev) != 3) { errno = 0; fail("/dev/null is not the null device"); }
    char src[64];
    fdpath(nfd, src);
    if (mount(src, target, NULL, MS_BIND, NULL) < 0) fail("mask %s", path);
    close(nfd);
  }
  close(fd);
}

void op_mknod(struct op *o) {
  const char *root = S(o, 0), *path = S(o, 1);
  mode_t mode = (mode_t)N(o, 2);
  dev_t dev = makedev((unsigned)N(o, 3), (unsigned)N(o, 4));
  uid_t uid = (uid_t)N(o, 5);
  gid_t gid = (gid_t)N(o, 6);
  char parent[PATH_MAX], name[NAME_MAX + 1];
  if (split_parent(path, parent, name) < 0) fail("mknod %s", path);
  if (mkdir_in_root(root, parent, 0755) < 0) fail("mkdir %s", parent);
  int pfd = open_in_root(root, parent, O_PATH | O_DIRECTORY);
  if (pfd < 0) fail("open %s", parent);
  unlinkat(pfd, name, 0);
  if (mknodat(pfd, name, mode, dev) < 0) fail("mknod %s", path);
  int fd = openat(pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) fail("open %s", path);
  char p[64];
  fdpath(fd, p);
  /* mknod is subject to umask: set the exact mode. */
  if (chmod(p, mode & 07777) < 0) fail("chmod %s", path);
  if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0) fail("chown %s", path);
  close(fd);
  close(pfd);
}

void op_symlink(struct op *o) {
  const char *root = S(o, 0), *target = S(o, 1), *path = S(o, 2);
  char parent[PATH_MAX], name[NAME_MAX + 1];
  if (split_parent(path, parent, name) < 0) fail("symlink %s", path);
  if (mkdir_in_root(root, parent, 0755) < 0) fail("mkdir %s", parent);
  int pfd = open_in_root(root, parent, O_PATH | O_DIRECTORY);
  if (pfd < 0) fail("open %s", parent);
  if (symlinkat(target, pfd, name) < 0 && errno != EEXIST) fail("symlink %s", path);
  close(pfd);
}

void op_pivot_root(const char *root) {
  int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  int newroot = open(root, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (oldroot < 0 || newroot < 0) fail("open roots");
  if (fchdir(newroot) < 0) fail("chdir rootfs");
  if (syscall(SYS_pivot_root, ".", ".") < 0) fail("pivot_root(%s)", root);
  /* The old root is now stacked under the new one at "/": detach it without propagating. */
  if (fchdir(oldroot) < 0) fail("chdir old root");
  if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0) fail("make old root rslave");
  if (umount2(".", MNT_DETACH) < 0) fail("unmount old root");
  if (chdir("/") < 0) fail("chdir /");
  close(oldroot);
  close(newroot);
}

void op_move_root(const char *root) {
  if (chdir(root) < 0) fail("chdir rootfs");
  if (mount(root, "/", NULL, MS_MOVE, NULL) < 0) fail("move rootfs");
  if (chroot(".") < 0) fail("chroot");
  if (chdir("/") < 0) fail("chdir /");
}

/* In the runtime's own mount namespace (the container has none): only the process's root changes. */
void op_chroot(const char *root) {
  if (chdir(root) < 0) fail("chdir rootfs");
  if (chroot(".") < 0) fail("chroot %s", root);
  if (chdir("/") < 0) fail("chdir /");
}
