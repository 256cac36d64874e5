/* Helpers shared by every part of the core: errors as (name, message), the
 * signal names, base64; and for the bindings, the fail tuple and the option
 * readers.  One copy of each. */
#ifndef LSB_UTIL_H
#define LSB_UTIL_H

#include <stdarg.h>
#include <stddef.h>

#include <lauxlib.h>
#include <lua.h>

#define LSB_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* ------------------------------------------------------------------ */
/* errors: named where they arise, never parsed back out of a message */

typedef struct lsb_err {
  char name[24]; /* "ETIMEDOUT"; "" when there is no error */
  char *text;    /* "ETIMEDOUT: message"; NULL only when out of memory */
} lsb_err;

#define lsb_err_isset(e) ((e)->name[0] != '\0')
/* Replace e with (name, "name: " fmt...). */
void lsb_err_set(lsb_err *e, const char *name, const char *fmt, ...) LSB_PRINTF(3, 4);
void lsb_err_setv(lsb_err *e, const char *name, const char *fmt, va_list ap)
    LSB_PRINTF(3, 0);
/* dst becomes a copy of src (or is cleared when src is NULL or unset). */
void lsb_err_copy(lsb_err *dst, const lsb_err *src);
void lsb_err_free(lsb_err *e);
/* "NAME: message", or the name alone when the text was lost */
const char *lsb_err_text(const lsb_err *e);
/* The name of a system errno value ("ENOENT", "EACCES", ...) in buf. */
const char *lsb_errno_name(int err, char *buf, size_t size);
/* e becomes (the errno's name, "NAME: " fmt... ": " strerror(err)). */
void lsb_err_set_errno(lsb_err *e, int err, const char *fmt, ...) LSB_PRINTF(3, 4);

/* ------------------------------------------------------------------ */
/* signals: the one table of names ("TERM" for SIGTERM) */

/* "TERM" for SIGTERM, "SIG<n>" for one without a name; returns buf. */
const char *lsb_signame(int sig, char *buf, size_t size);
/* SIGTERM for "TERM" (or "SIGTERM"); 0 when unknown. */
int lsb_signum(const char *name);
/* The i-th entry of the table (0-based); NULL past the end. */
const char *lsb_signal_at(int i, int *sig);

/* ------------------------------------------------------------------ */
/* base64 (RFC 4648, the standard alphabet) */

#define LSB_BASE64_LEN(n) (((n) + 2) / 3 * 4)
/* Writes the encoding of in[0..n) and a NUL to out (LSB_BASE64_LEN(n) + 1
 * bytes); pad: with '=' padding.  Returns the length written. */
size_t lsb_base64_encode(const unsigned char *in, size_t n, char *out, int pad);
/* Decodes in[0..n) into out (at least n / 4 * 3 + 3 bytes); padding is
 * optional, whitespace skipped.  Returns the length, or (size_t)-1 when in
 * is not base64. */
size_t lsb_base64_decode(const char *in, size_t n, unsigned char *out);

/* ------------------------------------------------------------------ */
/* for the bindings */

/* A malloc'd copy of s (NULL for NULL); raises when out of memory. */
char *lsb_strdup(lua_State *L, const char *s);

/* The fail tuple (as luv's): nil, "NAME: message", "NAME"; returns 3. */
int lsb_fail(lua_State *L, const char *name, const char *fmt, ...) LSB_PRINTF(3, 4);
int lsb_fail_err(lua_State *L, const lsb_err *e);
int lsb_fail_uv(lua_State *L, int uverr, const char *what);
/* nil, "NAME: " fmt... ": " strerror(err), "NAME" for an errno value */
int lsb_fail_errno(lua_State *L, int err, const char *fmt, ...) LSB_PRINTF(3, 4);

/* Option tables: raise on unknown keys, naming the function and the key. */
void lsb_check_options(lua_State *L, int idx, const char *fn,
                       const char *const known[]);
/* opts[k]: truthiness, dflt when nil */
int lsb_opt_bool(lua_State *L, int idx, const char *k, int dflt);
/* opts[k]: a number (dflt when nil); raises "bad option 'k' to 'fn' (...)"
 * for another type, and for a negative or NaN one when nonneg. */
double lsb_opt_num(lua_State *L, int idx, const char *fn, const char *k,
                   double dflt, int nonneg);
/* opts[k]: a string, anchored in the table (NULL when nil and not required) */
const char *lsb_opt_str(lua_State *L, int idx, const char *fn, const char *k,
                        size_t *len, int required);
/* The stream flags of the options lines/capture/progress (stream.h). */
int lsb_opt_stream_mode(lua_State *L, int idx, int dflt_lines, int dflt_progress);

/* A metatable `name` (its __name) with the metamethods `meta` and, when
 * `methods` is not NULL, __index = a table of them; nothing left on the stack. */
void lsb_new_class(lua_State *L, const char *name, const luaL_Reg *meta,
                   const luaL_Reg *methods);

/* Set t[k] = v on the table at the top of the stack. */
void lsb_set_num(lua_State *L, const char *k, double v);
void lsb_set_int(lua_State *L, const char *k, lua_Integer v);
void lsb_set_str(lua_State *L, const char *k, const char *v);
void lsb_set_bool(lua_State *L, const char *k, int v);

#endif
