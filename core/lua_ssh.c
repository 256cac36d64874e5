/* luasible.ssh_session: the Lua face of an SSH session (connect, host key,
 * exec, SFTP put/get) and the SHA-256 helpers.  Translation only. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lua_core.h"
#include "sftp.h"
#include "ssh_channel.h"
#include "ssh_session.h"

#define SESSION_MT "luasible.ssh_session"
#define CONFIG_MT "luasible.ssh_config"

typedef struct {
  lsb_ssh_session *S; /* NULL once closed */
} lsession;

static const char *const connect_options[] = {
    "host", "port", "user", "label", "known_hosts", "password", "agent",
    "identities", "connect_timeout", "keepalive", "keepalive_count_max", "via",
    "proxy_command", NULL};

/* luasible.ssh_config: a userdata that owns the config being read until
 * it moves into the session (a Lua error mid-way leaks nothing) */
static int cfg_gc(lua_State *L) {
  lsb_ssh_config_free(luaL_checkudata(L, 1, CONFIG_MT));
  return 0;
}

static int cfg_tostring(lua_State *L) {
  lsb_ssh_config *cfg = luaL_checkudata(L, 1, CONFIG_MT);
  lua_pushfstring(L, CONFIG_MT " (%s): %p", cfg->host ? cfg->host : "moved", (void *)cfg);
  return 1;
}

