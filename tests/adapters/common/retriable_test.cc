#include "adapters/common/retriable.h"

#include "absl/status/statusor.h"
#include "gtest/gtest.h"

namespace lienthong::adapters {
namespace {

TEST(RetriableTest, MarkIsCarriedAndRead) {
  const absl::Status busy = MarkRetriable(absl::UnavailableError("busy"));
  EXPECT_TRUE(IsRetriable(busy));
  EXPECT_EQ(busy.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(busy.message(), "busy");

  const absl::StatusOr<int> through_statusor = busy;
  EXPECT_TRUE(IsRetriable(through_statusor.status()));
  const absl::Status copy = busy;
  EXPECT_TRUE(IsRetriable(copy));
}

TEST(RetriableTest, UnmarkedAndOkAreNotRetriable) {
  EXPECT_FALSE(IsRetriable(absl::UnavailableError("down")));
  EXPECT_FALSE(IsRetriable(absl::OkStatus()));
  EXPECT_TRUE(MarkRetriable(absl::OkStatus()).ok());
  EXPECT_FALSE(IsRetriable(MarkRetriable(absl::OkStatus())));
}

}  // namespace
}  // namespace lienthong::adapters
