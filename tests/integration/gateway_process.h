// The real binaries as separate processes, for tests that measure the
// gateway process itself (threads, memory) or send it signals.
#ifndef LIENTHONG_TESTS_INTEGRATION_GATEWAY_PROCESS_H_
#define LIENTHONG_TESTS_INTEGRATION_GATEWAY_PROCESS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/channel.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/test_certs.h"  // TestCert(), for the tests too

namespace lienthong::testing {

struct RunningProcess {
  Subprocess process;
  int port = 0;
  // The gateway's admin endpoint (/metrics, /healthz, /readyz), when it has one.
  int admin_port = 0;
};

// Starts lienthong-sim on a free port with `extra_flags`.
absl::StatusOr<RunningProcess> StartSimProcess(
    const std::vector<std::string>& extra_flags = {});

// A gateway config for the simulator at `sim_port` (population route only,
// the dossier-system client granted name and birth_date); `clients_yaml`
// replaces the clients section when not empty.
std::string GatewayYaml(int sim_port, const std::string& clients_yaml = "");

// The start of a gateway config for tests of the portal: `node_name`, a
// mutual-TLS listener on 127.0.0.1:0 with the test certificates, and the
// adapter "portal" (dvcqg-portal-rest) at the simulator on `sim_port`.
// Tests append their other adapters, clients and sections.
std::string PortalGatewayYaml(const std::string& node_name, int sim_port);

// Writes `yaml` to `config_path` and starts lienthong-gateway on it, its
// stderr (the JSON log) going to `log_path`.
absl::StatusOr<RunningProcess> StartGatewayProcess(const std::string& config_path,
                                                   const std::string& yaml,
                                                   const std::string& log_path);

// Writes `yaml` to `config_path` (0600) and runs `lienthong-gateway
// --migrate` on it, its output going to `log_path`. OK once it prints a
// line containing `expected` (e.g. "outbox schema on PostgreSQL at
// version"), else why not.
absl::Status RunMigrate(const std::string& config_path, const std::string& yaml,
                        const std::string& log_path, const std::string& expected);

// A channel to 127.0.0.1:`port` presenting `client`'s test certificate.
std::shared_ptr<grpc::Channel> ClientChannel(int port, const std::string& client);

// What grpc.health.v1.Health on 127.0.0.1:`port`, asked as `client`,
// answers for `service` once it is `want` or 5 s have passed (a gateway's
// statuses follow its readiness within a quarter of a second); UNKNOWN
// when the call fails.
grpc::health::v1::HealthCheckResponse::ServingStatus HealthOnceIs(
    int port, const std::string& client, const std::string& service,
    grpc::health::v1::HealthCheckResponse::ServingStatus want);

// The body of a plain HTTP GET of `url` (the admin endpoint), or "" when it
// fails; gives up after 5 s.
std::string HttpGet(const std::string& url);

// Waits until `path` holds a line containing `needle` (polling the file).
bool WaitForFileLine(const std::string& path, const std::string& needle,
                     absl::Duration timeout);

}  // namespace lienthong::testing

#endif  // LIENTHONG_TESTS_INTEGRATION_GATEWAY_PROCESS_H_
