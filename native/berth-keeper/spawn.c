/*
 * SPAWN's fork and exec: the child gets exactly the fds it was given as 0..n-1 (every other fd is
 * closed, the keeper's own are close-on-exec besides), default signal dispositions, an empty signal
 * mask, and execve(argv[0], argv, env). An exec that fails exits 127.
 */
#include "keeper.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

pid_t spawn(char *const argv[], char *const env[], const int *fds, int nfds) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL); /* SIGKILL, SIGSTOP and glibc's own refuse: fine */
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  /* Above n first, so that placing one fd never overwrites another still to be placed. */
  int moved[FRAME_FDS_MAX];
  for (int i = 0; i < nfds; i++)
    if ((moved[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, nfds)) < 0) _exit(127);
  for (int i = 0; i < nfds; i++)
    if (dup2(moved[i], i) < 0) _exit(127);
  if (syscall(SYS_close_range, (unsigned)nfds, ~0U, 0) != 0) _exit(127);
  execve(argv[0], argv, env);
  _exit(127);
}
