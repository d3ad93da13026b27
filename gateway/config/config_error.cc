#include "gateway/config/config_error.h"

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace lienthong::config {
namespace {

constexpr absl::string_view kFieldTypeUrl = "lienthong/config-field";

}  // namespace

absl::Status AtConfigField(absl::string_view path, absl::Status status) {
  if (status.ok()) return status;
  absl::Status out = status;
  if (!absl::StartsWith(status.message(), absl::StrCat(path, ":")) &&
      !absl::StartsWith(status.message(), absl::StrCat(path, " "))) {
    out = absl::Status(status.code(),
                       absl::StrCat(path, ": ", status.message()));
    status.ForEachPayload(
        [&out](absl::string_view type_url, const absl::Cord& payload) {
          out.SetPayload(type_url, payload);
        });
  }
  out.SetPayload(kFieldTypeUrl, absl::Cord(path));
  return out;
}

std::optional<std::string> ConfigFieldOf(const absl::Status& status) {
  auto path = status.GetPayload(kFieldTypeUrl);
  if (!path.has_value()) return std::nullopt;
  return std::string(*path);
}

}  // namespace lienthong::config
