// Text handling shared by the adapters: FoldName (the upper-case,
// diacritic-free form of a name the national systems compare), NormalizeNfc,
// and SplitVietnameseName (family / middle / given).
//
// All functions are thread-safe: they use only ICU's shared, immutable
// normalizer singletons.
#ifndef LIENTHONG_ADAPTERS_COMMON_TEXT_H_
#define LIENTHONG_ADAPTERS_COMMON_TEXT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace lienthong::adapters {

// Longest name FoldName accepts, in characters (code points after folding).
inline constexpr int kMaxNameCharacters = 100;

// Returns `utf8` (NFC or NFD) upper-cased with diacritics removed, đ/Đ
// written D, and runs of whitespace collapsed to one space and trimmed:
// "  Đặng  đình Đức " -> "DANG DINH DUC". Letters of any script are kept
// (those without a decomposition, such as Ø, stay as they are, upper-cased);
// besides letters and whitespace only ' - . are allowed.
//
// Fails with INVALID_ARGUMENT for invalid UTF-8, an empty name, a character
// that is not allowed (digits, symbols, control characters), or more than
// kMaxNameCharacters characters. Messages never echo the input.
absl::StatusOr<std::string> FoldName(absl::string_view utf8);

// Returns `utf8` in Unicode normalization form C.
// Fails with INVALID_ARGUMENT for invalid UTF-8.
absl::StatusOr<std::string> NormalizeNfc(absl::string_view utf8);

// A Vietnamese full name in its three parts.
struct NameParts {
  std::string family;  // First word: "Nguyễn".
  std::string middle;  // Words between, joined by single spaces: "Thị Ánh".
  std::string given;   // Last word: "Ánh".
};

// Returns the parts of `full`, split at ASCII whitespace: the first word is
// the family name, the last the given name, the rest the middle name. A
// single word is the given name; an empty or blank name gives empty parts.
NameParts SplitVietnameseName(absl::string_view full);

}  // namespace lienthong::adapters

#endif  // LIENTHONG_ADAPTERS_COMMON_TEXT_H_
