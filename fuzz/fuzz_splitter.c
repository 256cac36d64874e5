/* libFuzzer target: the line splitter (core/splitter.c).
 *
 * Input: 2 bytes of max_line (1..4096), 1 byte that cuts the rest into
 * chunks (their sizes come from a small generator seeded by it), then the
 * bytes to split. The same bytes go through one splitter in those chunks
 * and through another in one piece. A finding (abort) is:
 *   - any event longer than max_line, a PARTIAL chunk shorter than it, an
 *     event holding "\n" (a line never holds its terminator);
 *   - lines (events without LSB_LINE_CR) that differ between the two runs
 *     (core/splitter.h: the lines never depend on how input is cut);
 *   - more bytes in the lines than came in;
 * and anything AddressSanitizer or UBSan reports (reads past the input,
 * leaks, overflows). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/splitter.h"

typedef struct {
  unsigned char *data; /* the lines' events, each: flags, 4 bytes of length, bytes */
  size_t len, cap;
  size_t max_line;
  size_t line_bytes;
} events;

static void fail(const char *what) {
  fprintf(stderr, "fuzz_splitter: %s\n", what);
  abort();
}

static void add(events *ev, const void *p, size_t n) {
  if (ev->len + n > ev->cap) {
    size_t cap = ev->cap ? ev->cap : 1024;
    while (cap < ev->len + n) cap *= 2;
    ev->data = realloc(ev->data, cap);
    if (!ev->data) fail("out of memory");
    ev->cap = cap;
  }
  memcpy(ev->data + ev->len, p, n);
  ev->len += n;
}

static void on_line(void *ud, const char *line, size_t len, int flags) {
  events *ev = ud;
  unsigned char f = (unsigned char)flags;
  uint32_t n = (uint32_t)len;
  if (len > ev->max_line) fail("an event longer than max_line");
  if ((flags & LSB_LINE_PARTIAL) && len != ev->max_line) fail("a partial chunk shorter than max_line");
  if (memchr(line, '\n', len)) fail("an event holds a newline");
  if (flags & LSB_LINE_CR) return; /* redraws may come more than once */
  ev->line_bytes += len;
  add(ev, &f, 1);
  add(ev, &n, sizeof n);
  add(ev, line, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lsb_splitter a, b;
  events ea = {0}, eb = {0};
  size_t max_line, off;
  uint32_t seed;
  if (size < 3) return 0;
  max_line = ((size_t)data[0] << 8 | data[1]) % 4096 + 1;
  seed = data[2] * 2654435761u + 1;
  data += 3;
  size -= 3;
  ea.max_line = eb.max_line = max_line;

  lsb_splitter_init(&a, max_line);
  for (off = 0; off < size;) {
    size_t n;
    seed = seed * 1103515245u + 12345u;
    n = (seed >> 16) % 64 + 1; /* chunks of 1..64 bytes */
    if (n > size - off) n = size - off;
    if (lsb_splitter_feed(&a, (const char *)data + off, n, on_line, &ea) != 0) fail("feed failed");
    off += n;
  }
  lsb_splitter_finish(&a, on_line, &ea);
  lsb_splitter_free(&a);

  lsb_splitter_init(&b, max_line);
  if (lsb_splitter_feed(&b, (const char *)data, size, on_line, &eb) != 0) fail("feed failed");
  lsb_splitter_finish(&b, on_line, &eb);
  lsb_splitter_free(&b);

  if (ea.len != eb.len || (ea.len && memcmp(ea.data, eb.data, ea.len) != 0))
    fail("the lines differ with the input cut in chunks");
  if (ea.line_bytes > size) fail("more bytes in the lines than in the input");
  free(ea.data);
  free(eb.data);
  return 0;
}
