/* Benchmark helper: prints N lines, one every MS milliseconds, each holding
 * the CLOCK_MONOTONIC time at which it was written (seconds, as luasible.now
 * reports them), flushed at once. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 100, ms = argc > 2 ? atoi(argv[2]) : 20;
  struct timespec ts, delay = {ms / 1000, (long)(ms % 1000) * 1000000L};
  for (int i = 0; i < n; i++) {
    nanosleep(&delay, NULL);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    printf("%lld.%09ld\n", (long long)ts.tv_sec, ts.tv_nsec);
    fflush(stdout);
  }
  return 0;
}
