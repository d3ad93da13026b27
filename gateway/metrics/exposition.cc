#include "gateway/metrics/exposition.h"

#include <charconv>
#include <cmath>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace lienthong::metrics {
namespace {

bool IsNameStart(char c, bool allow_colon) {
  return absl::ascii_isalpha(static_cast<unsigned char>(c)) || c == '_' ||
         (allow_colon && c == ':');
}

bool IsNameChar(char c, bool allow_colon) {
  return IsNameStart(c, allow_colon) ||
         absl::ascii_isdigit(static_cast<unsigned char>(c));
}

bool IsValidName(absl::string_view name, bool allow_colon) {
  if (name.empty() || !IsNameStart(name[0], allow_colon)) return false;
  for (char c : name) {
    if (!IsNameChar(c, allow_colon)) return false;
  }
  return true;
}

std::string ToChars(double value, std::chars_format format) {
  char buffer[64];
  const std::to_chars_result result =
      std::to_chars(buffer, buffer + sizeof(buffer), value, format);
  // 64 bytes hold any shortest-form double (at most 24 characters in
  // scientific form; fixed form is only asked for below 1e21).
  if (result.ec != std::errc()) return "NaN";
  return std::string(buffer, result.ptr);
}

}  // namespace

absl::Status ValidateMetricName(absl::string_view name) {
  if (IsValidName(name, /*allow_colon=*/true)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "invalid metric name \"", name, "\": want [a-zA-Z_:][a-zA-Z0-9_:]*"));
}

absl::Status ValidateLabelName(absl::string_view name) {
  if (!IsValidName(name, /*allow_colon=*/false)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid label name \"", name, "\": want [a-zA-Z_][a-zA-Z0-9_]*"));
  }
  if (absl::StartsWith(name, "__")) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid label name \"", name,
                     "\": names starting with __ are "
                     "reserved"));
  }
  return absl::OkStatus();
}

std::string EscapeHelp(absl::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string EscapeLabelValue(absl::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  constexpr double kExactIntegers = 9007199254740992.0;  // 2^53
  if (value == std::trunc(value) && std::fabs(value) < kExactIntegers) {
    return absl::StrCat(static_cast<std::int64_t>(value));  // -0 prints 0
  }
  // Plain notation where people expect it (0.0005, 2.5, 1e+21 not
  // 1000000000000000000000), exponent notation for the very small or large.
  const double magnitude = std::fabs(value);
  if (magnitude >= 1e-4 && magnitude < 1e21) {
    return ToChars(value, std::chars_format::fixed);
  }
  return ToChars(value, std::chars_format::scientific);
}

std::string FormatValue(std::uint64_t value) { return absl::StrCat(value); }

}  // namespace lienthong::metrics
