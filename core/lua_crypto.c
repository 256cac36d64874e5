/* luasible.core.crypto: the primitives of Ansible Vault and of the template
 * filters (hash, password_hash), on OpenSSL's libcrypto (EVP) and libcrypt
 * (libxcrypt).  Translation only: no state of its own.
 *
 *   random(n)                        n bytes from the CSPRNG
 *   digest(name, data)               raw digest (md5 sha1 sha224 sha256 sha384 sha512)
 *   hmac(name, key, data)            raw HMAC with one of those digests
 *   pbkdf2_sha256(pw, salt, iter, n) n bytes of PBKDF2-HMAC-SHA256
 *   aes256_ctr(key, iv, data)        AES-256-CTR (the same call both ways)
 *   equal(a, b)                      constant-time comparison (the length is not secret)
 *   crypt(password, setting)         crypt(3): "$6$salt", "$5$rounds=N$salt", ...
 *   hex(s), unhex(s)                 lower-case hex; unhex accepts either case
 *
 * Failures are the fail tuple nil, "NAME: message", "NAME"; wrong argument
 * types raise.  Key material the C holds (derived keys, the crypt state, the
 * cipher context) is wiped with OPENSSL_cleanse before it is released; what
 * is handed back to Lua is a Lua string, owned by Lua. */
/* SHA256_Transform and SHA256_CTX's state (public, deprecated since 3.0):
 * the PBKDF2 loop below; without them (a libcrypto that dropped them) it is
 * PKCS5_PBKDF2_HMAC's. */
#define OPENSSL_API_COMPAT 0x10101000L
#include <crypt.h>
#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/opensslv.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <uv.h>

#include "lua_core.h"

/* the digests offered: a fixed list, so that no name reaches OpenSSL that
 * the docs do not promise */
static const EVP_MD *md_by_name(const char *name) {
  if (strcmp(name, "md5") == 0) return EVP_md5();
  if (strcmp(name, "sha1") == 0) return EVP_sha1();
  if (strcmp(name, "sha224") == 0) return EVP_sha224();
  if (strcmp(name, "sha256") == 0) return EVP_sha256();
  if (strcmp(name, "sha384") == 0) return EVP_sha384();
  if (strcmp(name, "sha512") == 0) return EVP_sha512();
  return NULL;
}

/* the last OpenSSL error as a fail tuple */
static int fail_ssl(lua_State *L, const char *what) {
  unsigned long e = ERR_get_error();
  char buf[256];
  if (e) {
    ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return lsb_fail(L, "ECRYPTO", "%s: %s", what, buf);
  }
  return lsb_fail(L, "ECRYPTO", "%s failed", what);
}

/* a scratch buffer owned by Lua (a userdata left on the stack): freed by
 * the collector even when a later call raises; the caller wipes it */
static unsigned char *scratch(lua_State *L, size_t n) {
  return lua_newuserdatauv(L, n ? n : 1, 0);
}

/* random(n) -> n bytes */
static int crypto_random(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  luaL_argcheck(L, n >= 0 && n <= INT_MAX, 1, "length out of range");
  luaL_Buffer b;
  unsigned char *out = (unsigned char *)luaL_buffinitsize(L, &b, (size_t)n);
  if (n > 0 && RAND_bytes(out, (int)n) != 1) return fail_ssl(L, "RAND_bytes");
  luaL_pushresultsize(&b, (size_t)n);
  return 1;
}

/* digest(name, data) -> raw bytes */
static int crypto_digest(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  size_t n;
  const char *data = luaL_checklstring(L, 2, &n);
  const EVP_MD *md = md_by_name(name);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!md) return lsb_fail(L, "EINVAL", "unknown digest '%s'", name);
  if (EVP_Digest(data, n, out, &len, md, NULL) != 1) return fail_ssl(L, "EVP_Digest");
  lua_pushlstring(L, (const char *)out, len);
  return 1;
}

