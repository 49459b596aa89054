/* Test helper for seccomp.integration.test.ts: reads a struct sock_filter[] from stdin, installs it
 * with seccomp(SECCOMP_SET_MODE_FILTER, flags), then probes a few syscalls and prints one
 * "name=result" line each (result: return value, or -errno). Usage: apply-filter FLAGS DIR [x32]
 * After the filter is installed only raw syscalls are used, so an allow-list profile needs just
 * the probes plus write and exit_group. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static char out[4096];
static size_t used;

static void emit(const char *name, long rc) {
	char line[128];
	long v = rc < 0 ? -(long)errno : rc;
	int n = snprintf(line, sizeof line, "%s=%ld\n", name, v);
	if (n > 0 && used + (size_t)n < sizeof out) {
		memcpy(out + used, line, (size_t)n);
		used += (size_t)n;
	}
}

static void flush(void) {
	syscall(SYS_write, 1, out, used);
	used = 0;
}

int main(int argc, char **argv) {
	static struct sock_filter insns[4096];
	size_t got = fread(insns, 1, sizeof insns, stdin);
	if (argc < 3 || got == 0 || got % sizeof insns[0] != 0) {
		fprintf(stderr, "usage: apply-filter FLAGS DIR [x32] < program\n");
		return 2;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/made-by-probe", argv[2]);
	struct sock_fprog prog = { .len = (unsigned short)(got / sizeof insns[0]), .filter = insns };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		perror("prctl");
		return 3;
	}
	long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, strtoul(argv[1], NULL, 0), &prog);
	if (fd < 0) {
		fprintf(stderr, "seccomp: %s\n", strerror(errno));
		return 4;
	}
	emit("seccomp", fd);
	emit("getpid", syscall(SYS_getpid) > 0 ? 0 : -1);
	emit("mkdir", syscall(SYS_mkdir, path, 0700));
	long pid = syscall(SYS_getpid);
	emit("kill0", syscall(SYS_kill, pid, 0));
	emit("kill18", syscall(SYS_kill, pid, SIGCONT));
	emit("lseek_hi", syscall(SYS_lseek, -1, 1L << 33, 0));
	emit("lseek_lo", syscall(SYS_lseek, -1, 5L, 0));
	emit("mount", syscall(SYS_mount, NULL, NULL, NULL, 0, NULL));
	flush();
	if (argc > 3 && strcmp(argv[3], "x32") == 0) {
		/* x32 getpid: an x86_64 filter without SCMP_ARCH_X32 kills the thread with SIGSYS. */
		emit("x32", syscall(0x40000000 | SYS_getpid));
		flush();
	}
	syscall(SYS_exit_group, 0);
	return 0;
}
