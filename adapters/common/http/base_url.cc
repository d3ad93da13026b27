#include "adapters/common/http/base_url.h"

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "gateway/validation/text.h"

namespace lienthong::adapters {

absl::Status CheckBaseUrl(absl::string_view url) {
  absl::string_view rest = url;
  if (!absl::ConsumePrefix(&rest, "https://")) {
    return absl::InvalidArgumentError("must start with https://");
  }
  for (char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) {
      return absl::InvalidArgumentError(
          "must not hold spaces or control characters");
    }
  }
  if (url.find_first_of("?#") != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        "must have no query or fragment ('?', '#'): the paths appended to it "
        "would become part of them");
  }
  const absl::string_view authority = rest.substr(0, rest.find('/'));
  if (absl::StrContains(authority, "@")) {
    return absl::InvalidArgumentError("must have no user part ('user@')");
  }
  if (authority.empty() || authority.front() == ':') {
    return absl::InvalidArgumentError("must name a host after https://");
  }
  return absl::OkStatus();
}

absl::Status CheckUrlPath(absl::string_view path) {
  if (!absl::StartsWith(path, "/") || !validation::IsVisibleAscii(path)) {
    return absl::InvalidArgumentError(
        "must start with / and be visible ASCII (no spaces or control "
        "characters)");
  }
  return absl::OkStatus();
}

}  // namespace lienthong::adapters