/* core.ssh_connect{...} -> session (connecting; wait on it) */
static int core_ssh_connect(lua_State *L) {
  lsb_ctx *ctx = lsb_ctx_get(L);
  lsb_ssh_config *cfg;
  lsession *ls, *via = NULL;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lsb_check_options(L, 1, "ssh_connect", connect_options);
  cfg = lua_newuserdatauv(L, sizeof *cfg, 0);
  memset(cfg, 0, sizeof *cfg);
  luaL_setmetatable(L, CONFIG_MT);
  cfg->host = lsb_strdup(L, lsb_opt_str(L, 1, "ssh_connect", "host", NULL, 1));
  cfg->user = lsb_strdup(L, lsb_opt_str(L, 1, "ssh_connect", "user", NULL, 1));
  {
    double port = lsb_opt_num(L, 1, "ssh_connect", "port", 22, 0);
    if (!(port >= 1 && port <= 65535))
      return luaL_error(L, "bad option 'port' to 'ssh_connect' (1..65535 expected)");
    cfg->port = (int)port;
  }
  cfg->known_hosts = lsb_strdup(L, lsb_opt_str(L, 1, "ssh_connect", "known_hosts", NULL, 0));
  cfg->password = lsb_strdup(L, lsb_opt_str(L, 1, "ssh_connect", "password", NULL, 0));
  cfg->proxy_command = lsb_strdup(L, lsb_opt_str(L, 1, "ssh_connect", "proxy_command", NULL, 0));
  /* via: the session of the jump host (ready) whose channel carries this one */
  if (lua_getfield(L, 1, "via") != LUA_TNIL) {
    via = luaL_testudata(L, -1, SESSION_MT);
    if (!via) return luaL_error(L, "bad option 'via' to 'ssh_connect' (luasible.ssh_session expected)");
    if (!via->S) return luaL_error(L, "bad option 'via' to 'ssh_connect' (session closed)");
    if (cfg->proxy_command)
      return luaL_error(L, "bad options to 'ssh_connect' (via and proxy_command exclude each other)");
  }
  lua_pop(L, 1);
  cfg->connect_timeout = lsb_opt_num(L, 1, "ssh_connect", "connect_timeout", 10, 0);
  cfg->keepalive = lsb_opt_num(L, 1, "ssh_connect", "keepalive", 15, 0);
  {
    double n = lsb_opt_num(L, 1, "ssh_connect", "keepalive_count_max", 3, 0);
    if (!(n >= 1 && n <= 1000000) || n != (double)(int)n)
      return luaL_error(L, "bad option 'keepalive_count_max' to 'ssh_connect' (a whole number >= 1 expected)");
    cfg->keepalive_count_max = (int)n;
  }
  lua_getfield(L, 1, "agent");
  cfg->agent = lua_toboolean(L, -1);
  if (lua_type(L, -1) == LUA_TSTRING) cfg->agent_path = lsb_strdup(L, lua_tostring(L, -1));
  lua_pop(L, 1);
  {
    const char *label = lsb_opt_str(L, 1, "ssh_connect", "label", NULL, 0);
    if (label) cfg->label = lsb_strdup(L, label);
    else {
      lua_pushfstring(L, "%s@%s:%d", cfg->user, cfg->host, cfg->port);
      cfg->label = lsb_strdup(L, lua_tostring(L, -1));
      lua_pop(L, 1);
    }
  }
  if (lua_getfield(L, 1, "identities") == LUA_TTABLE) {
    int n = (int)luaL_len(L, -1);
    cfg->ids = calloc((size_t)n + 1, sizeof *cfg->ids);
    if (!cfg->ids) return luaL_error(L, "not enough memory");
    for (int i = 1; i <= n; i++) {
      lsb_ssh_identity *id;
      lua_geti(L, -1, i);
      luaL_checktype(L, -1, LUA_TTABLE);
      id = &cfg->ids[cfg->nids++]; /* counted first: cfg_gc frees it if we raise */
      id->path = lsb_strdup(L, lsb_opt_str(L, lua_gettop(L), "ssh_connect", "path", NULL, 1));
      id->passphrase = lsb_strdup(L, lsb_opt_str(L, lua_gettop(L), "ssh_connect", "passphrase", NULL, 0));
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  ls = lua_newuserdatauv(L, sizeof *ls, 0);
  ls->S = NULL;
  luaL_setmetatable(L, SESSION_MT);
  ls->S = lsb_ssh_connect_via(ctx, cfg, via ? via->S : NULL);
  if (!ls->S) return luaL_error(L, "not enough memory");
  return 1;
}

static lsession *check_session(lua_State *L) {
  return luaL_checkudata(L, 1, SESSION_MT);
}

static lsb_ssh_session *open_session(lua_State *L) {
  lsession *ls = check_session(L);
  if (!ls->S) luaL_error(L, "luasible.ssh_session: used after close");
  return ls->S;
}

static int ss_ready(lua_State *L) {
  lsession *ls = check_session(L);
  lua_pushboolean(L, !ls->S || lsb_ssh_ready(ls->S));
  return 1;
}

static int ss_wait_on(lua_State *L) {
  lsb_ssh_session *S = open_session(L);
  luaL_checkany(L, 2);
  lsb_waiter_set(L, &S->w, 2);
  if (lsb_ssh_ready(S)) lsb_waitable_wake(&S->w);
  return 0;
}

static int ss_state(lua_State *L) {
  lsession *ls = check_session(L);
  lua_pushstring(L, ls->S ? lsb_ssh_state_name(ls->S->state) : "closed");
  return 1;
}

/* s:error() -> "NAME: message", "NAME" | nil */
static int ss_error(lua_State *L) {
  lsession *ls = check_session(L);
  if (!ls->S || !lsb_err_isset(&ls->S->error)) return 0;
  lua_pushstring(L, lsb_err_text(&ls->S->error));
  lua_pushstring(L, ls->S->error.name);
  return 2;
}

/* s:host_key() -> { fingerprint, type, key (base64), state } | nil;
 * state "unreadable" (known_hosts exists but could not be read) comes with
 * error = "NAME: message" and code = "NAME" */
static int ss_host_key(lua_State *L) {
  lsb_ssh_session *S = open_session(L);
  if (!S->key_state) return 0;
  lua_createtable(L, 0, 6);
  if (lsb_err_isset(&S->kh_err)) {
    lsb_set_str(L, "error", lsb_err_text(&S->kh_err));
    lsb_set_str(L, "code", S->kh_err.name);
  }
  lua_pushstring(L, S->fingerprint);
  lua_setfield(L, -2, "fingerprint");
  lua_pushstring(L, S->key_type);
  lua_setfield(L, -2, "type");
  lua_pushstring(L, S->key_b64 ? S->key_b64 : "");
  lua_setfield(L, -2, "key");
  lua_pushstring(L, S->key_state);
  lua_setfield(L, -2, "state");
  return 1;
}

static int ss_accept_host_key(lua_State *L) {
  lsb_ssh_session *S = open_session(L);
  lsb_ssh_accept_host_key(S);
  return 0;
}

static int ss_close(lua_State *L) {
  lsession *ls = check_session(L);
  lsb_ssh_session *S = ls->S;
  if (!S) return 0;
  ls->S = NULL;
  lsb_waiter_release(L, &S->w);
  lsb_ssh_close(S);
  return 0;
}

/* __gc: running commands go on (their streams hold the session) */
static int ss_gc(lua_State *L) {
  lsession *ls = check_session(L);
  lsb_ssh_session *S = ls->S;
  if (!S) return 0;
  ls->S = NULL;
  lsb_waiter_clear(L, &S->w);
  lsb_ssh_release_lua(S);
  return 0;
}

static int ss_tostring(lua_State *L) {
  lsession *ls = check_session(L);
  if (!ls->S) lua_pushliteral(L, "luasible.ssh_session (closed)");
  else lua_pushfstring(L, "luasible.ssh_session (%s, %s): %p", ls->S->cfg.label,
                       lsb_ssh_state_name(ls->S->state), (void *)ls);
  return 1;
}

static int not_ready(lua_State *L, lsb_ssh_session *S) {
  if (lsb_err_isset(&S->error)) return lsb_fail_err(L, &S->error);
  return lsb_fail(L, "ENOTCONN", "not connected to %s", S->cfg.label);
}

static const char *const exec_options[] = {
    "timeout", "grace", "stdin", "max_line", "lines", "capture", "progress",
    "chunks", "pgid_mark", "kill", NULL};

/* s:exec(cmd, opts) -> stream | nil, err, name */
static int ss_exec(lua_State *L) {
  lsb_ssh_session *S = open_session(L);
  lsb_ssh_exec_opts o;
  lsb_stream *st;
  double max_line;
  int rc;
  memset(&o, 0, sizeof o);
  o.cmd = luaL_checkstring(L, 2);
  if (lua_isnoneornil(L, 3)) {
    lua_settop(L, 2);
    lua_newtable(L);
  }
  luaL_checktype(L, 3, LUA_TTABLE);
  lsb_check_options(L, 3, "exec", exec_options);
  o.timeout = lsb_opt_num(L, 3, "exec", "timeout", 0, 0);
  o.grace = lsb_opt_num(L, 3, "exec", "grace", 2, 0);
  max_line = lsb_opt_num(L, 3, "exec", "max_line", 65536, 0);
  o.pgid_mark = lsb_opt_str(L, 3, "exec", "pgid_mark", NULL, 0);
  o.kill = lsb_opt_str(L, 3, "exec", "kill", NULL, 0);
  if (o.pgid_mark && strlen(o.pgid_mark) > LSB_SSH_MARK_MAX)
    return luaL_error(L, "bad option 'pgid_mark' to 'exec' (longer than %d bytes)", LSB_SSH_MARK_MAX);
  if (lua_getfield(L, 3, "stdin") == LUA_TSTRING) {
    o.stdin_data = lua_tolstring(L, -1, &o.stdin_len);
    o.has_stdin = 1;
  }
  lua_pop(L, 1);
  if (S->state != LSB_SSH_READY) return not_ready(L, S);
  st = lsb_stream_new(S->ctx, lsb_opt_stream_mode(L, 3, 1, 1), max_line < 1 ? 1 : (size_t)max_line);
  if (!st) return luaL_error(L, "not enough memory");
  rc = lsb_ssh_exec(S, st, &o);
  if (rc != 0) {
    lsb_stream_unref(st);
    return luaL_error(L, "not enough memory");
  }
  return lsb_push_stream(L, st, 0);
}

static const char *const xfer_options[] = {"local", "content", "remote", "mode",
                                           NULL};

static int xfer(lua_State *L, int get) {
  lsb_ssh_session *S = open_session(L);
  lsb_sftp_opts o;
  lsb_stream *st;
  const char *local;
  int rc;
  memset(&o, 0, sizeof o);
  luaL_checktype(L, 2, LUA_TTABLE);
  lsb_check_options(L, 2, get ? "sftp_get" : "sftp_put", xfer_options);
  o.get = get;
  o.local_fd = -1;
  o.remote_path = lsb_opt_str(L, 2, get ? "sftp_get" : "sftp_put", "remote", NULL, 1);
  o.mode = (long)lsb_opt_num(L, 2, get ? "sftp_get" : "sftp_put", "mode", 0644, 0);
  local = lsb_opt_str(L, 2, get ? "sftp_get" : "sftp_put", "local", NULL, 0);
  if (!get && !local) {
    if (lua_getfield(L, 2, "content") != LUA_TSTRING)
      return luaL_error(L, "bad argument to 'sftp_put' (local or content expected)");
    o.content = lua_tolstring(L, -1, &o.content_len);
    lua_pop(L, 1);
  }
  if (get && !local) return luaL_error(L, "bad argument to 'sftp_get' (local expected)");
  if (S->state != LSB_SSH_READY) return not_ready(L, S);
  if (local) {
    struct stat sb;
    o.local_fd = get ? open(local, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)o.mode)
                     : open(local, O_RDONLY | O_CLOEXEC);
    if (o.local_fd < 0) return lsb_fail_errno(L, errno, "%s", local);
    if (!get) {
      if (fstat(o.local_fd, &sb) != 0 || S_ISDIR(sb.st_mode)) {
        close(o.local_fd);
        return lsb_fail(L, "EISDIR", "%s: not a regular file", local);
      }
      o.local_size = (double)sb.st_size;
    }
  }
  st = lsb_stream_new(S->ctx, LSB_STREAM_PROGRESS, 1024);
  if (!st) {
    if (o.local_fd >= 0) close(o.local_fd);
    return luaL_error(L, "not enough memory");
  }
  rc = lsb_sftp_start(S, st, &o);
  if (rc != 0) {
    if (o.local_fd >= 0) close(o.local_fd);
    lsb_stream_unref(st);
    return luaL_error(L, "not enough memory");
  }
  return lsb_push_stream(L, st, 0);
}

/* s:sftp_put{ local = path | content = string, remote = path, mode = n } */
static int ss_put(lua_State *L) { return xfer(L, 0); }
/* s:sftp_get{ remote = path, local = path, mode = n } */
static int ss_get(lua_State *L) { return xfer(L, 1); }

const luaL_Reg lsb_ssh_funcs[] = {{"ssh_connect", core_ssh_connect}, {NULL, NULL}};

void lsb_open_ssh(lua_State *L) {
  static const luaL_Reg meta[] = {
      {"__gc", ss_gc}, {"__close", ss_close}, {"__tostring", ss_tostring},
      {NULL, NULL}};
  static const luaL_Reg methods[] = {
      {"ready", ss_ready},   {"wait_on", ss_wait_on},
      {"state", ss_state},   {"error", ss_error},
      {"host_key", ss_host_key}, {"accept_host_key", ss_accept_host_key},
      {"exec", ss_exec},     {"sftp_put", ss_put},
      {"sftp_get", ss_get},  {"close", ss_close},
      {NULL, NULL}};
  static const luaL_Reg cfg_meta[] = {
      {"__gc", cfg_gc}, {"__tostring", cfg_tostring}, {NULL, NULL}};
  lsb_new_class(L, SESSION_MT, meta, methods);
  lsb_new_class(L, CONFIG_MT, cfg_meta, NULL);
  libssh2_init(0);
}
