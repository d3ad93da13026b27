// Text of catalogue values: UTF-8, NFC normalisation, control characters
// and lengths (declared in catalogue_rows.h).
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "gateway/cli/catalogue_rows.h"
#include "gateway/validation/text.h"
#include "unicode/normalizer2.h"
#include "unicode/unistr.h"
#include "unicode/utf8.h"

namespace lienthong::cli::catalogue_internal {
namespace {

// How much of a bad value a message repeats.
constexpr int kMaxQuotedLength = 60;

// REQUIRES: `utf8` is valid UTF-8.
absl::StatusOr<std::string> ToNfc(absl::string_view utf8) {
  UErrorCode status = U_ZERO_ERROR;
  // A singleton owned by ICU; its const methods are thread-safe.
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status)) {
    return absl::InternalError("the ICU NFC normaliser is not available");
  }
  const icu::UnicodeString source = icu::UnicodeString::fromUTF8(
      icu::StringPiece(utf8.data(), static_cast<int32_t>(utf8.size())));
  if (nfc->isNormalized(source, status) && U_SUCCESS(status)) {
    return std::string(utf8);
  }
  status = U_ZERO_ERROR;
  const icu::UnicodeString normal = nfc->normalize(source, status);
  if (U_FAILURE(status)) {
    return absl::InternalError(
        absl::StrCat("ICU NFC normalisation failed: ", u_errorName(status)));
  }
  std::string out;
  normal.toUTF8String(out);
  return out;
}

}  // namespace

size_t FindInvalidUtf8(absl::string_view s) {
  const size_t at = validation::FindInvalidUtf8(s);
  return at == s.size() ? kValid : at;
}

std::string Quoted(absl::string_view s) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(s.data());
  const int32_t length = static_cast<int32_t>(s.size());
  std::string out = "\"";
  int32_t i = 0;
  int characters = 0;
  while (i < length) {
    if (++characters > kMaxQuotedLength) {
      absl::StrAppend(&out, "…");
      break;
    }
    const int32_t start = i;
    UChar32 c;
    U8_NEXT(bytes, i, length, c);
    if (c < 0) {
      absl::StrAppend(&out, absl::StrFormat("\\x%02X", bytes[start]));
      i = start + 1;
    } else if (c == '"' || c == '\\') {
      absl::StrAppend(&out, c == '"' ? "\\\"" : "\\\\");
    } else if (validation::IsControlCharacter(static_cast<uint32_t>(c))) {
      // C1 controls and bidirectional overrides too: a terminal acts on
      // them, or shows the text other than it is.
      absl::StrAppend(&out, c < 0x80 ? absl::StrFormat("\\x%02X", c)
                                     : absl::StrFormat("\\u%04X", c));
    } else {
      out.append(s.data() + start, static_cast<size_t>(i - start));
    }
  }
  out.push_back('"');
  return out;
}

int CodePointCount(absl::string_view utf8) {
  return static_cast<int>(validation::CountCodePoints(utf8));
}

std::optional<std::string> CleanText(absl::string_view raw,
                                     const FieldSpec& spec,
                                     absl::string_view label,
                                     std::vector<std::string>& errors) {
  if (size_t bad = FindInvalidUtf8(raw); bad != kValid) {
    errors.push_back(
        absl::StrFormat("%s: invalid UTF-8 at byte %d of the value (0x%02X)",
                        label, bad + 1, static_cast<unsigned char>(raw[bad])));
    return std::nullopt;
  }
  std::string text(raw);
  if (spec.multiline) text = absl::StrReplaceAll(text, {{"\r\n", "\n"}});
  absl::StatusOr<std::string> nfc = ToNfc(text);
  if (!nfc.ok()) {
    errors.push_back(absl::StrCat(label, ": ", nfc.status().message()));
    return std::nullopt;
  }
  text = std::string(absl::StripAsciiWhitespace(*nfc));
  if (auto control = validation::FindControlCharacter(
          text, spec.multiline ? "\t\n" : "")) {
    errors.push_back(
        absl::StrFormat("%s: control character U+%04X at character %d", label,
                        control->code_point, control->position));
    return std::nullopt;
  }
  if (const int length = CodePointCount(text); length > spec.max_length) {
    errors.push_back(absl::StrCat(label, ": too long, ", length,
                                  " characters (at most ", spec.max_length,
                                  ")"));
    return std::nullopt;
  }
  if (text.size() > static_cast<size_t>(kMaxValueBytes)) {
    errors.push_back(absl::StrCat(label, ": too long, ", text.size(),
                                  " bytes in UTF-8 (at most ", kMaxValueBytes,
                                  ")"));
    return std::nullopt;
  }
  return text;
}

}  // namespace lienthong::cli::catalogue_internal
