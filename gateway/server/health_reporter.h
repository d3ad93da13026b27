// Keeps gRPC's standard health service (grpc.health.v1.Health) telling the
// truth: each served service's status follows the gateway's readiness for
// that service, the same answer /readyz gives.
#ifndef LIENTHONG_GATEWAY_SERVER_HEALTH_REPORTER_H_
#define LIENTHONG_GATEWAY_SERVER_HEALTH_REPORTER_H_

#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/health_check_service_interface.h"

namespace lienthong::server {

class HealthReporter {
 public:
  // OK when calls of the service (full name; "" for the whole server) can
  // be served, else why not.
  using Readiness = std::function<absl::Status(absl::string_view service)>;

  // Sets the status of each of `services` (and of "") in `health` from
  // `ready` now, then every `interval` on a thread of its own, logging each
  // change. REQUIRES: `health` outlives this object (stop it first).
  HealthReporter(grpc::HealthCheckServiceInterface* health,
                 std::vector<std::string> services, Readiness ready,
                 absl::Duration interval = absl::Milliseconds(250));
  // Stops the thread. Thread-compatible.
  ~HealthReporter();

  // Re-evaluates every service now (also done every interval). Thread-safe.
  void Update();

 private:
  void Run();

  grpc::HealthCheckServiceInterface* const health_;
  const std::vector<std::string> services_;
  const Readiness ready_;
  const absl::Duration interval_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::string, bool> serving_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace lienthong::server

#endif  // LIENTHONG_GATEWAY_SERVER_HEALTH_REPORTER_H_
