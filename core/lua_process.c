/* core.spawn(argv, opts): start a local process, return its stream. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "lua_core.h"
#include "process.h"

extern char **environ;

typedef struct {
  char **argv;
  char **env;
  size_t envc;
} spawn_mem;

static void free_mem(spawn_mem *m) {
  if (m->argv) {
    for (char **a = m->argv; *a; a++) free(*a);
    free(m->argv);
  }
  if (m->env) {
    for (size_t i = 0; i < m->envc; i++) free(m->env[i]);
    free(m->env);
  }
  memset(m, 0, sizeof *m);
}

#define ARGS_MT "luasible.spawn_args"

static int mem_gc(lua_State *L) {
  free_mem(luaL_checkudata(L, 1, ARGS_MT));
  return 0;
}

static int mem_tostring(lua_State *L) {
  spawn_mem *m = luaL_checkudata(L, 1, ARGS_MT);
  lua_pushfstring(L, ARGS_MT " (%s): %p", m->argv ? m->argv[0] : "empty", (void *)m);
  return 1;
}

/* luasible.spawn_args: a userdata owning the C copies of argv and env, so a
 * Lua error mid-way leaks nothing. */
static spawn_mem *new_mem(lua_State *L) {
  spawn_mem *m = lua_newuserdatauv(L, sizeof *m, 0);
  memset(m, 0, sizeof *m);
  luaL_setmetatable(L, ARGS_MT);
  return m;
}

static void build_argv(lua_State *L, spawn_mem *m) {
  lua_Integer n = (lua_Integer)luaL_len(L, 1), i;
  luaL_argcheck(L, n > 0, 1, "argv must not be empty");
  m->argv = calloc((size_t)n + 1, sizeof *m->argv);
  if (!m->argv) luaL_error(L, "not enough memory");
  for (i = 1; i <= n; i++) {
    size_t len;
    const char *a;
    lua_geti(L, 1, i);
    a = lua_tolstring(L, -1, &len);
    if (!a || lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "bad argument #1 to 'spawn' (argv[%d] is a %s, not a string)",
                 (int)i, luaL_typename(L, -1));
    if (strlen(a) != len)
      luaL_error(L, "bad argument #1 to 'spawn' (argv[%d] contains a NUL byte)", (int)i);
    m->argv[i - 1] = lsb_strdup(L, a);
    lua_pop(L, 1);
  }
}

static int env_key_matches(const char *entry, const char *key, size_t klen) {
  return strncmp(entry, key, klen) == 0 && entry[klen] == '=';
}

/* environ plus the table at idx (its values replace inherited ones) */
static void build_env(lua_State *L, int idx, spawn_mem *m) {
  size_t n = 0, extra = 0, i;
  for (char **e = environ; *e; e++) n++;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    extra++;
    lua_pop(L, 1);
  }
  m->env = calloc(n + extra + 1, sizeof *m->env);
  if (!m->env) luaL_error(L, "not enough memory");
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    size_t kl, vl;
    const char *k, *v;
    char *entry;
    if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "bad option 'env' to 'spawn' (keys and values must be strings)");
    k = lua_tolstring(L, -2, &kl);
    v = lua_tolstring(L, -1, &vl);
    if (kl == 0 || strchr(k, '=') || strlen(k) != kl || strlen(v) != vl)
      luaL_error(L, "bad option 'env' to 'spawn' (invalid variable name or value for '%s')", k);
    entry = malloc(kl + vl + 2);
    if (!entry) luaL_error(L, "not enough memory");
    memcpy(entry, k, kl);
    entry[kl] = '=';
    memcpy(entry + kl + 1, v, vl + 1);
    m->env[m->envc++] = entry;
    lua_pop(L, 1);
  }
  for (char **e = environ; *e; e++) {
    int overridden = 0;
    for (i = 0; i < extra && !overridden; i++) {
      const char *eq = strchr(m->env[i], '=');
      overridden = env_key_matches(*e, m->env[i], (size_t)(eq - m->env[i]));
    }
    if (!overridden) m->env[m->envc++] = lsb_strdup(L, *e);
  }
}

static const char *const spawn_options[] = {
    "cwd", "env", "timeout", "grace", "stdin", "max_line", "lines",
    "capture", "progress", NULL};

