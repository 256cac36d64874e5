/* Unit tests of the pure parts of core/util.c: base64, the signal table,
 * errors as (name, message). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../util.h"

static void b64(const char *in, const char *want, const char *want_nopad) {
  char out[64];
  unsigned char back[64];
  size_t n = strlen(in), len;
  CHECK(lsb_base64_encode((const unsigned char *)in, n, out, 1) == strlen(want));
  CHECK(strcmp(out, want) == 0);
  lsb_base64_encode((const unsigned char *)in, n, out, 0);
  CHECK(strcmp(out, want_nopad) == 0);
  len = lsb_base64_decode(want, strlen(want), back);
  CHECK(len == n && memcmp(back, in, n) == 0);
  len = lsb_base64_decode(want_nopad, strlen(want_nopad), back);
  CHECK(len == n && memcmp(back, in, n) == 0);
}

static void test_base64(void) {
  unsigned char buf[300], back[300];
  char enc[LSB_BASE64_LEN(300) + 1];
  /* RFC 4648's vectors */
  b64("", "", "");
  b64("f", "Zg==", "Zg");
  b64("fo", "Zm8=", "Zm8");
  b64("foo", "Zm9v", "Zm9v");
  b64("foob", "Zm9vYg==", "Zm9vYg");
  b64("fooba", "Zm9vYmE=", "Zm9vYmE");
  b64("foobar", "Zm9vYmFy", "Zm9vYmFy");
  /* every byte value, every length */
  for (int i = 0; i < 300; i++) buf[i] = (unsigned char)(i * 7 + 3);
  for (size_t n = 0; n <= 300; n++) {
    size_t len = lsb_base64_encode(buf, n, enc, 1);
    CHECK(len == LSB_BASE64_LEN(n));
    CHECK(lsb_base64_decode(enc, len, back) == n && memcmp(back, buf, n) == 0);
  }
  /* whitespace is skipped (PEM, MIME lines) */
  CHECK(lsb_base64_decode("Zm9v\nYmFy\r\n", 11, back) == 6 && memcmp(back, "foobar", 6) == 0);
  /* not base64 */
  CHECK(lsb_base64_decode("Zm9v!", 5, back) == (size_t)-1);
  CHECK(lsb_base64_decode("Z", 1, back) == (size_t)-1);
  CHECK(lsb_base64_decode("Zg", 2, back) == 1); /* padding is optional... */
  CHECK(lsb_base64_decode("Zg=", 3, back) == (size_t)-1);
  CHECK(lsb_base64_decode("Zm9v=", 5, back) == (size_t)-1); /* ...but must fit */
  CHECK(lsb_base64_decode("Zg==Zg==", 8, back) == (size_t)-1);
  CHECK(lsb_base64_decode("Zm8==", 5, back) == (size_t)-1);
}

static void test_signals(void) {
  char buf[16];
  int sig = 0;
  CHECK(strcmp(lsb_signame(SIGTERM, buf, sizeof buf), "TERM") == 0);
  CHECK(strcmp(lsb_signame(SIGKILL, buf, sizeof buf), "KILL") == 0);
  CHECK(strcmp(lsb_signame(99, buf, sizeof buf), "SIG99") == 0);
  CHECK(lsb_signum("INT") == SIGINT);
  CHECK(lsb_signum("SIGHUP") == SIGHUP);
  CHECK(lsb_signum("NOPE") == 0);
  for (int i = 0; lsb_signal_at(i, &sig); i++) {
    const char *name = lsb_signal_at(i, &sig);
    CHECK(lsb_signum(name) == sig);
    CHECK(strcmp(lsb_signame(sig, buf, sizeof buf), name) == 0);
  }
  CHECK(lsb_signal_at(-1, NULL) == NULL);
}

static void test_errors(void) {
  lsb_err e = {{0}, NULL}, c = {{0}, NULL};
  char name[24];
  CHECK(!lsb_err_isset(&e));
  lsb_err_set(&e, "ETIMEDOUT", "command timed out after %gs", 1.5);
  CHECK(lsb_err_isset(&e));
  CHECK(strcmp(e.name, "ETIMEDOUT") == 0);
  CHECK(strcmp(lsb_err_text(&e), "ETIMEDOUT: command timed out after 1.5s") == 0);
  lsb_err_copy(&c, &e);
  lsb_err_set(&e, "ECANCELED", "%s", "closed"); /* replaces; the copy stays */
  CHECK(strcmp(lsb_err_text(&e), "ECANCELED: closed") == 0);
  CHECK(strcmp(lsb_err_text(&c), "ETIMEDOUT: command timed out after 1.5s") == 0);
  lsb_err_copy(&c, NULL);
  CHECK(!lsb_err_isset(&c) && c.text == NULL);
  lsb_err_set_errno(&e, 2, "open %s", "/x");
  CHECK(strcmp(e.name, "ENOENT") == 0);
  CHECK(strcmp(lsb_err_text(&e), "ENOENT: open /x: No such file or directory") == 0);
  CHECK(strcmp(lsb_errno_name(13, name, sizeof name), "EACCES") == 0);
  lsb_err_free(&e);
  CHECK(!lsb_err_isset(&e));
}

int main(void) {
  test_base64();
  test_signals();
  test_errors();
  return check_report("util");
}
