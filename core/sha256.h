/* SHA-256 (FIPS 180-4), pure C: one-shot and streaming. */
#ifndef LSB_SHA256_H
#define LSB_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct lsb_sha256 {
  uint32_t h[8];
  uint64_t len;      /* bytes hashed */
  unsigned char buf[64];
  size_t n;          /* bytes in buf */
} lsb_sha256;

void lsb_sha256_init(lsb_sha256 *c);
void lsb_sha256_update(lsb_sha256 *c, const void *data, size_t len);
void lsb_sha256_final(lsb_sha256 *c, unsigned char out[32]);
/* hex of the digest so far (the context stays usable); out: 65 bytes */
void lsb_sha256_hex(const lsb_sha256 *c, char out[65]);

#endif
