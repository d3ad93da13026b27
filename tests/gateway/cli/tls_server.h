// For the CLI tests that run commands over real mutual TLS: a gRPC server
// on 127.0.0.1 that presents the development gateway certificate and
// requires a client certificate from the development CA, and the
// connection options of the dossier system calling it.
#ifndef LIENTHONG_TESTS_GATEWAY_CLI_TLS_SERVER_H_
#define LIENTHONG_TESTS_GATEWAY_CLI_TLS_SERVER_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "gateway/cli/connection.h"
#include "grpcpp/server.h"

namespace lienthong::cli::testing {

// Starts a server with `services` on a free port (into `*port`), refusing
// requests over `max_receive_bytes` as the gateway does over its
// listener.limits.max_message_bytes (-1: gRPC's default, 4 MiB). Fails with
// FAILED_PRECONDITION when the test certificates are missing, UNAVAILABLE
// when the server does not start.
absl::StatusOr<std::unique_ptr<grpc::Server>> StartTlsServer(
    const std::vector<grpc::Service*>& services, int* port,
    int max_receive_bytes = -1);

// The dossier system (development certificate) calling 127.0.0.1:`port`,
// with a 10 s deadline.
ConnectionOptions DossierSystemConnection(int port);

}  // namespace lienthong::cli::testing

#endif  // LIENTHONG_TESTS_GATEWAY_CLI_TLS_SERVER_H_
