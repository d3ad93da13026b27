#include "adapters/common/text.h"

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gateway/status/bounded_text.h"
#include "gateway/status/status_macros.h"
#include "gateway/validation/person_name.h"
#include "gateway/validation/text.h"
#include "unicode/bytestream.h"
#include "unicode/locid.h"
#include "unicode/normalizer2.h"
#include "unicode/uchar.h"
#include "unicode/unistr.h"
#include "unicode/utf8.h"

namespace lienthong::adapters {
namespace {

bool IsStrippedMark(UChar32 c) { return c >= 0x0300 && c <= 0x036F; }

}  // namespace

absl::StatusOr<std::string> FoldName(absl::string_view utf8) {
  // The rule is the gateway's (the server checks callers' names with it);
  // what passes folds without another check, from the decomposed form the
  // check made: a diacritic is a combining mark after its letter.
  LIENTHONG_ASSIGN_OR_RETURN(icu::UnicodeString decomposed,
                             validation::DecomposePersonName(utf8, "name"));
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
  if (validation::FindInvalidUtf8(utf8) != utf8.size()) {
    return absl::InvalidArgumentError("text is not valid UTF-8");
  }
  UErrorCode icu_status = U_ZERO_ERROR;
  // A shared singleton owned by ICU; normalizeUTF8() is const and
  // thread-safe, and works on the UTF-8 itself: text already in NFC, as
  // most is, is copied through without a round trip through UTF-16.
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(icu_status);
  if (U_FAILURE(icu_status)) {
    return absl::InternalError("ICU normalizer is not available");
  }
  std::string out;
  out.reserve(utf8.size());
  icu::StringByteSink<std::string> sink(&out);
  nfc->normalizeUTF8(
      0, icu::StringPiece(utf8.data(), static_cast<int32_t>(utf8.size())), sink,
      /*edits=*/nullptr, icu_status);
  if (U_FAILURE(icu_status)) {
    return absl::InternalError("ICU normalization failed");
  }
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
    } else if (validation::IsControlCharacter(static_cast<uint32_t>(c))) {
      out.push_back(' ');
    } else {
      out.append(utf8.data() + start, i - start);
    }
  }
  return out;
}

std::string MaskedForLog(absl::string_view text, size_t max_bytes) {
  // U+FFFD in place of an ill-formed byte can lengthen the text: cut again.
  std::string out = ReplaceControlCharacters(TruncateUtf8(text, max_bytes));
  out.resize(TruncateUtf8(out, max_bytes).size());
  std::string masked;
  masked.reserve(out.size());
  char digit;
  for (size_t i = 0; i < out.size();) {
    const size_t n = validation::DigitAt(out, i, &digit);
    if (n > 0) {
      masked.push_back('*');
      i += n;
    } else {
      masked.push_back(out[i++]);
    }
  }
  return masked;
}

}  // namespace lienthong::adapters
