/* The few lines every C unit test shares: CHECK(cond) counts a failure and
 * says where; check_report(name) ends main with the verdict. */
#ifndef LSB_TEST_CHECK_H
#define LSB_TEST_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(cond)                                                         \
  do {                                                                      \
    if (!(cond)) {                                                          \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                           \
    }                                                                       \
  } while (0)

static inline int check_report(const char *name) {
  if (failures) {
    fprintf(stderr, "%s: %d failure(s)\n", name, failures);
    return 1;
  }
  printf("%s: all tests passed\n", name);
  return 0;
}

#endif
