/* Local processes: uv_spawn in a process group of their own, stdout and
 * stderr through pipes into a stream, optional stdin, timeout and cancel
 * that signal the whole group. */
#ifndef LSB_PROCESS_H
#define LSB_PROCESS_H

#include "ctx.h"
#include "stream.h"

typedef struct lsb_spawn_opts {
  char **argv;          /* argv[0] is the program, searched in PATH */
  const char *cwd;      /* NULL: inherit */
  char **env;           /* NULL: inherit */
  double timeout;       /* seconds; <= 0: none */
  double grace;         /* seconds between SIGTERM and SIGKILL on timeout */
  const char *stdin_data;
  size_t stdin_len;
  int has_stdin;
} lsb_spawn_opts;

/* Start the process feeding `s`.  Returns 0, or a libuv error code (then
 * nothing runs and `s` is untouched apart from a transient reference) and
 * in *call the call that failed ("pipe()", "malloc()"; NULL: the spawn
 * itself: exec failed, or the child could not be set up). */
int lsb_process_spawn(lsb_ctx *ctx, lsb_stream *s, const lsb_spawn_opts *o,
                      int *pid, const char **call);

/* The Lua state closes: close every process's handles (its memory is freed
 * by their close callbacks, on the loop's last turns). */
void lsb_process_teardown_all(lsb_ctx *ctx);

#endif
