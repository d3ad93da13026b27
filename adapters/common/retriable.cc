#include "adapters/common/retriable.h"

#include <utility>

#include "absl/strings/cord.h"

namespace lienthong::adapters {

absl::Status MarkRetriable(absl::Status status) {
  if (!status.ok()) status.SetPayload(kRetriableTypeUrl, absl::Cord("1"));
  return status;
}

bool IsRetriable(const absl::Status& status) {
  return !status.ok() && status.GetPayload(kRetriableTypeUrl).has_value();
}

}  // namespace lienthong::adapters
