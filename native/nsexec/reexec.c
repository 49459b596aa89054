/*
 * The runtime binary must not be writable from inside a container (/proc/self/exe, CVE-2019-5736):
 * nsexec re-executes itself from a sealed memfd copy before it reads the plan.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nsexec.h"

static int is_sealed_self(void) {
  int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  int seals = fcntl(fd, F_GET_SEALS);
  close(fd);
  return seals >= 0 && (seals & (F_SEAL_SEAL | F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW)) ==
                           (F_SEAL_SEAL | F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW);
}

void reexec_from_sealed_copy(char **argv) {
  if (is_sealed_self()) return;
  int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (src < 0) fail("open /proc/self/exe");
  int mfd = memfd_create("berth-nsexec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0) fail("memfd_create");
  struct stat st;
  if (fstat(src, &st) < 0) fail("fstat self");
  off_t off = 0;
  while (off < st.st_size) {
    ssize_t n = sendfile(mfd, src, &off, st.st_size - off);
    if (n <= 0) fail("copy self");
  }
  close(src);
  if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW) < 0) fail("seal self");
  extern char **environ;
  syscall(SYS_execveat, mfd, "", argv, environ, AT_EMPTY_PATH);
  fail("execveat sealed copy");
}
