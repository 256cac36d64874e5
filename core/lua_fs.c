/* The controller's own file system, for the task layer (util/fs.lua) and the
 * local transfers (transfer.lua): stat, readdir, mkdir, realpath, whole-file
 * reads, private files, modes, the terminal.  Plain blocking system calls on
 * local paths; every failure is the fail tuple with the errno's name. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lua_core.h"

static const char *type_name(mode_t m) {
  if (S_ISREG(m)) return "file";
  if (S_ISDIR(m)) return "directory";
  if (S_ISLNK(m)) return "link";
  return "other";
}

static int push_stat(lua_State *L, int follow) {
  const char *path = luaL_checkstring(L, 1);
  struct stat st;
  if ((follow ? stat(path, &st) : lstat(path, &st)) != 0)
    return lsb_fail_errno(L, errno, "%s", path);
  lua_createtable(L, 0, 8);
  lsb_set_str(L, "type", type_name(st.st_mode));
  lsb_set_int(L, "size", (lua_Integer)st.st_size);
  lsb_set_int(L, "mode", (lua_Integer)(st.st_mode & 07777));
  lsb_set_int(L, "mtime", (lua_Integer)st.st_mtime);
  lsb_set_int(L, "uid", (lua_Integer)st.st_uid);
  lsb_set_int(L, "gid", (lua_Integer)st.st_gid);
  lsb_set_int(L, "dev", (lua_Integer)st.st_dev);
  lsb_set_int(L, "ino", (lua_Integer)st.st_ino);
  return 1;
}

/* core.stat(path) -> { type, size, mode, mtime, uid, gid, dev, ino } | fail
 * (links followed; type "file" | "directory" | "other") */
static int fs_stat(lua_State *L) { return push_stat(L, 1); }

/* core.lstat(path): the same for the link itself (type "link") */
static int fs_lstat(lua_State *L) { return push_stat(L, 0); }

/* core.readdir(path) -> { names... } (unsorted, without . and ..) | fail */
static int fs_readdir(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  DIR *d = opendir(path);
  struct dirent *e;
  lua_Integer n = 0;
  if (!d) return lsb_fail_errno(L, errno, "%s", path);
  lua_newtable(L);
  for (;;) {
    errno = 0;
    if (!(e = readdir(d))) break;
    if (e->d_name[0] == '.' &&
        (e->d_name[1] == '\0' || (e->d_name[1] == '.' && e->d_name[2] == '\0')))
      continue;
    lua_pushstring(L, e->d_name);
    lua_rawseti(L, -2, ++n);
  }
  if (errno != 0) {
    int err = errno;
    closedir(d);
    return lsb_fail_errno(L, err, "%s", path);
  }
  closedir(d);
  return 1;
}

/* core.mkdir(path [, mode = 0777]) -> true | fail (EEXIST when it exists);
 * the mode is masked by the umask, as mkdir(2) does */
static int fs_mkdir(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  lua_Integer mode = luaL_optinteger(L, 2, 0777);
  if (mkdir(path, (mode_t)mode) != 0) return lsb_fail_errno(L, errno, "mkdir %s", path);
  lua_pushboolean(L, 1);
  return 1;
}

/* core.realpath(path) -> the absolute path without links, . or .. | fail */
static int fs_realpath(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  char *r = realpath(path, NULL);
  if (!r) return lsb_fail_errno(L, errno, "%s", path);
  lua_pushstring(L, r);
  free(r);
  return 1;
}

/* core.read_file(path) -> the whole content | fail */
static int fs_read_file(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  luaL_Buffer b;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return lsb_fail_errno(L, errno, "%s", path);
  luaL_buffinit(L, &b);
  for (;;) {
    char *p = luaL_prepbuffer(&b);
    ssize_t n = read(fd, p, LUAL_BUFFERSIZE);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      return lsb_fail_errno(L, err, "%s", path);
    }
    if (n == 0) break;
    luaL_addsize(&b, (size_t)n);
  }
  close(fd);
  luaL_pushresult(&b);
  return 1;
}