/* hmac(name, key, data) -> raw bytes */
static int crypto_hmac(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  size_t kn, n;
  const char *key = luaL_checklstring(L, 2, &kn);
  const char *data = luaL_checklstring(L, 3, &n);
  const EVP_MD *md = md_by_name(name);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!md) return lsb_fail(L, "EINVAL", "unknown digest '%s'", name);
  luaL_argcheck(L, kn <= INT_MAX, 2, "key too long");
  if (!HMAC(md, key, (int)kn, (const unsigned char *)data, n, out, &len))
    return fail_ssl(L, "HMAC");
  lua_pushlstring(L, (const char *)out, len);
  return 1;
}

#if OPENSSL_VERSION_MAJOR < 4 && !defined(OPENSSL_NO_DEPRECATED_3_0)
#define LSB_FAST_PBKDF2 1
/* the state words of c, big-endian, into b[0..32) */
static void sha256_state(unsigned char *b, const SHA256_CTX *c) {
  for (int i = 0; i < 8; i++) {
    uint32_t v = (uint32_t)c->h[i];
    b[4 * i] = (unsigned char)(v >> 24);
    b[4 * i + 1] = (unsigned char)(v >> 16);
    b[4 * i + 2] = (unsigned char)(v >> 8);
    b[4 * i + 3] = (unsigned char)v;
  }
}

/* One block of PBKDF2-HMAC-SHA256 (RFC 8018 5.2): T_n, from the HMAC's
 * inner and outer states after the padded key (computed once), each
 * iteration exactly two compressions of one prepared block (U as a
 * 32-byte message after the 64-byte pad block) on libcrypto's SHA-256 (its
 * SHA-NI / AVX2 code). PKCS5_PBKDF2_HMAC runs a whole HMAC context per
 * iteration: 3-4 times the cost, and an Ansible Vault file is 3 blocks of
 * 10,000 iterations. Checked against PKCS5_PBKDF2_HMAC and the published
 * vectors (spec/unit/crypto_spec.lua). */
typedef struct {
  const SHA256_CTX *ci, *co;
  const unsigned char *salt;
  size_t sn;
  unsigned long iter;
  uint32_t n;
  unsigned char t[32];
} pbkdf2_job;

static void pbkdf2_block(void *arg) {
  pbkdf2_job *j = arg;
  unsigned char block[64] = {0}, u[32];
  unsigned char be[4] = {(unsigned char)(j->n >> 24), (unsigned char)(j->n >> 16), (unsigned char)(j->n >> 8),
                         (unsigned char)j->n};
  SHA256_CTX c = *j->ci;
  SHA256_Update(&c, j->salt, j->sn);
  SHA256_Update(&c, be, 4);
  SHA256_Final(u, &c);
  c = *j->co;
  SHA256_Update(&c, u, 32);
  SHA256_Final(u, &c);
  memcpy(j->t, u, 32);
  /* a 32-byte message after one 64-byte block: 0x80, zeros, 768 bits */
  block[32] = 0x80;
  block[62] = 0x03;
  for (unsigned long i = 1; i < j->iter; i++) {
    memcpy(block, u, 32);
    c = *j->ci;
    SHA256_Transform(&c, block);
    sha256_state(block, &c);
    c = *j->co;
    SHA256_Transform(&c, block);
    sha256_state(u, &c);
    for (int x = 0; x < 32; x++) j->t[x] ^= u[x];
  }
  OPENSSL_cleanse(block, sizeof block);
  OPENSSL_cleanse(u, sizeof u);
  OPENSSL_cleanse(&c, sizeof c);
}

/* The blocks are independent: with many iterations (a vault file's 3
 * blocks of 10,000) blocks 2.. run on threads of their own beside the
 * first (uv threads; one that cannot start runs here), each writing only
 * its job. Nothing is shared but the read-only HMAC states. */
#define PBKDF2_MAX_THREADS 4
#define PBKDF2_THREAD_ITER 2000

