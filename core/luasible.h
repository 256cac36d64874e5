/* What the whole core shares at build level: the version and the export
 * macro.  Every build compiles with hidden visibility (CMake's
 * C_VISIBILITY_PRESET, which the rockspec's build uses too): the one symbol
 * the shared object exports is the module's entry point, marked here. */
#ifndef LSB_LUASIBLE_H
#define LSB_LUASIBLE_H

#define LSB_VERSION "0.1.0"

#if defined(__GNUC__) || defined(__clang__)
#define LSB_EXPORT __attribute__((visibility("default")))
#else
#define LSB_EXPORT
#endif

#endif
