/*
 * fork-orphans N: makes N children that exit at once and exits without reaping them, so that all N
 * are reparented (as zombies) to the nearest subreaper: berth-keeper's orphans test. vfork, so
 * that thousands of them take a second, not a minute.
 */
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 0;
  for (int i = 0; i < n; i++)
    if (vfork() == 0) _exit(0);
  return 0;
}
