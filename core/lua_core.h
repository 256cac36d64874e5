/* Shared by the lua_*.c binding files: they only translate to and from Lua. */
#ifndef LSB_LUA_CORE_H
#define LSB_LUA_CORE_H

#include <lauxlib.h>
#include <lua.h>

#include "ctx.h"
#include "stream.h"
#include "util.h"

#define LSB_CTX_KEY "luasible.ctx.instance" /* registry: the context */
#define LSB_CTX_MT "luasible.ctx"
#define LSB_STREAM_MT "luasible.stream"
#define LSB_TIMER_MT "luasible.timer"

lsb_ctx *lsb_ctx_get(lua_State *L);

/* waiter refs of waitables */
void lsb_waiter_set(lua_State *L, lsb_waitable *w, int idx);
void lsb_waiter_clear(lua_State *L, lsb_waitable *w);
/* The object is closed: its waiter (if any) comes back from the next
 * core.run_once() like a woken one, to see that it is over. */
void lsb_waiter_release(lua_State *L, lsb_waitable *w);

/* Each binding file: the functions it adds to the module table (with the
 * context as their upvalue 1) and the metatables it registers. */
extern const luaL_Reg lsb_stream_funcs[], lsb_timer_funcs[], lsb_process_funcs[],
    lsb_ssh_funcs[], lsb_codec_funcs[], lsb_fs_funcs[];
extern const luaL_Reg lsb_http_funcs[], lsb_unix_funcs[], lsb_syslog_funcs[], lsb_ndjson_funcs[];
void lsb_open_stream(lua_State *L);
void lsb_open_timer(lua_State *L);
void lsb_open_process(lua_State *L);
void lsb_open_ssh(lua_State *L); /* also libssh2_init */
void lsb_open_codec(lua_State *L);
void lsb_push_crypto(lua_State *L); /* the crypto table (lua_crypto.c) */
void lsb_open_unix(lua_State *L); /* core/lua_unix.c: persistent connections' sockets */
void lsb_open_http(lua_State *L); /* core/lua_http.c: the dashboard's server */

int lsb_push_stream(lua_State *L, lsb_stream *s, int pid);

#endif
