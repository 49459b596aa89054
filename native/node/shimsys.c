/*
 * shimsys: the few syscalls berth-shim needs that Node does not expose. Loaded by src/common/sys.ts
 * as a Node-API addon. No policy here: each function is one syscall with its errors thrown as
 * JavaScript errors carrying errno's name in `code`.
 *
 *   setChildSubreaper()          prctl(PR_SET_CHILD_SUBREAPER): orphans of the container reparent
 *                                to the shim instead of to the host's init.
 *   waitPid(pid) -> [code, sig] | null
 *                                waitid(P_PID, WEXITED|WNOHANG|__WALL) on one pid: reaps it if it
 *                                has exited. One pid at a time so that libuv's own children (which
 *                                libuv reaps itself) are never taken from it.
 *   recvFd(sockFd, timeoutMs) -> fd
 *                                receives one file descriptor sent with SCM_RIGHTS (the pty master
 *                                an OCI runtime sends to --console-socket).
 *   setWinsize(fd, rows, cols)   ioctl(TIOCSWINSZ) on a pty master.
 *   dup(fd) -> fd                a second descriptor of a pty master: a Node tty stream closes the
 *                                descriptor it reads when the terminal has no slave open, while
 *                                the shim must keep the master for the process's whole life.
 *   mount(source, target, fstype, flags, data)
 *                                mount(2) of the task's rootfs (TypeScript turns mount(8) options
 *                                into flags and data; this only makes the call).
 *   umount(target, flags)        umount2(2).
 *   pipe() -> [readFd, writeFd]  pipe2(O_CLOEXEC): a container's stdin, whose write end the shim
 *                                keeps (libuv's stdio pipes are closed when the runtime exits).
 *   tryLock(fd) -> bool          flock(LOCK_EX | LOCK_NB): false when another open file holds it.
 *                                berth-containerd holds its --root this way: the kernel drops the
 *                                lock when the holder dies, zombie or not.
 *   socketpair() -> [fd, fd]     socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC): a keeper's
 *                                connection, or a test's.
 *   sendFds(sockFd, data, fds) -> bytes sent
 *                                one sendmsg of data (a Uint8Array) with 0-16 fds as SCM_RIGHTS
 *                                (MSG_NOSIGNAL), then plain sends of whatever it left unsent. The
 *                                socket may be non-blocking (libuv owns it): EAGAIN is thrown like
 *                                any errno, its message and `sent` saying how many bytes went.
 *   openPty() -> [master, slave] a new pty (posix_openpt, unlockpt, TIOCGPTPEER), both O_NOCTTY
 *                                and close-on-exec: a terminal for tests of what relays one.
 *   listenUnix(path) -> fd       socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC), bind(path), listen():
 *                                a keeper's listening socket, made on the caller's thread (a Node
 *                                server would bind a turn of the event loop later).
 *   spawnKeeper(path, fd3, fd4) -> pid
 *                                posix_spawn of path with no arguments and no environment, stdin,
 *                                stdout and stderr /dev/null, fd3 and fd4 as 3 and 4, in a session of
 *                                its own, every signal at its default and none blocked. glibc's
 *                                posix_spawn is a vfork: its cost does not grow with the caller's
 *                                memory, where Node's spawn copies the page tables of the whole shim.
 *                                The child is not libuv's: the caller reaps it (waitPid).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, strerrorname_np(err) ? strerrorname_np(err) : "EUNKNOWN", msg);
  return NULL;
}

static int arg_int(napi_env env, napi_callback_info info, size_t want, int32_t *out) {
  napi_value argv[4];
  size_t argc = 4;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    napi_throw_type_error(env, NULL, "missing argument");
    return -1;
  }
  for (size_t i = 0; i < want; i++) {
    if (napi_get_value_int32(env, argv[i], &out[i]) != napi_ok) {
      napi_throw_type_error(env, NULL, "arguments must be integers");
      return -1;
    }
  }
  return 0;
}

/* [a, b] as a JavaScript array. */
static napi_value int_pair(napi_env env, int a, int b) {
  napi_value result, x, y;
  napi_create_array_with_length(env, 2, &result);
  napi_create_int32(env, a, &x);
  napi_create_int32(env, b, &y);
  napi_set_element(env, result, 0, x);
  napi_set_element(env, result, 1, y);
  return result;
}

static napi_value set_child_subreaper(napi_env env, napi_callback_info info) {
  (void)info;
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) return throw_errno(env, "prctl(PR_SET_CHILD_SUBREAPER)", errno);
  return NULL;
}

