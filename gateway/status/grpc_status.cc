#include "gateway/status/grpc_status.h"

#include <string>

#include "gateway/status/bounded_text.h"

namespace lienthong {
namespace {

// The two enums share their numbering (both follow google.rpc.Code); the
// conversion relies on it, so check every code once at compile time.
constexpr bool kCodesAgree =
    static_cast<int>(absl::StatusCode::kOk) == grpc::OK &&
    static_cast<int>(absl::StatusCode::kCancelled) == grpc::CANCELLED &&
    static_cast<int>(absl::StatusCode::kUnknown) == grpc::UNKNOWN &&
    static_cast<int>(absl::StatusCode::kInvalidArgument) ==
        grpc::INVALID_ARGUMENT &&
    static_cast<int>(absl::StatusCode::kDeadlineExceeded) ==
        grpc::DEADLINE_EXCEEDED &&
    static_cast<int>(absl::StatusCode::kNotFound) == grpc::NOT_FOUND &&
    static_cast<int>(absl::StatusCode::kAlreadyExists) ==
        grpc::ALREADY_EXISTS &&
    static_cast<int>(absl::StatusCode::kPermissionDenied) ==
        grpc::PERMISSION_DENIED &&
    static_cast<int>(absl::StatusCode::kResourceExhausted) ==
        grpc::RESOURCE_EXHAUSTED &&
    static_cast<int>(absl::StatusCode::kFailedPrecondition) ==
        grpc::FAILED_PRECONDITION &&
    static_cast<int>(absl::StatusCode::kAborted) == grpc::ABORTED &&
    static_cast<int>(absl::StatusCode::kOutOfRange) == grpc::OUT_OF_RANGE &&
    static_cast<int>(absl::StatusCode::kUnimplemented) ==
        grpc::UNIMPLEMENTED &&
    static_cast<int>(absl::StatusCode::kInternal) == grpc::INTERNAL &&
    static_cast<int>(absl::StatusCode::kUnavailable) == grpc::UNAVAILABLE &&
    static_cast<int>(absl::StatusCode::kDataLoss) == grpc::DATA_LOSS &&
    static_cast<int>(absl::StatusCode::kUnauthenticated) ==
        grpc::UNAUTHENTICATED;
static_assert(kCodesAgree, "absl and gRPC status codes must agree");

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      BoundStatusMessage(status.message()));
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

}  // namespace lienthong
