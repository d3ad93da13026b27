#include "gateway/status/status_macros.h"

#include <string>

#include "gateway/status/bounded_text.h"
#include "gateway/status/grpc_status.h"
#include "gtest/gtest.h"

namespace lienthong {
namespace {

absl::StatusOr<int> Half(int x) {
  if (x % 2 != 0) return absl::InvalidArgumentError("odd");
  return x / 2;
}

absl::StatusOr<int> Quarter(int x) {
  LIENTHONG_ASSIGN_OR_RETURN(int half, Half(x));
  LIENTHONG_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

absl::Status CheckEven(int x) {
  LIENTHONG_RETURN_IF_ERROR(Half(x).status());
  return absl::OkStatus();
}

TEST(StatusMacrosTest, AssignOrReturnPassesValuesAndErrors) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_EQ(CheckEven(3).message(), "odd");
}

TEST(GrpcStatusTest, ConversionKeepsCodeAndMessage) {
  grpc::Status g = ToGrpcStatus(absl::UnavailableError("down"));
  EXPECT_EQ(g.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(g.error_message(), "down");
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  absl::Status a = FromGrpcStatus(grpc::Status(grpc::DEADLINE_EXCEEDED, "slow"));
  EXPECT_EQ(a.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(a.message(), "slow");
}

// Every status the gateway answers is bounded on the wire: 20 KiB of '%'
// (three bytes each once percent-encoded) is cut to what fits in
// kMaxStatusMessageBytes encoded, and says so.
TEST(GrpcStatusTest, ALongMessageIsBoundedAsSent) {
  grpc::Status g =
      ToGrpcStatus(absl::InvalidArgumentError(std::string(20 * 1024, '%')));
  EXPECT_EQ(g.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const std::string& message = g.error_message();
  const std::string kCut = " [truncated]";
  ASSERT_GT(message.size(), kCut.size());
  EXPECT_EQ(message.substr(message.size() - kCut.size()), kCut);
  const size_t percents = message.size() - kCut.size();
  EXPECT_EQ(message.substr(0, percents), std::string(percents, '%'));
  EXPECT_LE(3 * percents + kCut.size(), kMaxStatusMessageBytes);
  EXPECT_GT(3 * (percents + 1) + kCut.size(), kMaxStatusMessageBytes);
}

}  // namespace
}  // namespace lienthong
