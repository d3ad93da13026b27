// Text handling shared by the adapters: FoldName (the upper-case,
// diacritic-free form of a name the national systems compare), NormalizeNfc,
// SplitVietnameseName (family / middle / given), ReplaceControlCharacters
// (another system's free text made safe to show) and MaskedForLog (made safe
// to log).
//
// All functions are thread-safe and keep no state: they use only ICU's
// shared, immutable normalizer singletons.
#ifndef LIENTHONG_ADAPTERS_COMMON_TEXT_H_
#define LIENTHONG_ADAPTERS_COMMON_TEXT_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace lienthong::adapters {

// Returns `utf8` (NFC or NFD) upper-cased with diacritics removed, đ/Đ
// written D, and runs of whitespace collapsed to one space and trimmed:
// "  Đặng  đình Đức " -> "DANG DINH DUC". Letters of any script are kept
// (those without a decomposition, such as Ø, stay as they are, upper-cased);
// besides letters and whitespace only ' - . are allowed.
//
// Takes the names validation::ValidatePersonName takes, and fails with its
// INVALID_ARGUMENT messages for the field "name" ("name is required", "name
// may contain only letters, spaces and ' - .", ...), which never echo the
// input.
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

// Returns `utf8` with each control character (validation::
// IsControlCharacter: C0, DEL, C1 and the bidirectional overrides and
// isolates) made a space and each ill-formed UTF-8 sequence made U+FFFD; every
// other character, Vietnamese letters included, is kept as it is. For another
// system's free text (an error message) on its way to an operator: an escape
// sequence in it (ESC, or C1's CSI and OSC) could otherwise clear the terminal,
// move the cursor or write the clipboard, and ill-formed UTF-8 cannot go into a
// proto string.
std::string ReplaceControlCharacters(absl::string_view utf8);

// Returns another system's free text (an upstream error message) fit for a
// log field: ReplaceControlCharacters, at most `max_bytes` bytes cut at a
// UTF-8 boundary, then every digit (validation::DigitAt: ASCII or
// full-width) made one '*' (IDs, phone numbers). Names cannot
// be recognised and are not masked: log such text only where the system's
// messages are not expected to carry them.
std::string MaskedForLog(absl::string_view text, size_t max_bytes = 200);

}  // namespace lienthong::adapters

#endif  // LIENTHONG_ADAPTERS_COMMON_TEXT_H_
