#include "gateway/validation/text.h"

#include <arpa/inet.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gateway/validation/person_name.h"
#include "unicode/normalizer2.h"
#include "unicode/uchar.h"
#include "unicode/unistr.h"
#include "unicode/utf16.h"
#include "unicode/utf8.h"

namespace lienthong::validation {
namespace {

bool IsAtext(char c) {
  static constexpr absl::string_view kSpecials = "!#$%&'*+-/=?^_`{|}~";
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         kSpecials.find(c) != absl::string_view::npos;
}

bool IsDomainLabel(absl::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  for (char c : label) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') {
      return false;
    }
  }
  return true;
}

}  // namespace

size_t FindInvalidUtf8(absl::string_view text) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  const int32_t length = static_cast<int32_t>(text.size());
  int32_t i = 0;
  while (i < length) {
    const int32_t start = i;
    UChar32 c;
    U8_NEXT(bytes, i, length, c);
    if (c < 0) return static_cast<size_t>(start);
  }
  return text.size();
}

size_t CountCodePoints(absl::string_view text) {
  size_t count = 0;
  for (char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return count;
}

bool IsControlCharacter(uint32_t c) {
  return c < 0x20 || (c >= 0x7F && c <= 0x9F) || (c >= 0x202A && c <= 0x202E) ||
         (c >= 0x2066 && c <= 0x2069);
}

size_t DigitAt(absl::string_view text, size_t i, char* digit) {
  if (i < text.size() &&
      absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) {
    *digit = text[i];
    return 1;
  }
  if (i + 3 <= text.size() && text[i] == '\xEF' && text[i + 1] == '\xBC' &&
      static_cast<unsigned char>(text[i + 2]) >= 0x90 &&
      static_cast<unsigned char>(text[i + 2]) <= 0x99) {
    *digit = static_cast<char>(
        '0' + (static_cast<unsigned char>(text[i + 2]) - 0x90));
    return 3;
  }
  return 0;
}

bool IsVisibleAscii(absl::string_view text) {
  for (char c : text) {
    if (c < 0x21 || c > 0x7E) return false;
  }
  return true;
}

bool IsPrintableAscii(absl::string_view text) {
  for (char c : text) {
    if (c < 0x20 || c > 0x7E) return false;
  }
  return true;
}

std::optional<ControlCharacter> FindControlCharacter(
    absl::string_view utf8, absl::string_view allowed) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(utf8.data());
  const int32_t length = static_cast<int32_t>(utf8.size());
  int32_t i = 0;
  int position = 0;
  while (i < length) {
    UChar32 c;
    U8_NEXT(bytes, i, length, c);
    ++position;
    if (c < 0 || !IsControlCharacter(static_cast<uint32_t>(c))) continue;
    if (c < 0x80 && allowed.find(static_cast<char>(c)) != allowed.npos) {
      continue;
    }
    return ControlCharacter{static_cast<uint32_t>(c), position};
  }
  return std::nullopt;
}

absl::Status ValidateText(absl::string_view text, size_t max_bytes,
                          bool multiline) {
  if (text.size() > max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("longer than ", max_bytes, " bytes"));
  }
  if (FindInvalidUtf8(text) != text.size()) {
    return absl::InvalidArgumentError("not valid UTF-8");
  }
  if (FindControlCharacter(text, multiline ? "\t\n\r" : "").has_value()) {
    return absl::InvalidArgumentError("contains control characters");
  }
  return absl::OkStatus();
}