static napi_value wait_pid(napi_env env, napi_callback_info info) {
  int32_t a[1];
  if (arg_int(env, info, 1, a) != 0) return NULL;
  siginfo_t si;
  memset(&si, 0, sizeof si);
  if (waitid(P_PID, (id_t)a[0], &si, WEXITED | WNOHANG | __WALL) != 0) {
    return throw_errno(env, "waitid", errno);
  }
  napi_value result;
  if (si.si_pid == 0) {
    napi_get_null(env, &result);
    return result;
  }
  /* [exit code, signal number]: one of them is 0 unless the process was killed by signal 0. */
  int code = si.si_code == CLD_EXITED ? si.si_status : 0;
  int sig = si.si_code == CLD_EXITED ? 0 : si.si_status;
  return int_pair(env, code, sig);
}

static napi_value recv_fd(napi_env env, napi_callback_info info) {
  int32_t a[2];
  if (arg_int(env, info, 2, a) != 0) return NULL;
  struct pollfd p = {.fd = a[0], .events = POLLIN};
  int n;
  do n = poll(&p, 1, a[1]);
  while (n < 0 && errno == EINTR);
  if (n < 0) return throw_errno(env, "poll", errno);
  if (n == 0) return throw_errno(env, "recvFd", ETIMEDOUT);
  char data[256];
  char control[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  ssize_t r;
  do r = recvmsg(a[0], &msg, MSG_CMSG_CLOEXEC);
  while (r < 0 && errno == EINTR);
  if (r < 0) return throw_errno(env, "recvmsg", errno);
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (c == NULL || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len < CMSG_LEN(sizeof(int)))
    return throw_errno(env, "recvFd: no file descriptor received", EBADMSG);
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  napi_value result;
  napi_create_int32(env, fd, &result);
  return result;
}

static napi_value set_winsize(napi_env env, napi_callback_info info) {
  int32_t a[3];
  if (arg_int(env, info, 3, a) != 0) return NULL;
  struct winsize ws = {.ws_row = (unsigned short)a[1], .ws_col = (unsigned short)a[2]};
  if (ioctl(a[0], TIOCSWINSZ, &ws) != 0) return throw_errno(env, "ioctl(TIOCSWINSZ)", errno);
  return NULL;
}

static napi_value dup_fd(napi_env env, napi_callback_info info) {
  int32_t a[1];
  if (arg_int(env, info, 1, a) != 0) return NULL;
  int fd = fcntl(a[0], F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "dup", errno);
  napi_value result;
  napi_create_int32(env, fd, &result);
  return result;
}

/*
 * A JavaScript string argument into buf (len bytes); "" for null/undefined. Returns 0, or -1 with an
 * exception. Never a shortened string: one that does not fit whole is refused (Node-API copies only
 * whole characters, so a cut could fall anywhere short of len - 1), and so is one with a NUL inside
 * (the syscall would see only what comes before it).
 */
static int arg_string(napi_env env, napi_value v, char *buf, size_t len) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_null || t == napi_undefined) {
    buf[0] = 0;
    return 0;
  }
  size_t need, got;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &need) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected a string");
    return -1;
  }
  if (need >= len) {
    napi_throw_range_error(env, "ENAMETOOLONG", "string too long");
    return -1;
  }
  if (napi_get_value_string_utf8(env, v, buf, len, &got) != napi_ok || got != need) {
    napi_throw_type_error(env, NULL, "expected a string");
    return -1;
  }
  if (memchr(buf, '\0', got)) {
    napi_throw_type_error(env, "EINVAL", "string contains a NUL byte");
    return -1;
  }
  return 0;
}

static napi_value do_mount(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  size_t argc = 5;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 5) {
    napi_throw_type_error(env, NULL, "mount(source, target, fstype, flags, data)");
    return NULL;
  }
  static char source[4096], target[4096], fstype[256], data[8192];
  int64_t flags;
  if (arg_string(env, argv[0], source, sizeof source) || arg_string(env, argv[1], target, sizeof target) ||
      arg_string(env, argv[2], fstype, sizeof fstype) || arg_string(env, argv[4], data, sizeof data))
    return NULL;
  if (napi_get_value_int64(env, argv[3], &flags) != napi_ok) {
    napi_throw_type_error(env, NULL, "flags must be a number");
    return NULL;
  }
  if (mount(source[0] ? source : NULL, target, fstype[0] ? fstype : NULL, (unsigned long)flags, data[0] ? data : NULL) != 0)
    return throw_errno(env, "mount", errno);
  return NULL;
}

