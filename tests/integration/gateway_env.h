// GatewayEnv: a real gateway on 127.0.0.1:0 with mutual TLS, in front of the
// simulated national systems, for integration tests. Optionally a second
// gateway sits in between, reached through the "grpc-upstream" adapter, so
// the same tests run through every adapter.
//
//   auto env = GatewayEnv::Start({});
//   auto stub = lienthong::v1::PopulationService::NewStub(
//       (*env)->Channel("dossier-system"));
#ifndef LIENTHONG_TESTS_INTEGRATION_GATEWAY_ENV_H_
#define LIENTHONG_TESTS_INTEGRATION_GATEWAY_ENV_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "adapters/common/http/http_client.h"
#include "adapters/registry.h"
#include "gateway/server/gateway_server.h"
#include "grpcpp/channel.h"
#include "lienthong/config/v1/config.pb.h"
#include "tests/national_sim/sim_server.h"
#include "tests/testing/test_certs.h"    // TestCert(), for the tests too
#include "tests/testing/test_officer.h"  // TestOfficer(), for the tests too

namespace lienthong::testing {

struct EnvOptions {
  // Route both methods through a "grpc-upstream" adapter to an inner
  // gateway, which calls the simulator. Both go to the population database
  // ("population", c06-population-soap); a "vneid" instance is configured
  // but has no route.
  bool through_grpc_upstream = false;
  // Changes to the front gateway's config before it starts.
  std::function<void(lienthong::config::v1::GatewayConfig&)> customize;
};

class GatewayEnv {
 public:
  static absl::StatusOr<std::unique_ptr<GatewayEnv>> Start(
      const EnvOptions& options);
  ~GatewayEnv();

  sim::SimServer& sim() { return *sim_; }
  server::GatewayServer& gateway() { return *outer_; }
  // The front gateway's audit database file.
  const std::string& audit_file() const { return audit_file_; }
  int port() const { return outer_->port(); }

  // A channel to the gateway presenting `client`'s certificate from the test
  // certificates ("dossier-system", "citizen-portal", "no-rights",
  // "rogue-client"); "" presents none.
  std::shared_ptr<grpc::Channel> Channel(const std::string& client) const;

  // The config the gateway in front runs (for tests that start their own).
  static lienthong::config::v1::GatewayConfig SimConfig(
      const std::string& sim_url);

 private:
  GatewayEnv() = default;

  std::unique_ptr<sim::SimServer> sim_;
  std::unique_ptr<adapters::CurlHttpClient> http_;
  adapters::AdapterRegistry registry_;
  std::unique_ptr<server::GatewayServer> inner_;
  std::unique_ptr<server::GatewayServer> outer_;
  std::string audit_file_;
};

// The test certificates' client identities.
std::string ClientId(const std::string& client);

// Sets `config`'s listener to 127.0.0.1:0 with mutual TLS over the test
// certificates (the gateway's pair, the clients' CA), as every in-process
// gateway of the tests listens.
void UseTestListener(lienthong::config::v1::GatewayConfig& config);

// Makes and returns a new folder (0700) "<prefix>-XXXXXX" (a ScratchDir)
// for a gateway's stores and files; every folder made so is removed when the
// test program exits (not before: tests read stores after their gateway
// stopped).
std::string NewTestDir(const std::string& prefix);

// The redirect URIs SimConfig's vneid adapter allows (both registered at
// the simulated realm): one for every caller, one only for "citizen-portal".
inline constexpr char kVneidRedirectUri[] =
    "https://dichvucong.hungyen.gov.vn/vneid/callback";
inline constexpr char kVneidPortalRedirectUri[] =
    "https://1022.hungyen.gov.vn/auth/vneid";

}  // namespace lienthong::testing

#endif  // LIENTHONG_TESTS_INTEGRATION_GATEWAY_ENV_H_
