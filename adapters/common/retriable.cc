#include "adapters/common/retriable.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace lienthong::adapters {

absl::Status MarkRetriable(absl::Status status) {
  if (!status.ok()) status.SetPayload(kRetriableTypeUrl, absl::Cord("1"));
  return status;
}

bool IsRetriable(const absl::Status& status) {
  return !status.ok() && status.GetPayload(kRetriableTypeUrl).has_value();
}

namespace {
constexpr absl::string_view kRetryAfterTypeUrl = "lienthong/retry-after-ms";
constexpr absl::string_view kNotSentTypeUrl = "lienthong/not-sent";
}  // namespace

absl::Status MarkNotSent(absl::Status status) {
  if (!status.ok()) status.SetPayload(kNotSentTypeUrl, absl::Cord("1"));
  return status;
}

bool WasNotSent(const absl::Status& status) {
  return !status.ok() && status.GetPayload(kNotSentTypeUrl).has_value();
}

absl::Status MarkRetriableAfter(absl::Status status,
                                absl::string_view retry_after) {
  status = MarkRetriable(std::move(status));
  int seconds = 0;
  if (!status.ok() &&
      absl::SimpleAtoi(absl::StripAsciiWhitespace(retry_after), &seconds) &&
      seconds >= 0 && seconds <= 3600) {
    status.SetPayload(kRetryAfterTypeUrl, absl::Cord(absl::StrCat(seconds * 1000)));
  }
  return status;
}

std::optional<absl::Duration> RetryAfter(const absl::Status& status) {
  auto payload = status.GetPayload(kRetryAfterTypeUrl);
  int64_t ms = 0;
  if (!payload.has_value() || !absl::SimpleAtoi(std::string(*payload), &ms)) {
    return std::nullopt;
  }
  return absl::Milliseconds(ms);
}

}  // namespace lienthong::adapters