/* core.spawn(argv, opts) -> stream | nil, err, name */
static int core_spawn(lua_State *L) {
  lsb_ctx *ctx = lsb_ctx_get(L);
  lsb_spawn_opts o;
  spawn_mem *m;
  lsb_stream *s;
  int mode, rc, pid = 0, mem_idx;
  const char *call;
  double max_line;
  luaL_checktype(L, 1, LUA_TTABLE);
  if (lua_isnoneornil(L, 2)) {
    lua_settop(L, 1);
    lua_newtable(L);
  }
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  lsb_check_options(L, 2, "spawn", spawn_options);
  memset(&o, 0, sizeof o);
  m = new_mem(L);
  mem_idx = lua_gettop(L);
  build_argv(L, m);
  o.argv = m->argv;
  o.cwd = lsb_opt_str(L, 2, "spawn", "cwd", NULL, 0);
  if (lua_getfield(L, 2, "env") != LUA_TNIL) {
    if (!lua_istable(L, -1))
      return luaL_error(L, "bad option 'env' to 'spawn' (table expected, got %s)",
                        luaL_typename(L, -1));
    build_env(L, lua_gettop(L), m);
    o.env = m->env;
  }
  lua_pop(L, 1);
  o.timeout = lsb_opt_num(L, 2, "spawn", "timeout", 0, 1);
  o.grace = lsb_opt_num(L, 2, "spawn", "grace", 2, 1);
  o.stdin_data = lsb_opt_str(L, 2, "spawn", "stdin", &o.stdin_len, 0);
  o.has_stdin = o.stdin_data != NULL;
  max_line = lsb_opt_num(L, 2, "spawn", "max_line", 65536, 1);
  if (max_line < 1) return luaL_error(L, "bad option 'max_line' to 'spawn' (must be at least 1)");
  mode = lsb_opt_stream_mode(L, 2, 1, 1);

  if (o.cwd) {
    struct stat st;
    if (stat(o.cwd, &st) != 0) return lsb_fail_errno(L, errno, "cwd '%s'", o.cwd);
    if (!S_ISDIR(st.st_mode))
      return lsb_fail(L, "ENOTDIR", "cwd '%s': not a directory", o.cwd);
  }
  s = lsb_stream_new(ctx, mode, (size_t)max_line);
  if (!s) return luaL_error(L, "not enough memory");
  rc = lsb_process_spawn(ctx, s, &o, &pid, &call);
  if (rc != 0) {
    lsb_stream_unref(s);
    if (call) /* "EMFILE: pipe() for 'sleep': too many open files" */
      return lsb_fail(L, uv_err_name(rc), "%s for '%s': %s", call, o.argv[0], uv_strerror(rc));
    return lsb_fail(L, uv_err_name(rc), "cannot execute '%s': %s", o.argv[0],
                    uv_strerror(rc));
  }
  free_mem(m); /* the child has its copies */
  lua_remove(L, mem_idx);
  return lsb_push_stream(L, s, pid);
}

/* core.nofile([want]) -> soft, hard: the open file limit (RLIMIT_NOFILE),
 * its soft limit raised first to `want` (at most the hard limit; without
 * want: to the hard limit). A fleet holds a socket per host at once; the
 * default soft limit (often 1024) is far below what the hard limit allows.
 * Raising fails quietly (the limits as they are are returned). */
static int core_nofile(lua_State *L) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return lsb_fail(L, "EINVAL", "getrlimit: %s", strerror(errno));
  if (lua_isnoneornil(L, 1) || (rlim_t)luaL_checkinteger(L, 1) > rl.rlim_cur) {
    rlim_t want = rl.rlim_max;
    if (!lua_isnoneornil(L, 1) && (rlim_t)lua_tointeger(L, 1) < want) want = (rlim_t)lua_tointeger(L, 1);
    if (want > rl.rlim_cur) {
      struct rlimit nl = rl;
      nl.rlim_cur = want;
      if (setrlimit(RLIMIT_NOFILE, &nl) == 0) rl = nl;
    }
  }
  lua_pushinteger(L, rl.rlim_cur == RLIM_INFINITY ? LUA_MAXINTEGER : (lua_Integer)rl.rlim_cur);
  lua_pushinteger(L, rl.rlim_max == RLIM_INFINITY ? LUA_MAXINTEGER : (lua_Integer)rl.rlim_max);
  return 2;
}

const luaL_Reg lsb_process_funcs[] = {{"spawn", core_spawn}, {"nofile", core_nofile}, {NULL, NULL}};

void lsb_open_process(lua_State *L) {
  static const luaL_Reg meta[] = {
      {"__gc", mem_gc}, {"__tostring", mem_tostring}, {NULL, NULL}};
  lsb_new_class(L, ARGS_MT, meta, NULL);
}
