// AdminServer: the operators' HTTP endpoint, separate from the gRPC
// listener and bound to loopback by default. It serves
//
//   GET /metrics  the Registry's Prometheus text (format 0.0.4)
//   GET /healthz  200 "ok" while the process is alive (liveness)
//   GET /readyz   200 "ready", or 503 with a fixed text naming the failing
//                 component (readiness.h; the check's reason goes to the
//                 log), or saying it has not answered within
//                 request_timeout
//
// HEAD works wherever GET does; another method on these paths gets 405 with
// "Allow: GET, HEAD", any other path 404. With a bearer token set, every
// request but /healthz needs "Authorization: Bearer <token>" (else 401), so
// that metrics stay with the scraper; beyond loopback a token is required.
//
// Liveness probes depend on it, so no client can hold it up: one libevent
// loop serves every connection (a slow client costs a buffer, not a
// thread); a request must arrive whole within `request_timeout` of the
// connection becoming ready for it, its answer be taken within
// `write_timeout`; heads are at most 8 KiB and bodies (read and dropped)
// 64 KiB; at `max_connections` the connection that has waited longest for
// its request is dropped to make room. Nothing it serves may carry personal
// data (see the cardinality rules in gateway/metrics/registry.h).
//
//   admin::AdminServer::Options options;
//   options.port = 9464;
//   LIENTHONG_ASSIGN_OR_RETURN(
//       std::unique_ptr<admin::AdminServer> admin,
//       admin::AdminServer::Start(options, &registry, [&] {
//         return gateway.Ready();  // OK, or UNAVAILABLE marked with its
//                                  // component (MarkNotReadyComponent)
//       }));
//   ...
//   admin->Stop();
#ifndef LIENTHONG_GATEWAY_ADMIN_ADMIN_SERVER_H_
#define LIENTHONG_GATEWAY_ADMIN_ADMIN_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/metrics/registry.h"

namespace lienthong::admin {

// Returns OK when the gateway can serve calls, else a status whose message
// says why not, for the log (no personal data, no secrets), marked with the
// failing component (MarkNotReadyComponent), which is all /readyz shows.
// Called on the endpoint's readiness thread, one call at a time, for the
// /readyz requests (those that come while it runs share its answer; one it
// has not answered within `request_timeout` gets 503). It must be
// thread-safe; it may be slow (a database to ask) without holding up
// /healthz or /metrics.
using ReadinessCheck = std::function<absl::Status()>;

class AdminServer {
 public:
  struct Options {
    // Address to bind (an IPv6 address with or without brackets).
    // Loopback by default: metrics name clients, systems and file paths.
    // Another address needs a bearer token (Start refuses it without one)
    // and belongs behind a network policy: /healthz stays open.
    std::string host = "127.0.0.1";
    // TCP port; 0 picks a free one (read it back with port()).
    int port = 9901;
    // A request (head and body) must arrive within this long of the
    // connection being accepted or its previous answer sent; an idle
    // kept-alive connection is closed after it too.
    absl::Duration request_timeout = absl::Seconds(5);
    // An answer must be taken by the client within this long.
    absl::Duration write_timeout = absl::Seconds(5);
    // Connections at once, 1 to 10000.
    int max_connections = 256;
    // When not empty, required as "Authorization: Bearer <token>" on every
    // path but /healthz.
    std::string bearer_token;
  };

  // Binds `options.host:options.port` and starts serving on a thread of its
  // own; returns once the server accepts connections.
  //
  // `registry` is rendered for /metrics; `readiness` answers /readyz (an
  // empty one means always ready). Fails with INVALID_ARGUMENT for bad
  // options (a host beyond loopback without a bearer token included: the
  // message names the address and admin.bearer_token_file) or a null
  // registry, UNAVAILABLE when the address cannot be bound (in use, not
  // local), INTERNAL when the event loop or its thread cannot be started.
  // Thread-safe.
  // REQUIRES: `registry` outlives the returned server; `readiness` may be
  // called until Stop returns.
  static absl::StatusOr<std::unique_ptr<AdminServer>> Start(
      const Options& options, const metrics::Registry* registry,
      ReadinessCheck readiness);

  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;
  // Stops the server (Stop()).
  ~AdminServer();

  // Stops accepting, closes every connection (an answer being written is
  // cut short) and joins the thread. Idempotent and thread-safe.
  // REQUIRES: not called from the readiness check (it would wait for
  // itself).
  void Stop();

  // The bound address. Thread-safe.
  const std::string& host() const { return host_; }
  int port() const { return port_; }

 private:
  class Loop;
  explicit AdminServer(std::string host);

  const std::string host_;
  int port_ = 0;
  absl::Mutex stop_mu_;
  std::unique_ptr<Loop> loop_ ABSL_GUARDED_BY(stop_mu_);
  std::thread thread_ ABSL_GUARDED_BY(stop_mu_);
};

// Returns the bearer token in the file at `path` (surrounding whitespace
// removed). Fails with INVALID_ARGUMENT naming the file (never its
// contents) when it cannot be read, is empty, is over 4 KiB, holds
// characters outside visible ASCII, or is shorter than
// kMinBearerTokenBytes (a short token is guessed over one kept-alive
// connection). Thread-safe.
inline constexpr size_t kMinBearerTokenBytes = 32;
absl::StatusOr<std::string> ReadBearerTokenFile(const std::string& path);

}  // namespace lienthong::admin

#endif  // LIENTHONG_GATEWAY_ADMIN_ADMIN_SERVER_H_
