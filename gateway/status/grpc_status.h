// The one conversion between absl::Status and grpc::Status, used at the
// server edge (gRPC 1.51 has none of its own).
#ifndef LIENTHONG_GATEWAY_STATUS_GRPC_STATUS_H_
#define LIENTHONG_GATEWAY_STATUS_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace lienthong {

// Returns the gRPC status with the same code and message, the message
// bounded to kMaxStatusMessageBytes as sent (BoundStatusMessage), so that no
// status the gateway answers with can exceed it. Payloads are dropped.
// Thread-safe.
grpc::Status ToGrpcStatus(const absl::Status& status);

// Returns the absl::Status with the same code and message. Thread-safe.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace lienthong

#endif  // LIENTHONG_GATEWAY_STATUS_GRPC_STATUS_H_