static void pbkdf2_sha256(const unsigned char *pw, size_t pn, const unsigned char *salt, size_t sn,
                          unsigned long iter, unsigned char *out, size_t outlen) {
  unsigned char key[64] = {0}, pad[64];
  SHA256_CTX ci, co;
  pbkdf2_job jobs[4096 / 32];
  uv_thread_t tid[PBKDF2_MAX_THREADS];
  int started[PBKDF2_MAX_THREADS] = {0};
  size_t nblocks = (outlen + 31) / 32;
  if (pn > 64) SHA256(pw, pn, key);
  else memcpy(key, pw, pn);
  for (int i = 0; i < 64; i++) pad[i] = key[i] ^ 0x36;
  SHA256_Init(&ci);
  SHA256_Update(&ci, pad, 64);
  for (int i = 0; i < 64; i++) pad[i] = key[i] ^ 0x5c;
  SHA256_Init(&co);
  SHA256_Update(&co, pad, 64);
  for (size_t b = 0; b < nblocks; b++) {
    jobs[b].ci = &ci;
    jobs[b].co = &co;
    jobs[b].salt = salt;
    jobs[b].sn = sn;
    jobs[b].iter = iter;
    jobs[b].n = (uint32_t)(b + 1);
  }
  int threaded = iter >= PBKDF2_THREAD_ITER && nblocks > 1 && nblocks <= PBKDF2_MAX_THREADS;
  for (size_t b = 1; threaded && b < nblocks; b++)
    started[b] = uv_thread_create(&tid[b], pbkdf2_block, &jobs[b]) == 0;
  pbkdf2_block(&jobs[0]);
  for (size_t b = 1; b < nblocks; b++) {
    if (threaded && started[b]) uv_thread_join(&tid[b]);
    else pbkdf2_block(&jobs[b]);
  }
  for (size_t b = 0; b < nblocks; b++) {
    size_t k = outlen - 32 * b < 32 ? outlen - 32 * b : 32;
    memcpy(out + 32 * b, jobs[b].t, k);
  }
  OPENSSL_cleanse(key, sizeof key);
  OPENSSL_cleanse(pad, sizeof pad);
  OPENSSL_cleanse(jobs, nblocks * sizeof jobs[0]);
  OPENSSL_cleanse(&ci, sizeof ci);
  OPENSSL_cleanse(&co, sizeof co);
}
#endif

/* pbkdf2_sha256(password, salt, iterations, length) -> length bytes */
static int crypto_pbkdf2(lua_State *L) {
  size_t pn, sn;
  const char *pw = luaL_checklstring(L, 1, &pn);
  const char *salt = luaL_checklstring(L, 2, &sn);
  lua_Integer iter = luaL_checkinteger(L, 3);
  lua_Integer len = luaL_checkinteger(L, 4);
  luaL_argcheck(L, pn <= INT_MAX, 1, "password too long");
  luaL_argcheck(L, sn <= INT_MAX, 2, "salt too long");
  luaL_argcheck(L, iter >= 1 && iter <= INT_MAX, 3, "iterations out of range");
  luaL_argcheck(L, len >= 1 && len <= 4096, 4, "length out of range (1..4096)");
  unsigned char *out = scratch(L, (size_t)len);
#ifdef LSB_FAST_PBKDF2
  int ok = 1;
  pbkdf2_sha256((const unsigned char *)pw, pn, (const unsigned char *)salt, sn, (unsigned long)iter, out,
                (size_t)len);
#else
  int ok = PKCS5_PBKDF2_HMAC(pw, (int)pn, (const unsigned char *)salt, (int)sn,
                             (int)iter, EVP_sha256(), (int)len, out);
#endif
  if (ok != 1) {
    OPENSSL_cleanse(out, (size_t)len);
    return fail_ssl(L, "PKCS5_PBKDF2_HMAC");
  }
  lua_pushlstring(L, (const char *)out, (size_t)len);
  OPENSSL_cleanse(out, (size_t)len);
  return 1;
}