static napi_value do_umount(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  size_t argc = 2;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  static char target[4096];
  int32_t flags = 0;
  if (argc < 1 || arg_string(env, argv[0], target, sizeof target)) return NULL;
  if (argc > 1) napi_get_value_int32(env, argv[1], &flags);
  if (umount2(target, flags) != 0) return throw_errno(env, "umount2", errno);
  return NULL;
}

static napi_value make_pipe(napi_env env, napi_callback_info info) {
  (void)info;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return throw_errno(env, "pipe2", errno);
  return int_pair(env, fds[0], fds[1]);
}

static napi_value try_lock(napi_env env, napi_callback_info info) {
  int32_t a[1];
  if (arg_int(env, info, 1, a) != 0) return NULL;
  bool taken = true;
  if (flock(a[0], LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return throw_errno(env, "flock", errno);
    taken = false;
  }
  napi_value result;
  napi_get_boolean(env, taken, &result);
  return result;
}

static napi_value make_socketpair(napi_env env, napi_callback_info info) {
  (void)info;
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return throw_errno(env, "socketpair", errno);
  return int_pair(env, fds[0], fds[1]);
}

/* The most fds one sendFds carries: the keeper's protocol takes at most 16 per frame. */
#define SEND_FDS_MAX 16

/* An errno error whose message and `sent` property say how many bytes went before it. */
static napi_value throw_send_errno(napi_env env, int err, size_t sent, size_t len) {
  char msg[200];
  snprintf(msg, sizeof msg, "sendFds: %s (sent %zu of %zu bytes)", strerror(err), sent, len);
  napi_value code, text, error, n;
  napi_create_string_utf8(env, strerrorname_np(err) ? strerrorname_np(err) : "EUNKNOWN", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, code, text, &error);
  napi_create_double(env, (double)sent, &n);
  napi_set_named_property(env, error, "sent", n);
  napi_throw(env, error);
  return NULL;
}

static napi_value send_fds(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  size_t argc = 3;
  int32_t sock;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3 || napi_get_value_int32(env, argv[0], &sock) != napi_ok) {
    napi_throw_type_error(env, NULL, "sendFds(sockFd, data, fds)");
    return NULL;
  }
  bool is_typed, is_array;
  napi_typedarray_type type;
  size_t len;
  void *data;
  if (napi_is_typedarray(env, argv[1], &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, argv[1], &type, &len, &data, NULL, NULL) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "data must be a Uint8Array");
    return NULL;
  }
  uint32_t nfds;
  if (napi_is_array(env, argv[2], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, argv[2], &nfds) != napi_ok) {
    napi_throw_type_error(env, NULL, "fds must be an array of integers");
    return NULL;
  }
  /* More fds than a frame may carry, or fds with no byte to carry them, is the caller's mistake. */
  if (nfds > SEND_FDS_MAX || (nfds > 0 && len == 0)) return throw_send_errno(env, EINVAL, 0, len);
  int fds[SEND_FDS_MAX];
  for (uint32_t i = 0; i < nfds; i++) {
    napi_value v;
    if (napi_get_element(env, argv[2], i, &v) != napi_ok || napi_get_value_int32(env, v, &fds[i]) != napi_ok) {
      napi_throw_type_error(env, NULL, "fds must be an array of integers");
      return NULL;
    }
  }
  union {
    char buf[CMSG_SPACE(sizeof(int) * SEND_FDS_MAX)];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof control);
  struct iovec iov = {.iov_base = data, .iov_len = len};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
  if (nfds > 0) {
    msg.msg_control = control.buf;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
  }
  ssize_t n;
  do n = sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) return throw_send_errno(env, errno, 0, len);
  /* The fds went with the first byte; the rest of the data follows without them. */
  size_t sent = (size_t)n;
  while (sent < len) {
    n = send(sock, (char *)data + sent, len - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return throw_send_errno(env, errno, sent, len);
    sent += (size_t)n;
  }
  napi_value result;
  napi_create_double(env, (double)sent, &result);
  return result;
}

static napi_value open_pty(napi_env env, napi_callback_info info) {
  (void)info;
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return throw_errno(env, "posix_openpt", errno);
  int slave = unlockpt(master) == 0 ? ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC) : -1;
  if (slave < 0) {
    int err = errno;
    close(master);
    return throw_errno(env, "openPty", err);
  }
  return int_pair(env, master, slave);
}

