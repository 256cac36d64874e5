/* SHA-256 against the FIPS 180-4 vectors, in one piece and byte by byte. */
#include <stdio.h>
#include <string.h>

#include "../sha256.h"

static int check(const char *msg, size_t len, size_t step, const char *want) {
  lsb_sha256 c;
  char hex[65];
  lsb_sha256_init(&c);
  for (size_t i = 0; i < len; i += step)
    lsb_sha256_update(&c, msg + i, len - i < step ? len - i : step);
  lsb_sha256_hex(&c, hex);
  if (strcmp(hex, want) != 0) {
    fprintf(stderr, "sha256 mismatch (len %zu step %zu): %s != %s\n", len, step, hex, want);
    return 1;
  }
  return 0;
}

int main(void) {
  static char million[1000000];
  const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  int fail = 0;
  memset(million, 'a', sizeof million);
  for (size_t step = 1; step <= 130; step += 43) {
    fail |= check("", 0, step, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    fail |= check("abc", 3, step, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    fail |= check(two, strlen(two), step, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  }
  fail |= check(million, sizeof million, 4096, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  if (!fail) puts("test_sha256: ok");
  return fail;
}
