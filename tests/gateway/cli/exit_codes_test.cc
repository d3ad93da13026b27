#include "gateway/cli/exit_codes.h"

#include "gtest/gtest.h"

namespace lienthong::cli {
namespace {

struct Case {
  grpc::StatusCode code;
  const char* name;
  ExitCode exit_code;
  int number;
};

constexpr Case kCases[] = {
    {grpc::StatusCode::OK, "OK", ExitCode::kOk, 0},
    {grpc::StatusCode::CANCELLED, "CANCELLED", ExitCode::kOther, 7},
    {grpc::StatusCode::UNKNOWN, "UNKNOWN", ExitCode::kOther, 7},
    {grpc::StatusCode::INVALID_ARGUMENT, "INVALID_ARGUMENT",
     ExitCode::kInvalidArgument, 3},
    {grpc::StatusCode::DEADLINE_EXCEEDED, "DEADLINE_EXCEEDED",
     ExitCode::kDeadlineExceeded, 6},
    {grpc::StatusCode::NOT_FOUND, "NOT_FOUND", ExitCode::kNotFound, 5},
    {grpc::StatusCode::ALREADY_EXISTS, "ALREADY_EXISTS", ExitCode::kOther, 7},
    {grpc::StatusCode::PERMISSION_DENIED, "PERMISSION_DENIED",
     ExitCode::kAccessDenied, 4},
    {grpc::StatusCode::RESOURCE_EXHAUSTED, "RESOURCE_EXHAUSTED",
     ExitCode::kOther, 7},
    {grpc::StatusCode::FAILED_PRECONDITION, "FAILED_PRECONDITION",
     ExitCode::kOther, 7},
    {grpc::StatusCode::ABORTED, "ABORTED", ExitCode::kOther, 7},
    {grpc::StatusCode::OUT_OF_RANGE, "OUT_OF_RANGE", ExitCode::kOther, 7},
    {grpc::StatusCode::UNIMPLEMENTED, "UNIMPLEMENTED", ExitCode::kOther, 7},
    {grpc::StatusCode::INTERNAL, "INTERNAL", ExitCode::kOther, 7},
    {grpc::StatusCode::UNAVAILABLE, "UNAVAILABLE", ExitCode::kConnection, 2},
    {grpc::StatusCode::DATA_LOSS, "DATA_LOSS", ExitCode::kOther, 7},
    {grpc::StatusCode::UNAUTHENTICATED, "UNAUTHENTICATED",
     ExitCode::kAccessDenied, 4},
};

TEST(ExitCodesTest, EveryGrpcCodeMapsToItsClass) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(ExitCodeForGrpcCode(c.code), c.exit_code);
    EXPECT_EQ(static_cast<int>(ExitCodeForGrpcCode(c.code)), c.number);
    EXPECT_EQ(GrpcCodeName(c.code), c.name);
  }
}

TEST(ExitCodesTest, CodeOutsideTheEnumIsOtherAndNamedByNumber) {
  const auto code = static_cast<grpc::StatusCode>(42);
  EXPECT_EQ(ExitCodeForGrpcCode(code), ExitCode::kOther);
  EXPECT_EQ(GrpcCodeName(code), "CODE_42");
}

TEST(ExitCodesTest, UsageIsOne) {
  EXPECT_EQ(static_cast<int>(ExitCode::kUsage), 1);
}

}  // namespace
}  // namespace lienthong::cli