absl::StatusOr<icu::UnicodeString> DecomposePersonName(
    absl::string_view name, absl::string_view field) {
  const auto invalid = [field](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat(field, " ", what));
  };
  const auto too_long = [&invalid] {
    return invalid(absl::StrCat("is longer than ", kMaxPersonNameCharacters,
                                " characters"));
  };
  // NFD of a character is at most a few code points of at most 4 bytes:
  // longer input cannot be a name, and ICU need not see it.
  if (name.size() > kMaxPersonNameCharacters * 16) return too_long();
  if (FindInvalidUtf8(name) != name.size()) {
    return invalid("is not valid UTF-8");
  }
  UErrorCode icu_status = U_ZERO_ERROR;
  // A shared singleton owned by ICU; normalize() is const and thread-safe.
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(icu_status);
  if (U_FAILURE(icu_status)) {
    return absl::InternalError("ICU normalizer is not available");
  }
  // Decomposed, every diacritic is a mark after its letter, whether the
  // caller sent "ễ" as one code point (NFC) or three (NFD).
  icu::UnicodeString decomposed =
      nfd->normalize(icu::UnicodeString::fromUTF8(icu::StringPiece(
                         name.data(), static_cast<int32_t>(name.size()))),
                     icu_status);
  if (U_FAILURE(icu_status)) {
    return absl::InternalError("ICU normalization failed");
  }
  size_t characters = 0;
  bool has_letter = false;
  bool pending_space = false;
  for (int32_t i = 0; i < decomposed.length();) {
    const UChar32 c = decomposed.char32At(i);
    i += U16_LENGTH(c);
    // Combining diacritical marks (Vietnamese's tones, ă â ê ô ơ ư) belong
    // to the letter before them: no character of their own.
    if (c >= 0x0300 && c <= 0x036F) continue;
    if (u_isUWhiteSpace(c)) {
      pending_space = characters > 0;
      continue;
    }
    const bool letter = u_isalpha(c);
    if (!letter && c != '\'' && c != '-' && c != '.') {
      return invalid("may contain only letters, spaces and ' - .");
    }
    has_letter = has_letter || letter;
    characters += pending_space ? 2 : 1;  // whitespace between words: one
    pending_space = false;
    if (characters > kMaxPersonNameCharacters) return too_long();
  }
  if (!has_letter) {
    return invalid(characters == 0 ? "is required" : "must contain a letter");
  }
  return decomposed;
}

absl::Status ValidatePersonName(absl::string_view name,
                                absl::string_view field) {
  return DecomposePersonName(name, field).status();
}

bool IsLoopbackHost(absl::string_view host) {
  host = absl::StripPrefix(absl::StripSuffix(host, "]"), "[");
  if (host == "localhost" || host == "::1") return true;
  in_addr v4{};
  return inet_pton(AF_INET, std::string(host).c_str(), &v4) == 1 &&
         (ntohl(v4.s_addr) >> 24) == 127;
}

absl::Status ValidateEmail(absl::string_view email) {
  const absl::Status bad = absl::InvalidArgumentError("not an e-mail address");
  if (email.empty() || email.size() > 254) return bad;
  const size_t at = email.find('@');
  if (at == absl::string_view::npos || email.find('@', at + 1) !=
                                           absl::string_view::npos) {
    return bad;
  }
  absl::string_view local = email.substr(0, at);
  absl::string_view domain = email.substr(at + 1);
  if (local.empty() || local.size() > 64) return bad;
  for (absl::string_view group : absl::StrSplit(local, '.')) {
    if (group.empty()) return bad;
    for (char c : group) {
      if (!IsAtext(c)) return bad;
    }
  }
  std::vector<absl::string_view> labels = absl::StrSplit(domain, '.');
  if (labels.size() < 2) return bad;
  for (absl::string_view label : labels) {
    if (!IsDomainLabel(label)) return bad;
  }
  return absl::OkStatus();
}

absl::Status ValidatePhoneNumber(absl::string_view phone) {
  const absl::Status bad = absl::InvalidArgumentError("not a phone number");
  absl::string_view rest = phone;
  if (!rest.empty() && rest.front() == '+') rest.remove_prefix(1);
  int digits = 0;
  bool after_digit = false;
  for (char c : rest) {
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      ++digits;
      after_digit = true;
    } else if ((c == ' ' || c == '.' || c == '-') && after_digit) {
      after_digit = false;  // one separator, then a digit again
    } else {
      return bad;
    }
  }
  if (!after_digit || digits < 8 || digits > 15) return bad;
  return absl::OkStatus();
}

}  // namespace lienthong::validation
