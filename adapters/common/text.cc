#include "adapters/common/text.h"

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gateway/status/status_macros.h"
#include "gateway/validation/text.h"
#include "unicode/locid.h"
#include "unicode/normalizer2.h"
#include "unicode/uchar.h"
#include "unicode/unistr.h"
#include "unicode/utf8.h"

namespace lienthong::adapters {
namespace {

absl::StatusOr<icu::UnicodeString> Normalize(absl::string_view utf8,
                                             const icu::Normalizer2* normalizer,
                                             UErrorCode status) {
  if (U_FAILURE(status)) {
    return absl::InternalError("ICU normalizer is not available");
  }
  if (validation::FindInvalidUtf8(utf8) != utf8.size()) {
    return absl::InvalidArgumentError("text is not valid UTF-8");
  }
  const icu::UnicodeString source = icu::UnicodeString::fromUTF8(
      icu::StringPiece(utf8.data(), static_cast<int32_t>(utf8.size())));
  icu::UnicodeString result = normalizer->normalize(source, status);
  if (U_FAILURE(status)) {
    return absl::InternalError("ICU normalization failed");
  }
  return result;
}

bool IsStrippedMark(UChar32 c) { return c >= 0x0300 && c <= 0x036F; }

}  // namespace

absl::StatusOr<std::string> FoldName(absl::string_view utf8) {
  // The rule is the gateway's (the server checks callers' names with it);
  // what passes folds without another check.
  LIENTHONG_RETURN_IF_ERROR(validation::ValidatePersonName(utf8, "name"));
  UErrorCode icu_status = U_ZERO_ERROR;
  // A shared singleton owned by ICU; normalize() is const and thread-safe.
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(icu_status);
  LIENTHONG_ASSIGN_OR_RETURN(icu::UnicodeString decomposed,
                             Normalize(utf8, nfd, icu_status));
  icu::UnicodeString folded;
  bool pending_space = false;
  for (int32_t i = 0; i < decomposed.length();) {
    const UChar32 c = decomposed.char32At(i);
    i += U16_LENGTH(c);
    if (IsStrippedMark(c)) continue;
    if (u_isUWhiteSpace(c)) {
      pending_space = !folded.isEmpty();
      continue;
    }
    if (pending_space) {
      folded.append(static_cast<UChar>(' '));
      pending_space = false;
    }
    // Đ/đ do not decompose in Unicode: the bar is not a combining mark.
    folded.append(c == 0x0110 || c == 0x0111 ? static_cast<UChar32>('D') : c);
  }
  // The root locale: no Turkish dotless-i or other language-specific rules.
  folded.toUpper(icu::Locale::getRoot());
  std::string out;
  folded.toUTF8String(out);
  return out;
}

absl::StatusOr<std::string> NormalizeNfc(absl::string_view utf8) {
  UErrorCode icu_status = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(icu_status);
  absl::StatusOr<icu::UnicodeString> composed =
      Normalize(utf8, nfc, icu_status);
  if (!composed.ok()) return composed.status();
  std::string out;
  composed->toUTF8String(out);
  return out;
}

NameParts SplitVietnameseName(absl::string_view full) {
  std::vector<absl::string_view> words =
      absl::StrSplit(full, absl::ByAnyChar(" \t\n\r\f\v"), absl::SkipEmpty());
  NameParts parts;
  if (words.empty()) return parts;
  parts.given = std::string(words.back());
  if (words.size() == 1) return parts;
  parts.family = std::string(words.front());
  parts.middle = absl::StrJoin(words.begin() + 1, words.end() - 1, " ");
  return parts;
}

std::string ReplaceControlCharacters(absl::string_view utf8) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(utf8.data());
  const size_t length = utf8.size();
  std::string out;
  out.reserve(length);
  size_t i = 0;
  while (i < length) {
    const size_t start = i;
    UChar32 c;
    U8_NEXT(bytes, i, length, c);
    if (c < 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
    } else if (c < 0x20 || (c >= 0x7F && c <= 0x9F)) {
      out.push_back(' ');
    } else {
      out.append(utf8.data() + start, i - start);
    }
  }
  return out;
}

}  // namespace lienthong::adapters
