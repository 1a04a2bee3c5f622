/*
 * Slow flash for benchmarks: LD_PRELOAD'ed into the daemon, every fsync/fdatasync sleeps
 * POSD_FSYNC_DELAY_MS (as on eMMC) after doing the real call, and is counted in
 * POSD_FSYNC_COUNT_FILE (two little-endian u64 in a shared mapping: fsync, fdatasync) so the
 * bench reads counts at any moment, before and after a run. Built by the bench with cc.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static long delay_ns = -1;
static volatile uint64_t *counts;
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);

static void setup(void) {
  if (delay_ns >= 0) return;
  const char *d = getenv("POSD_FSYNC_DELAY_MS");
  delay_ns = d ? (long)(atof(d) * 1e6) : 0;
  const char *f = getenv("POSD_FSYNC_COUNT_FILE");
  if (f) {
    int fd = open(f, O_RDWR | O_CREAT, 0600);
    if (fd >= 0 && ftruncate(fd, 16) == 0) {
      void *m = mmap(0, 16, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      if (m != MAP_FAILED) counts = m;
    }
    if (fd >= 0) close(fd);
  }
  real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
}

static void slow(int which) {
  if (counts) __atomic_add_fetch(&counts[which], 1, __ATOMIC_RELAXED);
  if (delay_ns <= 0) return;
  struct timespec ts = {delay_ns / 1000000000L, delay_ns % 1000000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

int fsync(int fd) {
  setup();
  int r = real_fsync(fd);
  slow(0);
  return r;
}

int fdatasync(int fd) {
  setup();
  int r = real_fdatasync(fd);
  slow(1);
  return r;
}
