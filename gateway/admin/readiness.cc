#include "gateway/admin/readiness.h"

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/types/optional.h"

namespace lienthong::admin {
namespace {

constexpr size_t kMaxComponentBytes = 64;

// A name, not a sentence: a mark built from a message by mistake (a path,
// "host=db user=x", quotes) is not shown.
bool IsPlainName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxComponentBytes) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != ' ' &&
        c != '.' && c != '-' && c != '_') {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::Status MarkNotReadyComponent(absl::Status status,
                                   absl::string_view component) {
  if (!status.ok()) {
    status.SetPayload(kNotReadyComponentTypeUrl, absl::Cord(component));
  }
  return status;
}

std::string NotReadyText(const absl::Status& status) {
  // absl::optional: Debian's Abseil does not alias std::optional.
  const absl::optional<absl::Cord> mark =
      status.GetPayload(kNotReadyComponentTypeUrl);
  if (!mark.has_value()) return "not ready";
  const std::string component(*mark);
  if (!IsPlainName(component)) return "not ready";
  return absl::StrCat("not ready: ", component, " unavailable");
}

}  // namespace lienthong::admin
