// The "grpc-upstream" adapter: relays identity and population calls to a gRPC
// server that implements the same lienthong.v1 services, over TLS (mutual
// when a client certificate is configured), on gRPC's callback client API.
//
// Each call carries the caller's deadline. A failed call is answered with
// a message of the adapter's own (never the upstream's):
//   UNAVAILABLE (connection failed, upstream unavailable)  UNAVAILABLE,
//       marked retriable (adapters/common/retriable.h) like an HTTP 503;
//   DEADLINE_EXCEEDED                                       DEADLINE_EXCEEDED;
//   UNAUTHENTICATED, PERMISSION_DENIED (the upstream refused the gateway),
//   UNKNOWN, INTERNAL, DATA_LOSS, UNIMPLEMENTED              UNAVAILABLE;
//   any other code (NOT_FOUND, INVALID_ARGUMENT, ...)        the same code.
// An answer the gateway will not relay is UNAVAILABLE, not retriable: a
// Citizen that is not the one asked for (compared by old_id_number when asked
// by a 9-digit old ID card number, else by citizen_id) or lacks that field,
// and a verification result other than MATCH or NO_MATCH. A lookup with a
// field mask also asks for that field (the server trims the reply to the
// caller's mask), so the upstream must grant it to this gateway.
#ifndef LIENTHONG_ADAPTERS_GRPC_UPSTREAM_GRPC_UPSTREAM_ADAPTER_H_
#define LIENTHONG_ADAPTERS_GRPC_UPSTREAM_GRPC_UPSTREAM_ADAPTER_H_

#include <memory>

#include "adapters/adapter.h"

namespace lienthong::adapters::grpc_upstream {

std::unique_ptr<AdapterFactory> MakeGrpcUpstreamFactory();

}  // namespace lienthong::adapters::grpc_upstream

#endif  // LIENTHONG_ADAPTERS_GRPC_UPSTREAM_GRPC_UPSTREAM_ADAPTER_H_
