/*
 * Power cut for crash tests: LD_PRELOAD'ed into the daemon. Just before each fsync/fdatasync of
 * a file named POSD_POWER_CUT_FILES (a ':'-separated list of full paths), the file's content as it
 * stands is copied to `{path}.synced`: what that fsync is sure to put on disk. After a SIGKILL
 * the test puts the `.synced` copies in place of the files, which is what a power cut would have
 * left (nothing written after the last fsync survives). Built by the test with cc.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static int watched(const char *path) {
  const char *list = getenv("POSD_POWER_CUT_FILES");
  if (!list) return 0;
  size_t n = strlen(path);
  for (const char *p = list; *p;) {
    const char *end = strchr(p, ':');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len == n && strncmp(p, path, n) == 0) return 1;
    if (!end) break;
    p = end + 1;
  }
  return 0;
}

static void snapshot(int fd) {
  char link[64], path[4096], tmp[4200], dst[4200];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof path - 1);
  if (n <= 0) return;
  path[n] = 0;
  if (!watched(path)) return;
  pthread_mutex_lock(&lock);
  snprintf(tmp, sizeof tmp, "%s.synced.tmp", path);
  snprintf(dst, sizeof dst, "%s.synced", path);
  int in = open(path, O_RDONLY);
  int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (in >= 0 && out >= 0) {
    static char buf[1 << 16];
    ssize_t r;
    int ok = 1;
    while ((r = read(in, buf, sizeof buf)) > 0)
      if (write(out, buf, (size_t)r) != r) ok = 0;
    if (r < 0) ok = 0;
    close(out);
    out = -1;
    if (ok) rename(tmp, dst);
  }
  if (in >= 0) close(in);
  if (out >= 0) close(out);
  pthread_mutex_unlock(&lock);
}

int fsync(int fd) {
  if (!real_fsync) real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  snapshot(fd);
  return real_fsync(fd);
}

int fdatasync(int fd) {
  if (!real_fdatasync) real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  snapshot(fd);
  return real_fdatasync(fd);
}
