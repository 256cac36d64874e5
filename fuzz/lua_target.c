/* libFuzzer target for the parsers written in Lua: one binary per entry of
 * fuzz/targets.lua (FUZZ_TARGET, defined by the build), in a Lua 5.4 state
 * made once, with the tree's lua/ on its path (LUASIBLE_ROOT).
 *
 * Each input is passed to the entry as a string. What counts as a finding
 * (abort(), so libFuzzer keeps the input), and nothing else does:
 *   - a crash, or anything ASan/UBSan report (in this file, in Lua's C, in
 *     the C modules loaded: the core, lyaml);
 *   - a C-level error: the state out of memory (LUA_ERRMEM, above
 *     MEM_LIMIT), an error in the error handler (LUA_ERRERR);
 *   - a Lua error the oracle (fuzz/oracle.lua, `internal`) calls an
 *     internal error: not a string, a position in one of luasible's own
 *     files, a message of the Lua runtime, a traceback, several lines
 *     (what the message quotes of the input itself not counted). The
 *     entries raise a table for a message they were *returned* that is
 *     one of those (oracle.check), so that counts too.
 * A Lua error with a message for a person (a parser that raises "bad YAML
 * at line 3") is the parser's answer, not a finding.
 *
 * Lua gives libFuzzer no coverage of its own (the interpreter is not
 * instrumented): a line hook feeds it, as libFuzzer's extra counters, one
 * counter per edge between two lines of Lua that ran one after the other. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#ifndef FUZZ_TARGET
#error "FUZZ_TARGET (the entry of fuzz/targets.lua) must be defined"
#endif
#ifndef LUASIBLE_ROOT
#error "LUASIBLE_ROOT (the tree's folder) must be defined"
#endif

#define MEM_LIMIT ((size_t)1 << 30) /* bytes the Lua state may hold */
#define COUNTERS (1 << 16)

__attribute__((section("__libfuzzer_extra_counters"))) static uint8_t counters[COUNTERS];

static lua_State *L;
static int entry_ref = LUA_NOREF, internal_ref = LUA_NOREF;
static size_t in_use;
static uintptr_t prev_loc;

static void *alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  if (ptr == NULL) osize = 0;
  if (nsize == 0) {
    free(ptr);
    in_use -= osize;
    return NULL;
  }
  if (nsize > osize && in_use + (nsize - osize) > MEM_LIMIT) return NULL;
  ptr = realloc(ptr, nsize);
  if (ptr) in_use += nsize - osize;
  return ptr;
}

/* An edge between the line that ran before and this one. The source of a
 * function is a string of its proto, the same for every call. */
static void hook(lua_State *l, lua_Debug *ar) {
  uintptr_t loc;
  if (!lua_getinfo(l, "S", ar)) return;
  loc = ((uintptr_t)ar->source * 31 + (uintptr_t)ar->currentline) * 2654435761u;
  loc ^= loc >> 15;
  counters[(loc ^ prev_loc) % COUNTERS]++;
  prev_loc = loc >> 1;
}

static void die(const char *what, const char *detail) {
  fprintf(stderr, "fuzz_%s: %s\n%s\n", FUZZ_TARGET, what, detail ? detail : "");
  abort();
}

/* The error handler: the traceback goes to the registry (for the report),
 * the error value itself is kept for the oracle. */
static int on_error(lua_State *l) {
  luaL_traceback(l, l, NULL, 1);
  lua_setfield(l, LUA_REGISTRYINDEX, "fuzz.traceback");
  lua_settop(l, 1);
  return 1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  L = lua_newstate(alloc, NULL);
  if (!L) die("cannot make a Lua state", NULL);
  luaL_openlibs(L);
  if (luaL_dostring(L, "package.path = '" LUASIBLE_ROOT "/lua/?.lua;" LUASIBLE_ROOT "/lua/?/init.lua;"
                       LUASIBLE_ROOT "/?.lua;' .. package.path\n"
                       "package.cpath = '" LUASIBLE_ROOT "/?.so;' .. package.cpath\n"
                       "return require('fuzz.targets'), require('fuzz.oracle').internal") != LUA_OK)
    die("cannot load fuzz/targets.lua", lua_tostring(L, -1));
  internal_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  if (lua_getfield(L, -1, FUZZ_TARGET) != LUA_TFUNCTION) die("no such entry in fuzz/targets.lua", FUZZ_TARGET);
  entry_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_settop(L, 0);
  lua_sethook(L, hook, LUA_MASKLINE, 0);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int status;
  lua_settop(L, 0);
  lua_pushcfunction(L, on_error);
  lua_rawgeti(L, LUA_REGISTRYINDEX, entry_ref);
  lua_pushlstring(L, (const char *)data, size);
  status = lua_pcall(L, 1, 0, 1);
  if (status == LUA_ERRMEM) die("out of memory (a C-level error)", NULL);
  if (status == LUA_ERRERR) die("error in the error handler (a C-level error)", NULL);
  if (status != LUA_OK) {
    /* the oracle: internal(err) -> nil, or why it is an internal error */
    int why;
    lua_rawgeti(L, LUA_REGISTRYINDEX, internal_ref);
    lua_pushvalue(L, 2);
    lua_pushlstring(L, (const char *)data, size);
    if (lua_pcall(L, 2, 1, 0) != LUA_OK) die("the oracle failed", lua_tostring(L, -1));
    why = lua_type(L, -1) != LUA_TNIL;
    if (why) {
      const char *msg;
      lua_getfield(L, LUA_REGISTRYINDEX, "fuzz.traceback");
      if (lua_type(L, 2) == LUA_TTABLE && lua_getfield(L, 2, "finding") == LUA_TSTRING) msg = lua_tostring(L, -1);
      else msg = luaL_tolstring(L, 2, NULL);
      fprintf(stderr, "fuzz_%s: internal error (%s):\n%s\n%s\n", FUZZ_TARGET, lua_tostring(L, 3), msg,
              lua_tostring(L, 4));
      abort();
    }
  }
  lua_settop(L, 0);
  return 0;
}