/* aes256_ctr(key, iv, data) -> data transformed (encrypts and decrypts) */
static int crypto_aes256_ctr(lua_State *L) {
  size_t kn, ivn, n;
  const char *key = luaL_checklstring(L, 1, &kn);
  const char *iv = luaL_checklstring(L, 2, &ivn);
  const char *data = luaL_checklstring(L, 3, &n);
  if (kn != 32) return lsb_fail(L, "EINVAL", "AES-256 key must be 32 bytes, not %d", (int)kn);
  if (ivn != 16) return lsb_fail(L, "EINVAL", "AES-CTR IV must be 16 bytes, not %d", (int)ivn);
  luaL_argcheck(L, n <= INT_MAX, 3, "data too long");
  /* every Lua allocation before the context exists: nothing raises while
   * it is alive */
  luaL_Buffer b;
  unsigned char *out = (unsigned char *)luaL_buffinitsize(L, &b, n);
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  int len = 0, fin = 0, ok;
  if (!c) return fail_ssl(L, "EVP_CIPHER_CTX_new");
  ok = EVP_EncryptInit_ex(c, EVP_aes_256_ctr(), NULL, (const unsigned char *)key,
                          (const unsigned char *)iv) == 1 &&
       EVP_EncryptUpdate(c, out, &len, (const unsigned char *)data, (int)n) == 1 &&
       EVP_EncryptFinal_ex(c, out + len, &fin) == 1;
  EVP_CIPHER_CTX_free(c); /* wipes the key schedule */
  if (!ok) return fail_ssl(L, "AES-256-CTR");
  luaL_pushresultsize(&b, (size_t)len + (size_t)fin);
  return 1;
}

/* equal(a, b) -> boolean, in time independent of the contents */
static int crypto_equal(lua_State *L) {
  size_t an, bn;
  const char *a = luaL_checklstring(L, 1, &an);
  const char *b = luaL_checklstring(L, 2, &bn);
  lua_pushboolean(L, an == bn && CRYPTO_memcmp(a, b, an) == 0);
  return 1;
}

/* crypt(password, setting) -> the hash, as crypt(3) gives it */
static int crypto_crypt(lua_State *L) {
  size_t pn;
  const char *pw = luaL_checklstring(L, 1, &pn);
  const char *setting = luaL_checkstring(L, 2);
  if (strlen(pw) != pn) return lsb_fail(L, "EINVAL", "password contains a NUL byte");
  struct crypt_data *cd = (struct crypt_data *)scratch(L, sizeof *cd);
  memset(cd, 0, sizeof *cd);
  const char *h = crypt_rn(pw, setting, cd, (int)sizeof *cd);
  if (!h || h[0] == '*') {
    OPENSSL_cleanse(cd, sizeof *cd);
    return lsb_fail(L, "EINVAL", "crypt: setting '%s' not supported", setting);
  }
  lua_pushstring(L, h); /* may raise (memory): the userdata is collected */
  OPENSSL_cleanse(cd, sizeof *cd);
  return 1;
}

/* hex(s) -> lower-case hex */
static int crypto_hex(lua_State *L) {
  static const char digits[] = "0123456789abcdef";
  size_t n;
  const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &n);
  luaL_Buffer b;
  char *out = luaL_buffinitsize(L, &b, n * 2);
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[s[i] >> 4];
    out[2 * i + 1] = digits[s[i] & 15];
  }
  luaL_pushresultsize(&b, n * 2);
  return 1;
}

static int nibble(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* unhex(s) -> bytes | nil, "EINVAL: ...", "EINVAL" */
static int crypto_unhex(lua_State *L) {
  size_t n;
  const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &n);
  if (n % 2) return lsb_fail(L, "EINVAL", "odd-length hex string");
  luaL_Buffer b;
  char *out = luaL_buffinitsize(L, &b, n / 2);
  for (size_t i = 0; i < n; i += 2) {
    int hi = nibble(s[i]), lo = nibble(s[i + 1]);
    if (hi < 0 || lo < 0) return lsb_fail(L, "EINVAL", "not hex at byte %d", (int)(i + (hi < 0 ? 1 : 2)));
    out[i / 2] = (char)(hi << 4 | lo);
  }
  luaL_pushresultsize(&b, n / 2);
  return 1;
}

static const luaL_Reg crypto_funcs[] = {
    {"random", crypto_random},
    {"digest", crypto_digest},
    {"hmac", crypto_hmac},
    {"pbkdf2_sha256", crypto_pbkdf2},
    {"aes256_ctr", crypto_aes256_ctr},
    {"equal", crypto_equal},
    {"crypt", crypto_crypt},
    {"hex", crypto_hex},
    {"unhex", crypto_unhex},
    {NULL, NULL}};

/* pushes the crypto table */
void lsb_push_crypto(lua_State *L) {
  luaL_newlib(L, crypto_funcs);
}
