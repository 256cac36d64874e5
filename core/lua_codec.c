/* luasible.sha256 and base64: the codecs the task layer uses (checksums of
 * transfers, module content).  Translation only (sha256.c, util.c). */
#include <stdlib.h>

#include "lua_core.h"
#include "sha256.h"

#define SHA_MT "luasible.sha256"

/* core.sha256(s) -> hex digest */
static int core_sha256(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  lsb_sha256 c;
  char hex[65];
  lsb_sha256_init(&c);
  lsb_sha256_update(&c, s, n);
  lsb_sha256_hex(&c, hex);
  lua_pushstring(L, hex);
  return 1;
}

/* core.sha256_new() -> h: h:update(s) (returns h), h:hex() */
static int core_sha256_new(lua_State *L) {
  lsb_sha256 *c = lua_newuserdatauv(L, sizeof *c, 0);
  lsb_sha256_init(c);
  luaL_setmetatable(L, SHA_MT);
  return 1;
}

static int sha_update(lua_State *L) {
  lsb_sha256 *c = luaL_checkudata(L, 1, SHA_MT);
  size_t n;
  const char *s = luaL_checklstring(L, 2, &n);
  lsb_sha256_update(c, s, n);
  lua_settop(L, 1);
  return 1;
}

static int sha_hex(lua_State *L) {
  lsb_sha256 *c = luaL_checkudata(L, 1, SHA_MT);
  char hex[65];
  lsb_sha256_hex(c, hex);
  lua_pushstring(L, hex);
  return 1;
}

static int sha_tostring(lua_State *L) {
  lsb_sha256 *c = luaL_checkudata(L, 1, SHA_MT);
  lua_pushfstring(L, SHA_MT " (%I bytes): %p", (lua_Integer)c->len, (void *)c);
  return 1;
}

/* core.base64_encode(s) -> the padded base64 of s */
static int core_base64_encode(lua_State *L) {
  size_t n;
  const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &n);
  luaL_Buffer b;
  char *out = luaL_buffinitsize(L, &b, LSB_BASE64_LEN(n) + 1);
  luaL_pushresultsize(&b, lsb_base64_encode(s, n, out, 1));
  return 1;
}

/* core.base64_decode(s) -> the bytes | nil, "EINVAL: ...", "EINVAL"
 * (padding optional, whitespace skipped) */
static int core_base64_decode(lua_State *L) {
  size_t n, len;
  const char *s = luaL_checklstring(L, 1, &n);
  luaL_Buffer b;
  unsigned char *out = (unsigned char *)luaL_buffinitsize(L, &b, n / 4 * 3 + 3);
  len = lsb_base64_decode(s, n, out);
  if (len == (size_t)-1) return lsb_fail(L, "EINVAL", "not base64");
  luaL_pushresultsize(&b, len);
  return 1;
}

const luaL_Reg lsb_codec_funcs[] = {
    {"sha256", core_sha256},
    {"sha256_new", core_sha256_new},
    {"base64_encode", core_base64_encode},
    {"base64_decode", core_base64_decode},
    {NULL, NULL}};

/* nothing to free or close: for `<close>` and symmetry with the others */
static int sha_noop(lua_State *L) {
  (void)L;
  return 0;
}

void lsb_open_codec(lua_State *L) {
  static const luaL_Reg meta[] = {
      {"__gc", sha_noop}, {"__close", sha_noop}, {"__tostring", sha_tostring},
      {NULL, NULL}};
  static const luaL_Reg methods[] = {
      {"update", sha_update}, {"hex", sha_hex}, {NULL, NULL}};
  lsb_new_class(L, SHA_MT, meta, methods);
}
