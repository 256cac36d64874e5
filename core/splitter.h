/* Line splitter: pure C, no I/O.  Bytes go in as they arrive; complete lines
 * come out through a callback, without their terminator.
 *
 *  - "\n" ends a line; "\r\n" ends a line too (the "\r" is dropped).
 *  - a "\r" not followed by "\n" is a carriage-return redraw (progress bars):
 *    the text before it is delivered at once with LSB_LINE_CR, and the next
 *    redraw starts empty.  Empty redraws are not delivered.  When a chunk of
 *    input ends with "\r", the redraw is delivered at once; if the next chunk
 *    starts with "\n", the same text then comes again as a line.  So the
 *    lines (events without LSB_LINE_CR) never depend on how input is cut.
 *  - a line longer than max_line bytes comes in max_line-byte chunks marked
 *    LSB_LINE_PARTIAL; the last chunk of the line is not marked.
 *  - bytes are passed through unchanged (NUL, invalid UTF-8).
 *  - lsb_splitter_finish() delivers a final unterminated line.
 */
#ifndef LSB_SPLITTER_H
#define LSB_SPLITTER_H

#include <stddef.h>

enum { LSB_LINE_PARTIAL = 1, LSB_LINE_CR = 2 };

typedef void (*lsb_line_cb)(void *ud, const char *line, size_t len, int flags);

typedef struct lsb_splitter {
  char *buf;        /* bytes of the line not yet terminated */
  size_t len, cap;
  size_t max_line;  /* > 0 */
  int pending_cr;   /* the last byte fed was a "\r" not yet resolved */
} lsb_splitter;

void lsb_splitter_init(lsb_splitter *s, size_t max_line);
void lsb_splitter_free(lsb_splitter *s);
/* Returns 0, or -1 when memory ran out (the bytes are then lost). */
int lsb_splitter_feed(lsb_splitter *s, const char *data, size_t len,
                      lsb_line_cb cb, void *ud);
void lsb_splitter_finish(lsb_splitter *s, lsb_line_cb cb, void *ud);

#endif
