// FUZZ_CHECK: a property a fuzz target asserts about the code under test.
// A violation aborts, which libFuzzer (and the corpus replay under ctest)
// reports as a crash with the input that caused it.
#ifndef LIENTHONG_TESTS_FUZZ_FUZZ_CHECK_H_
#define LIENTHONG_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition)                                          \
  do {                                                                 \
    if (!(condition)) {                                                \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, \
                   __LINE__, #condition);                              \
      std::abort();                                                    \
    }                                                                  \
  } while (false)

#endif  // LIENTHONG_TESTS_FUZZ_FUZZ_CHECK_H_
