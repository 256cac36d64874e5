/* Shared by the lua_*.c binding files: they only translate to and from Lua. */
#ifndef LSB_LUA_CORE_H
#define LSB_LUA_CORE_H

#include <lauxlib.h>
#include <lua.h>

#include "ctx.h"
#include "stream.h"
#include "util.h"

#define LSB_CTX_KEY "luasible.ctx"
#define LSB_STREAM_MT "luasible.stream"
#define LSB_TIMER_MT "luasible.timer"

lsb_ctx *lsb_ctx_get(lua_State *L);

/* waiter refs of waitables */
void lsb_waiter_set(lua_State *L, lsb_waitable *w, int idx);
void lsb_waiter_clear(lua_State *L, lsb_waitable *w);
/* The object is closed: its waiter (if any) comes back from the next
 * core.run_once() like a woken one, to see that it is over. */
void lsb_waiter_release(lua_State *L, lsb_waitable *w);

void lsb_open_stream(lua_State *L);
void lsb_open_timer(lua_State *L);
int lsb_push_stream(lua_State *L, lsb_stream *s, int pid);
int lsb_core_spawn(lua_State *L);
int lsb_core_timer(lua_State *L);
int lsb_core_stream_iterator(lua_State *L);
int lsb_core_create_private(lua_State *L);
int lsb_core_file_mode(lua_State *L);

/* SSH, SFTP and SHA-256 (lua_ssh.c) */
void lsb_open_ssh(lua_State *L);
int lsb_core_ssh_connect(lua_State *L);
int lsb_core_sha256(lua_State *L);
int lsb_core_sha256_new(lua_State *L);
int lsb_core_chmod(lua_State *L);

#endif
