// The "grpc-upstream" adapter: relays identity and population calls to a gRPC
// server that implements the same lienthong.v1 services, over TLS (mutual
// when a client certificate is configured), on gRPC's callback client API.
#ifndef LIENTHONG_ADAPTERS_GRPC_UPSTREAM_GRPC_UPSTREAM_ADAPTER_H_
#define LIENTHONG_ADAPTERS_GRPC_UPSTREAM_GRPC_UPSTREAM_ADAPTER_H_

#include <memory>

#include "adapters/adapter.h"

namespace lienthong::adapters::grpc_upstream {

std::unique_ptr<AdapterFactory> MakeGrpcUpstreamFactory();

}  // namespace lienthong::adapters::grpc_upstream

#endif  // LIENTHONG_ADAPTERS_GRPC_UPSTREAM_GRPC_UPSTREAM_ADAPTER_H_
