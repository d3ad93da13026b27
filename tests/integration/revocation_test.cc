// Revocation and admission through the whole gateway: a certificate revoked
// by a changed CRL file is refused in the handshake without a restart, a
// live connection of that client is closed within the maximum connection
// age, and a certificate of the right CA for an identity the config does not
// list (or no longer lists, after a reload) gets no HTTP/2 at all.
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "lienthong/v1/population.grpc.pb.h"
#include "tests/integration/gateway_env.h"
#include "tests/testing/cert_factory.h"
#include "tests/testing/h2_raw_client.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_officer.h"

namespace lienthong::testing {
namespace {

constexpr char kFoundId[] = "033085012345";

std::shared_ptr<grpc::Channel> ChannelWith(int port, const PemPair& cert) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ReadFileOrEmpty(TestCert("ca.pem"));
  ssl.pem_cert_chain = cert.cert_pem;
  ssl.pem_private_key = cert.key_pem;
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // Reconnect at once after the server's GOAWAY, so the test sees it.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 200);
  return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                   grpc::SslCredentials(ssl), args);
}

grpc::StatusCode Lookup(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = lienthong::v1::PopulationService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  lienthong::v1::LookupCitizenRequest request;
  request.set_citizen_id(kFoundId);
  request.set_purpose("1.001193");
  *request.mutable_officer() = TestOfficer();
  lienthong::v1::Citizen citizen;
  return stub->LookupCitizen(&context, request, &citizen).error_code();
}

class RevocationIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ca = DevelopmentCa();
    ASSERT_TRUE(ca.ok()) << ca.status();
    ca_ = *ca;
    dir_ = absl::StrCat(::testing::TempDir(), "/revocation-it-", getpid());
    ::mkdir(dir_.c_str(), 0700);
    crl_file_ = dir_ + "/clients.crl";
    auto empty = MakeCrl(ca_, {});
    ASSERT_TRUE(empty.ok());
    ASSERT_TRUE(ReplaceFile(crl_file_, *empty));
  }
  void TearDown() override {
    env_.reset();
    std::system(absl::StrCat("rm -rf ", dir_).c_str());
  }

  void StartGateway() {
    EnvOptions options;
    options.customize = [this](config::v1::GatewayConfig& config) {
      auto* listener = config.mutable_listener();
      listener->mutable_tls()->set_client_crl_file(crl_file_);
      listener->mutable_tls()->set_refresh_interval_seconds(1);
      listener->mutable_limits()->set_max_connection_age_seconds(2);
      listener->mutable_limits()->set_max_connection_age_grace_seconds(1);
    };
    auto env = GatewayEnv::Start(options);
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = *std::move(env);
  }

  PemPair DossierSystemCert() {
    ClientCertOptions options;
    options.uri = ClientId("dossier-system");
    auto cert = MakeClientCert(ca_, options);
    EXPECT_TRUE(cert.ok());
    return *cert;
  }

  PemPair ca_;
  std::string dir_;
  std::string crl_file_;
  std::unique_ptr<GatewayEnv> env_;
};

TEST_F(RevocationIntegrationTest, RevokedInTheHandshakeAndLiveConnectionsEndWithinTheirAge) {
  StartGateway();
  const PemPair stolen = DossierSystemCert();
  auto live = ChannelWith(env_->port(), stolen);
  ASSERT_EQ(Lookup(live), grpc::StatusCode::OK);

  auto revoking = MakeCrl(ca_, {stolen.serial_hex});
  ASSERT_TRUE(revoking.ok());
  ASSERT_TRUE(ReplaceFile(crl_file_, *revoking));
  const absl::Time revoked_at = absl::Now();

  // New connections: refused once the file has been checked (every 1 s).
  grpc::StatusCode fresh = grpc::StatusCode::OK;
  while (fresh == grpc::StatusCode::OK && absl::Now() - revoked_at < absl::Seconds(10)) {
    fresh = Lookup(ChannelWith(env_->port(), stolen));
  }
  EXPECT_EQ(fresh, grpc::StatusCode::UNAVAILABLE);

  // The live connection: closed by the gateway within its maximum age
  // (2 s, +-10%) and grace (1 s); its reconnection is then refused.
  grpc::StatusCode on_live = grpc::StatusCode::OK;
  while (on_live == grpc::StatusCode::OK &&
         absl::Now() - revoked_at < absl::Seconds(10)) {
    on_live = Lookup(live);
    absl::SleepFor(absl::Milliseconds(50));  // the test's call pace
  }
  const absl::Duration took = absl::Now() - revoked_at;
  EXPECT_EQ(on_live, grpc::StatusCode::UNAVAILABLE);
  EXPECT_LT(took, absl::Seconds(2.2 + 1 + 1.5));
  std::cout << "revocation: live connection refused "
            << absl::FormatDuration(took) << " after the CRL changed\n";

  // Another certificate of the same client is unaffected.
  EXPECT_EQ(Lookup(ChannelWith(env_->port(), DossierSystemCert())),
            grpc::StatusCode::OK);
}

TEST_F(RevocationIntegrationTest, AnIdentityThatIsNotConfiguredGetsNoHttp2) {
  StartGateway();
  auto ca_pem = ReadFileOrEmpty(TestCert("ca.pem"));
  auto raw = [&](const PemPair& cert) {
    return RawH2Connection::Connect(
        env_->port(), TlsClientCredentials{ca_pem, cert.cert_pem, cert.key_pem},
        absl::Seconds(5));
  };
  ClientCertOptions stranger_options;
  stranger_options.uri = "spiffe://lienthong.local/stranger";
  auto stranger = MakeClientCert(ca_, stranger_options);
  ASSERT_TRUE(stranger.ok());
  auto conn = raw(*stranger);
  if (conn.ok()) {
    (*conn)->SendPreface().IgnoreError();  // may already be closed
    auto frame = (*conn)->ReadFrame();
    EXPECT_TRUE(absl::IsUnavailable(frame.status())) << frame.status();
  }
  // A configured client, for contrast: the server's SETTINGS answer.
  auto known = raw(DossierSystemCert());
  ASSERT_TRUE(known.ok()) << known.status();
  ASSERT_TRUE((*known)->SendPreface().ok());
  auto settings = (*known)->ReadFrame();
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->type, kH2Settings);

  // A reload that removes the client: its new connections are refused.
  config::v1::GatewayConfig config =
      GatewayEnv::SimConfig(env_->sim().base_url());
  config.mutable_listener()->mutable_tls()->set_client_crl_file(crl_file_);
  config.clear_clients();
  auto* only = config.add_clients();
  only->set_id(ClientId("citizen-portal"));
  ASSERT_TRUE(env_->gateway().Reload(config).ok());
  EXPECT_EQ(Lookup(ChannelWith(env_->port(), DossierSystemCert())),
            grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace lienthong::testing
