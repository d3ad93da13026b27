// AdminServer: the operators' HTTP endpoint, separate from the gRPC
// listener and bound to loopback by default. It serves
//
//   GET /metrics  the Registry's Prometheus text (format 0.0.4)
//   GET /healthz  200 "ok" while the process is alive (liveness)
//   GET /readyz   200 "ready", or 503 with the readiness check's reason
//
// HEAD works wherever GET does; another method on these paths gets 405 with
// "Allow: GET, HEAD", any other path 404. It runs on cpp-httplib with a
// small thread pool: it serves Prometheus and probes, not traffic. Nothing
// it serves may carry personal data (see the cardinality rules in
// gateway/metrics/registry.h).
//
//   admin::AdminServer::Options options;
//   options.port = config.admin().port();
//   LIENTHONG_ASSIGN_OR_RETURN(
//       std::unique_ptr<admin::AdminServer> admin,
//       admin::AdminServer::Start(options, &registry, [&] {
//         return gateway.Readiness();  // OK, or UNAVAILABLE("audit store ...")
//       }));
//   ...
//   admin->Stop();
#ifndef LIENTHONG_GATEWAY_ADMIN_ADMIN_SERVER_H_
#define LIENTHONG_GATEWAY_ADMIN_ADMIN_SERVER_H_

#include <atomic>
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

namespace httplib {
class Server;
}  // namespace httplib

namespace lienthong::admin {

// Returns OK when the gateway can serve calls, else a status whose message
// says why not (it is shown to whoever asks /readyz, so: no personal data,
// no secrets). Called on an admin thread for every /readyz request; it must
// be thread-safe and quick.
using ReadinessCheck = std::function<absl::Status()>;

class AdminServer {
 public:
  struct Options {
    // Address to bind. Loopback by default: metrics name clients and
    // systems, and /readyz reasons describe the deployment. Binding to
    // another address is for a container whose scraper reaches it through
    // the pod network; put it behind a network policy.
    std::string host = "127.0.0.1";
    // TCP port; 0 picks a free one (read it back with port()).
    int port = 9901;
    // Worker threads, 1 to 8.
    int threads = 2;
    // How long a request may take to arrive, and its answer to be sent.
    absl::Duration io_timeout = absl::Seconds(5);
  };

  // Binds `options.host:options.port` and starts serving on a thread of its
  // own; returns once the server accepts connections.
  //
  // `registry` is rendered for /metrics; `readiness` answers /readyz (an
  // empty one means always ready). Fails with INVALID_ARGUMENT for bad
  // options or a null registry, UNAVAILABLE when the address cannot be
  // bound (in use, not local), INTERNAL when a thread cannot be started.
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

  // Stops accepting, finishes the requests being served and joins every
  // thread; an idle keep-alive connection may hold it up to a second.
  // Idempotent and thread-safe; later calls return at once.
  // REQUIRES: not called from the readiness check (it would wait for
  // itself).
  void Stop();

  // The bound address. Thread-safe.
  const std::string& host() const { return host_; }
  int port() const { return port_; }

 private:
  AdminServer(const metrics::Registry* registry, ReadinessCheck readiness,
              std::string host);
  absl::Status Configure(const Options& options);

  const metrics::Registry* const registry_;
  const ReadinessCheck readiness_;
  const std::string host_;
  int port_ = 0;
  std::unique_ptr<httplib::Server> http_;
  std::atomic<bool> listener_done_{false};
  absl::Mutex stop_mu_;
  std::thread listener_ ABSL_GUARDED_BY(stop_mu_);
};

}  // namespace lienthong::admin

#endif  // LIENTHONG_GATEWAY_ADMIN_ADMIN_SERVER_H_
