#include "gateway/tls/fingerprint.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace lienthong::tls {

absl::StatusOr<std::string> NormalizeFingerprint(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  if (size_t eq = text.find('='); eq != absl::string_view::npos &&
      absl::StartsWithIgnoreCase(text, "sha256")) {
    text.remove_prefix(eq + 1);
  }
  std::string hex;
  hex.reserve(64);
  for (char c : text) {
    if (c == ':') continue;
    if (!absl::ascii_isxdigit(c)) {
      return absl::InvalidArgumentError(
          "must be a SHA-256 fingerprint: hex digits, optionally with ':'");
    }
    hex.push_back(absl::ascii_tolower(c));
  }
  if (hex.size() != 64) {
    return absl::InvalidArgumentError(absl::StrCat(
        "must be a SHA-256 fingerprint of 64 hex digits, not ", hex.size()));
  }
  return hex;
}

}  // namespace lienthong::tls
