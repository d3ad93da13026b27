#include "gateway/validation/vneid_sign_in.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gateway/validation/text.h"

namespace lienthong::validation {
namespace {

absl::Status CheckVisible(absl::string_view field, absl::string_view value,
                          size_t min, size_t max) {
  if (value.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
  }
  if (value.size() < min || value.size() > max || !IsVisibleAscii(value)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " must be ", min, "..", max, " visible ASCII characters"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateVneidSignIn(const lienthong::v1::VneidSignInRequest& r) {
  if (absl::Status s =
          CheckVisible("authorization_code", r.authorization_code(), 1, 2048);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckVisible("redirect_uri", r.redirect_uri(), 1, 2048);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckVisible("nonce", r.nonce(), 16, 256); !s.ok()) {
    return s;
  }
  const std::string& verifier = r.code_verifier();
  if (verifier.empty()) return absl::OkStatus();
  bool unreserved = verifier.size() >= 43 && verifier.size() <= 128;
  for (char c : verifier) {
    unreserved =
        unreserved && (absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                       c == '-' || c == '.' || c == '_' || c == '~');
  }
  if (!unreserved) {
    return absl::InvalidArgumentError(
        "code_verifier must be 43..128 characters of A-Z a-z 0-9 - . _ ~");
  }
  return absl::OkStatus();
}

}  // namespace lienthong::validation
