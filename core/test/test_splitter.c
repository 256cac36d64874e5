/* Unit and property tests of the line splitter alone (no Lua, no I/O). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../splitter.h"
#include "check.h"

typedef struct {
  char out[1 << 16];
  size_t len;
  int lines;
} sink;

/* Render events as text: one per line, "<flags>[data]" so that NULs and
 * line chunks compare exactly. */
static void collect(void *ud, const char *line, size_t len, int flags) {
  sink *k = ud;
  k->out[k->len++] = (char)('0' + flags);
  k->out[k->len++] = '[';
  memcpy(k->out + k->len, line, len);
  k->len += len;
  k->out[k->len++] = ']';
  k->lines++;
}


/* The events without LSB_LINE_CR ("0[..]" and "1[..]"), in order. */
static size_t lines_only(const char *in, size_t len, char *out) {
  size_t o = 0, i = 0;
  while (i < len) {
    size_t j = i + 2;
    while (j < len && !(in[j] == ']' && (j + 1 == len || in[j + 1] < '4'))) j++;
    if (in[i] != '2') {
      memcpy(out + o, in + i, j + 1 - i);
      o += j + 1 - i;
    }
    i = j + 1;
  }
  return o;
}

/* Feed in chunks of `chunk` bytes. With the whole input in one chunk the
 * events must be exactly `expect`; cut anywhere, the lines must be the same
 * and the redraws may only add to them. */
static void run_ex(const char *name, const char *in, size_t inlen,
                   size_t max_line, size_t chunk, const char *expect,
                   size_t explen, int exact) {
  lsb_splitter s;
  sink k = {{0}, 0, 0};
  static char a[1 << 16], b[1 << 16];
  lsb_splitter_init(&s, max_line);
  for (size_t off = 0; off < inlen; off += chunk) {
    size_t n = inlen - off < chunk ? inlen - off : chunk;
    lsb_splitter_feed(&s, in + off, n, collect, &k);
  }
  lsb_splitter_finish(&s, collect, &k);
  lsb_splitter_free(&s);
  if (chunk < inlen && !exact) {
    size_t la = lines_only(k.out, k.len, a), lb = lines_only(expect, explen, b);
    if (la != lb || memcmp(a, b, la) != 0) {
      failures++;
      fprintf(stderr, "FAIL %s (chunk %zu): lines '%.*s' want '%.*s'\n", name,
              chunk, (int)la, a, (int)lb, b);
    }
    return;
  }
  if (k.len != explen || memcmp(k.out, expect, explen) != 0) {
    failures++;
    fprintf(stderr, "FAIL %s (chunk %zu): got '%.*s' want '%.*s'\n", name,
            chunk, (int)k.len, k.out, (int)explen, expect);
  }
}

static void run(const char *name, const char *in, size_t inlen, size_t max_line,
                size_t chunk, const char *expect, size_t explen) {
  run_ex(name, in, inlen, max_line, chunk, expect, explen, 0);
}

#define CASE(name, in, max, expect)                                        \
  for (size_t c = 1; c <= sizeof(in); c++)                                 \
    run(name, in, sizeof(in) - 1, max, c, expect, sizeof(expect) - 1)

static void random_chunking(void) {
  /* the same bytes in any chunking give the same events */
  static char in[4096], la[1 << 16], lb[1 << 16];
  unsigned seed = 12345;
  for (int round = 0; round < 200; round++) {
    lsb_splitter a, b;
    sink ka = {{0}, 0, 0}, kb = {{0}, 0, 0};
    size_t n = 1 + (size_t)(seed % sizeof in), max = 1 + seed % 40;
    for (size_t i = 0; i < n; i++) {
      seed = seed * 1103515245u + 12345u;
      const char alphabet[] = "ab\n\r\0x";
      in[i] = alphabet[(seed >> 16) % 6];
    }
    lsb_splitter_init(&a, max);
    lsb_splitter_init(&b, max);
    lsb_splitter_feed(&a, in, n, collect, &ka);
    for (size_t off = 0; off < n;) {
      seed = seed * 1103515245u + 12345u;
      size_t c = 1 + (seed >> 16) % 17;
      if (c > n - off) c = n - off;
      lsb_splitter_feed(&b, in + off, c, collect, &kb);
      off += c;
    }
    lsb_splitter_finish(&a, collect, &ka);
    lsb_splitter_finish(&b, collect, &kb);
    lsb_splitter_free(&a);
    lsb_splitter_free(&b);
    ka.len = lines_only(ka.out, ka.len, la);
    kb.len = lines_only(kb.out, kb.len, lb);
    if (ka.len != kb.len || memcmp(la, lb, ka.len) != 0) {
      failures++;
      fprintf(stderr, "FAIL random chunking round %d\n", round);
    }
  }
}

int main(void) {
  CASE("simple", "a\nbb\n", 100, "0[a]0[bb]");
  CASE("final partial line", "a\nlast", 100, "0[a]0[last]");
  CASE("empty lines", "\n\n", 100, "0[]0[]");
  CASE("crlf", "a\r\nb\r\n", 100, "0[a]0[b]");
  CASE("cr redraw", "10%\r20%\r30%\ndone\n", 100, "2[10%]2[20%]0[30%]0[done]");
  CASE("leading cr is not an event", "\rx\n", 100, "0[x]");
  CASE("cr at the end", "x\r", 100, "2[x]");
  run_ex("redraw delivered before its end is known", "ab\r\ncd\r", 7, 100, 3,
         "2[ab]0[ab]2[cd]", 15, 1);
  CASE("long line in chunks", "abcdefg\nhi\n", 3, "1[abc]1[def]0[g]0[hi]");
  CASE("exact multiple", "abcdef\n", 3, "1[abc]0[def]");
  CASE("long redraw", "abcd\r", 3, "1[abc]2[d]");
  CASE("nul bytes", "a\0b\n", 100, "0[a\0b]");
  CASE("invalid utf8", "\xff\xfe\n", 100, "0[\xff\xfe]");
  CASE("nothing", "", 100, "");
  random_chunking();
  return check_report("splitter");
}