/* core.isatty(fd) -> is file descriptor fd a terminal? */
static int fs_isatty(lua_State *L) {
  lua_pushboolean(L, isatty((int)luaL_checkinteger(L, 1)));
  return 1;
}

/* core.whoami() -> name, home of the user this process runs as (the
 * password database: NSS, LDAP, ... as getpwuid(3) sees them), or the fail
 * tuple when it knows no such user */
static int fs_whoami(lua_State *L) {
  struct passwd pw, *found = NULL;
  long max = sysconf(_SC_GETPW_R_SIZE_MAX);
  size_t size = max > 0 ? (size_t)max : 16384;
  char *buf = lua_newuserdatauv(L, size, 0); /* freed by the collector, whatever happens */
  int rc = getpwuid_r(getuid(), &pw, buf, size, &found);
  if (rc != 0) return lsb_fail_errno(L, rc, "getpwuid_r");
  if (!found) return lsb_fail(L, "ENOENT", "no user %d in the password database", (int)getuid());
  lua_pushstring(L, pw.pw_name);
  lua_pushstring(L, pw.pw_dir);
  return 2;
}

/* core.tty_size([fd]) -> columns, rows of the terminal on fd, or of the
 * controlling terminal (/dev/tty) without one; nil when there is none */
static int fs_tty_size(lua_State *L) {
  struct winsize ws;
  int fd, rc;
  if (!lua_isnoneornil(L, 1)) {
    fd = (int)luaL_checkinteger(L, 1);
    rc = ioctl(fd, TIOCGWINSZ, &ws);
  } else {
    fd = open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return 0;
    rc = ioctl(fd, TIOCGWINSZ, &ws);
    close(fd);
  }
  if (rc != 0 || ws.ws_col == 0 || ws.ws_row == 0) return 0;
  lua_pushinteger(L, ws.ws_col);
  lua_pushinteger(L, ws.ws_row);
  return 2;
}

/* core.chmod(path, mode) -> true | fail */
static int fs_chmod(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  lua_Integer mode = luaL_checkinteger(L, 2);
  if (chmod(path, (mode_t)mode) != 0) return lsb_fail_errno(L, errno, "chmod %s", path);
  lua_pushboolean(L, 1);
  return 1;
}

/* core.create_private(path) -> true | fail: a new file only we can read
 * (0600), refusing to follow a symlink or to reuse an existing file. */
static int fs_create_private(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return lsb_fail_errno(L, errno, "create %s", path);
  close(fd);
  lua_pushboolean(L, 1);
  return 1;
}

/* core.file_mode(path) -> permission bits of an existing file; nil when
 * nothing is there; the fail tuple when it cannot be told (EACCES...) */
static int fs_file_mode(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  struct stat st;
  if (stat(path, &st) != 0)
    return errno == ENOENT ? 0 : lsb_fail_errno(L, errno, "stat %s", path);
  lua_pushinteger(L, (lua_Integer)(st.st_mode & 07777));
  return 1;
}

/* core.append_file(path, data) -> true | fail: data appended in one write
 * to the file, created when missing (0666 less the umask, as fopen) */
static int fs_append_file(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  size_t len, off = 0;
  const char *data = luaL_checklstring(L, 2, &len);
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return lsb_fail_errno(L, errno, "cannot append to %s", path);
  while (off < len) {
    ssize_t n = write(fd, data + off, len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      return lsb_fail_errno(L, err, "cannot append to %s", path);
    }
    off += (size_t)n;
  }
  if (close(fd) != 0) return lsb_fail_errno(L, errno, "cannot append to %s", path);
  lua_pushboolean(L, 1);
  return 1;
}

const luaL_Reg lsb_fs_funcs[] = {
    {"stat", fs_stat},         {"lstat", fs_lstat},
    {"readdir", fs_readdir},   {"mkdir", fs_mkdir},
    {"realpath", fs_realpath}, {"read_file", fs_read_file},
    {"isatty", fs_isatty},     {"tty_size", fs_tty_size},
    {"whoami", fs_whoami},
    {"chmod", fs_chmod},       {"create_private", fs_create_private},
    {"file_mode", fs_file_mode}, {"append_file", fs_append_file},
    {NULL, NULL}};
