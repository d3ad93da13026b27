// FUZZ_CHECK: a property a fuzz target asserts about the code under test.
// A violation aborts, which libFuzzer (and the corpus replay under ctest)
// reports as a crash with the input that caused it. CheckNoEcho and
// CheckNoIdEcho: the promise that a message never repeats what it was
// given, nor a citizen ID in it.
#ifndef LIENTHONG_TESTS_FUZZ_FUZZ_CHECK_H_
#define LIENTHONG_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstddef>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

#define FUZZ_CHECK(condition)                                          \
  do {                                                                 \
    if (!(condition)) {                                                \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, \
                   __LINE__, #condition);                              \
      std::abort();                                                    \
    }                                                                  \
  } while (false)

namespace lienthong::fuzz {

// Checks that `message` holds no run of `run` bytes of `input`. A run made
// only of `own_alphabet`, the characters of the message's own fixed text
// (its words, names and numbers), is not held to it: it may be a piece of
// that text rather than an echo, as the fuzzer finds; input worth echoing
// (JSON, a token, an ID in its context) has some other character.
inline void CheckNoEcho(absl::string_view message, absl::string_view input,
                        size_t run, absl::string_view own_alphabet) {
  for (size_t i = 0; i + run <= input.size(); ++i) {
    const absl::string_view piece = input.substr(i, run);
    if (piece.find_first_not_of(own_alphabet) == absl::string_view::npos) {
      continue;
    }
    FUZZ_CHECK(!absl::StrContains(message, piece));
  }
}

// Checks that `message` holds none of the citizen IDs in `input`: its runs
// of exactly 9 or 12 digits, as validation::MaskCitizenIdsInText finds
// them. Unlike CheckNoEcho, whatever the message's own alphabet (an ID is
// all digits, which every message's numbers share); no message's own
// number has 9 digits.
inline void CheckNoIdEcho(absl::string_view message, absl::string_view input) {
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  for (size_t i = 0; i < input.size();) {
    if (!digit(input[i])) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < input.size() && digit(input[end])) ++end;
    if (end - i == 9 || end - i == 12) {
      FUZZ_CHECK(!absl::StrContains(message, input.substr(i, end - i)));
    }
    i = end;
  }
}

}  // namespace lienthong::fuzz

#endif  // LIENTHONG_TESTS_FUZZ_FUZZ_CHECK_H_
