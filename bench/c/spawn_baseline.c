/*
 * spawn_baseline: the baseline for luasible's local process spawning.
 *
 *   spawn_baseline N
 *
 * Runs posix_spawn("/bin/sh", {"sh", "-c", "true"}) followed by waitpid,
 * N times one after another, and prints the elapsed wall-clock seconds
 * (monotonic clock) on stdout. Exits 1 if a spawn fails or a child does
 * not exit with status 0.
 *
 * Build: see bench/Makefile.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

int main(int argc, char **argv)
{
    char *child_argv[] = { "sh", "-c", "true", NULL };
    struct timespec t0, t1;
    long n, i;
    char *end;

    if (argc != 2) {
        fprintf(stderr, "usage: %s N\n", argv[0]);
        return 2;
    }
    n = strtol(argv[1], &end, 10);
    if (*argv[1] == '\0' || *end != '\0' || n < 0) {
        fprintf(stderr, "spawn_baseline: N must be a number >= 0: %s\n", argv[1]);
        return 2;
    }

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (i = 0; i < n; i++) {
        pid_t pid;
        int status, rc;

        rc = posix_spawn(&pid, "/bin/sh", NULL, NULL, child_argv, environ);
        if (rc != 0) {
            fprintf(stderr, "spawn_baseline: posix_spawn: %s\n", strerror(rc));
            return 1;
        }
        while (waitpid(pid, &status, 0) < 0) {
            if (errno != EINTR) {
                perror("spawn_baseline: waitpid");
                return 1;
            }
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "spawn_baseline: child %ld failed (status %d)\n", (long)pid, status);
            return 1;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);

    printf("%.6f\n", (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return 0;
}