static napi_value listen_unix(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  size_t argc = 1;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) {
    napi_throw_type_error(env, NULL, "missing argument");
    return NULL;
  }
  /* sun_path whole, with its NUL: a longer path is refused, never cut. */
  if (arg_string(env, argv[0], addr.sun_path, sizeof addr.sun_path) != 0) return NULL;
  if (addr.sun_path[0] == 0) {
    napi_throw_type_error(env, "EINVAL", "an empty socket path");
    return NULL;
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 16) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "bind/listen", err);
  }
  napi_value result;
  napi_create_int32(env, fd, &result);
  return result;
}

/* The lowest fd a spawn's sources are moved to first, so that no dup2 onto 3 or 4 overwrites a
 * source still to be moved. */
#define SPAWN_SOURCE_FLOOR 16

static napi_value spawn_keeper(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  size_t argc = 3;
  char path[4096];
  int32_t fd3, fd4;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) {
    napi_throw_type_error(env, NULL, "missing argument");
    return NULL;
  }
  if (arg_string(env, argv[0], path, sizeof path) != 0) return NULL;
  if (napi_get_value_int32(env, argv[1], &fd3) != napi_ok || napi_get_value_int32(env, argv[2], &fd4) != napi_ok) {
    napi_throw_type_error(env, NULL, "fds must be integers");
    return NULL;
  }
  int src3 = fcntl(fd3, F_DUPFD_CLOEXEC, SPAWN_SOURCE_FLOOR);
  int src4 = src3 < 0 ? -1 : fcntl(fd4, F_DUPFD_CLOEXEC, SPAWN_SOURCE_FLOOR);
  if (src3 < 0 || src4 < 0) {
    int err = errno;
    if (src3 >= 0) close(src3);
    return throw_errno(env, "spawnKeeper: fcntl(F_DUPFD_CLOEXEC)", err);
  }
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  int err = posix_spawn_file_actions_init(&fa);
  if (err == 0) {
    err = posix_spawnattr_init(&at);
    if (err != 0) posix_spawn_file_actions_destroy(&fa);
  }
  if (err != 0) {
    close(src3);
    close(src4);
    return throw_errno(env, "spawnKeeper: init", err);
  }
  for (int i = 0; i < 3 && err == 0; i++)
    err = posix_spawn_file_actions_addopen(&fa, i, "/dev/null", i == 0 ? O_RDONLY : O_WRONLY, 0);
  if (err == 0) err = posix_spawn_file_actions_adddup2(&fa, src3, 3);
  if (err == 0) err = posix_spawn_file_actions_adddup2(&fa, src4, 4);
  if (err == 0) err = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  if (err == 0) err = posix_spawnattr_setsigmask(&at, &none);
  if (err == 0) err = posix_spawnattr_setsigdefault(&at, &all);
  pid_t pid = -1;
  char *args[] = {path, NULL};
  char *envp[] = {NULL};
  if (err == 0) err = posix_spawn(&pid, path, &fa, &at, args, envp);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  close(src3);
  close(src4);
  if (err != 0) return throw_errno(env, "spawnKeeper: posix_spawn", err);
  napi_value result;
  napi_create_int32(env, pid, &result);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"setChildSubreaper", NULL, set_child_subreaper, NULL, NULL, NULL, napi_default, NULL},
      {"waitPid", NULL, wait_pid, NULL, NULL, NULL, napi_default, NULL},
      {"recvFd", NULL, recv_fd, NULL, NULL, NULL, napi_default, NULL},
      {"setWinsize", NULL, set_winsize, NULL, NULL, NULL, napi_default, NULL},
      {"dup", NULL, dup_fd, NULL, NULL, NULL, napi_default, NULL},
      {"mount", NULL, do_mount, NULL, NULL, NULL, napi_default, NULL},
      {"umount", NULL, do_umount, NULL, NULL, NULL, napi_default, NULL},
      {"pipe", NULL, make_pipe, NULL, NULL, NULL, napi_default, NULL},
      {"tryLock", NULL, try_lock, NULL, NULL, NULL, napi_default, NULL},
      {"socketpair", NULL, make_socketpair, NULL, NULL, NULL, napi_default, NULL},
      {"sendFds", NULL, send_fds, NULL, NULL, NULL, napi_default, NULL},
      {"openPty", NULL, open_pty, NULL, NULL, NULL, napi_default, NULL},
      {"listenUnix", NULL, listen_unix, NULL, NULL, NULL, napi_default, NULL},
      {"spawnKeeper", NULL, spawn_keeper, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
