// ConnectionOptions: how a `lienthong` command reaches the gateway (address,
// mutual-TLS files, target-name override, deadline), the command-line options
// that fill them, and the channel they open. There is no plaintext mode: the
// gateway accepts only callers with a client certificate.
#ifndef LIENTHONG_GATEWAY_CLI_CONNECTION_H_
#define LIENTHONG_GATEWAY_CLI_CONNECTION_H_

#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"

namespace lienthong::cli {

inline constexpr char kDefaultServer[] = "127.0.0.1:8443";
inline constexpr double kDefaultTimeoutSeconds = 10;

struct ConnectionOptions {
  // gRPC target, "host:port".
  std::string server = kDefaultServer;
  // PEM CA bundle that signs the gateway's certificate; empty = the roots
  // gRPC trusts by default.
  std::string ca_file;
  // PEM client certificate (chain) and its unencrypted private key.
  std::string cert_file;
  std::string key_file;
  // Name to check the gateway's certificate against instead of the host part
  // of `server`.
  std::string server_name;
  // Deadline of every call, from its start.
  double timeout_seconds = kDefaultTimeoutSeconds;
};

// Adds --server, --ca, --cert, --key, --server-name and --timeout to
// `command`, in an option group "Connection", storing into `options`, which
// must outlive the parse. --server, --ca, --cert and --key default from
// LIENTHONG_SERVER, LIENTHONG_CA, LIENTHONG_CERT and LIENTHONG_KEY.
void AddConnectionOptions(CLI::App& command, ConnectionOptions& options);

// Returns a mutual-TLS channel to `options.server`. Nothing is sent yet; the
// connection is made by the first call. Fails, before any connection, with
//  - INVALID_ARGUMENT (a usage error) when --server, --cert or --key is
//    missing or --timeout is not positive;
//  - FAILED_PRECONDITION when a file cannot be read, holds more than
//    kMaxPemFileBytes (1 MiB, read_file.h), is not PEM of the right kind,
//    the key does not match the certificate, or the certificate has
//    expired. The message names the option and the file.
// Thread-safe.
absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(
    const ConnectionOptions& options);

// How long a watcher waits before opening a lost stream again, after
// `failures` (1, 2, ...) in a row: `first`, doubling per failure, at most
// 30 s. Thread-safe.
absl::Duration ReconnectDelay(absl::Duration first, int failures);

// The line a watcher prints when it lost `stream` ("the progress stream")
// with `status` (OK: closed early) and tries again after `delay`:
// "lienthong: lost the progress stream (UNAVAILABLE: ...); reconnecting in
// 2s". Thread-safe.
std::string LostStreamLine(absl::string_view stream, const grpc::Status& status,
                           absl::Duration delay);

// Sets the deadline of `context` to now + options.timeout_seconds.
void SetDeadline(const ConnectionOptions& options,
                 grpc::ClientContext& context);

}  // namespace lienthong::cli

#endif  // LIENTHONG_GATEWAY_CLI_CONNECTION_H_
