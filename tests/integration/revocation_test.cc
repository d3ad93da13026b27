// Revocation and admission through the whole gateway: a certificate revoked
// by a changed CRL file is refused in the handshake without a restart, and
// so is the next call on a live connection of that certificate; a
// certificate of the right CA for an identity the config does not list (or
// no longer lists, after a reload) gets no HTTP/2 at all; and after a
// reload re-pins a client, a live connection with its old certificate is
// refused at its next call; and so is a live connection whose CA the
// operator removes from the client CA file.
#include <sys/stat.h>
#include <unistd.h>

#include <functional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gateway/tls/client_identity.h"
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

grpc::Status LookupStatus(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = lienthong::v1::PopulationService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  lienthong::v1::LookupCitizenRequest request;
  request.set_citizen_id(kFoundId);
  request.set_purpose("1.001193");
  *request.mutable_officer() = TestOfficer();
  lienthong::v1::Citizen citizen;
  return stub->LookupCitizen(&context, request, &citizen);
}

grpc::StatusCode Lookup(const std::shared_ptr<grpc::Channel>& channel) {
  return LookupStatus(channel).error_code();
}

// Pins the dossier system's client in `config` to `fingerprint` alone.
void PinDossierSystem(config::v1::GatewayConfig& config,
                      const std::string& fingerprint) {
  for (config::v1::Client& client : *config.mutable_clients()) {
    if (client.id() != ClientId("dossier-system")) continue;
    client.clear_certificate_sha256();
    client.add_certificate_sha256(fingerprint);
  }
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

  // Connections keep the default maximum age (an hour): a live one stays
  // the same connection for the whole test. `also` (may be empty) changes
  // the config further.
  void StartGateway(
      std::function<void(config::v1::GatewayConfig&)> also = nullptr) {
    EnvOptions options;
    options.customize = [this, also](config::v1::GatewayConfig& config) {
      UseCrlFile(config);
      if (also) also(config);
    };
    auto env = GatewayEnv::Start(options);
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = *std::move(env);
  }

  void UseCrlFile(config::v1::GatewayConfig& config) const {
    auto* tls = config.mutable_listener()->mutable_tls();
    tls->set_client_crl_file(crl_file_);
    tls->set_refresh_interval_seconds(1);
  }

  // The config the gateway started with, as a reload would read it.
  config::v1::GatewayConfig ReloadConfig() {
    config::v1::GatewayConfig config =
        GatewayEnv::SimConfig(env_->sim().base_url());
    UseCrlFile(config);
    return config;
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

TEST_F(RevocationIntegrationTest, RevokedInTheHandshakeAndOnALiveConnection) {
  StartGateway();
  const PemPair stolen = DossierSystemCert();
  auto live = ChannelWith(env_->port(), stolen);
  ASSERT_EQ(Lookup(live), grpc::StatusCode::OK);

  auto revoking = MakeCrl(ca_, {stolen.serial_hex});
  ASSERT_TRUE(revoking.ok());
  ASSERT_TRUE(ReplaceFile(crl_file_, *revoking));
  const absl::Time revoked_at = absl::Now();

  // New connections: refused once the file has been checked (every 1 s).
  // Paced below the client's handshake rate (10 a second), which would
  // refuse them too.
  grpc::StatusCode fresh = grpc::StatusCode::OK;
  while (fresh == grpc::StatusCode::OK &&
         absl::Now() - revoked_at < absl::Seconds(10)) {
    absl::SleepFor(absl::Milliseconds(200));
    fresh = Lookup(ChannelWith(env_->port(), stolen));
  }
  EXPECT_EQ(fresh, grpc::StatusCode::UNAVAILABLE);

  // The live connection, made before: its next call is refused too, by the
  // same lists, without waiting for the connection's maximum age (an hour).
  const grpc::Status on_live = LookupStatus(live);
  EXPECT_EQ(on_live.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << on_live.error_message();
  EXPECT_EQ(on_live.error_message(),
            "client certificate refused: revoked by its issuer's CRL");

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
  config::v1::GatewayConfig config = ReloadConfig();
  config.clear_clients();
  auto* only = config.add_clients();
  only->set_id(ClientId("citizen-portal"));
  ASSERT_TRUE(env_->gateway().Reload(config).ok());
  EXPECT_EQ(Lookup(ChannelWith(env_->port(), DossierSystemCert())),
            grpc::StatusCode::UNAVAILABLE);
}

// The pin is checked on every call, against the config of now: after an
// operator re-pins a client (its key was stolen) and reloads, a connection
// made with the old certificate is refused at its next call, not an hour
// later when it reaches its maximum age.
TEST_F(RevocationIntegrationTest,
       ALiveConnectionIsRefusedOnceItsClientIsRepinned) {
  const PemPair old_cert = DossierSystemCert();
  const PemPair new_cert = DossierSystemCert();
  auto old_pin = tls::CertificateFingerprint(old_cert.cert_pem);
  auto new_pin = tls::CertificateFingerprint(new_cert.cert_pem);
  ASSERT_TRUE(old_pin.ok() && new_pin.ok());
  StartGateway([&](config::v1::GatewayConfig& config) {
    PinDossierSystem(config, *old_pin);
  });
  auto live = ChannelWith(env_->port(), old_cert);
  ASSERT_EQ(Lookup(live), grpc::StatusCode::OK);
  EXPECT_EQ(Lookup(ChannelWith(env_->port(), new_cert)),
            grpc::StatusCode::UNAVAILABLE);  // not pinned (yet)

  config::v1::GatewayConfig repinned = ReloadConfig();
  PinDossierSystem(repinned, *new_pin);
  ASSERT_TRUE(env_->gateway().Reload(repinned).ok());

  const grpc::Status on_live = LookupStatus(live);
  EXPECT_EQ(on_live.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << on_live.error_message();
  EXPECT_THAT(on_live.error_message(),
              ::testing::AllOf(
                  ::testing::HasSubstr("client certificate refused: "),
                  ::testing::HasSubstr("is not one of its certificate_sha256"),
                  ::testing::Not(::testing::HasSubstr(*old_pin))));
  EXPECT_EQ(Lookup(ChannelWith(env_->port(), new_cert)), grpc::StatusCode::OK);
  // Re-pinned back, the old certificate's connection may call again.
  PinDossierSystem(repinned, *old_pin);
  ASSERT_TRUE(env_->gateway().Reload(repinned).ok());
  EXPECT_EQ(Lookup(live), grpc::StatusCode::OK);
}

// Calls until `status_of` is not OK, at most 10 s; returns the last status.
grpc::Status FirstRefusal(const std::function<grpc::Status()>& status_of) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  grpc::Status status = status_of();
  while (status.ok() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(200));
    status = status_of();
  }
  return status;
}

// The client CA file is re-read for calls as for handshakes: once an
// operator removes a CA from it (its key leaked), a connection its
// certificate made earlier is refused at its next call, not an hour later
// at the connection's maximum age; put back, it may call again.
TEST_F(RevocationIntegrationTest,
       ALiveConnectionIsRefusedOnceItsCaLeavesTheFile) {
  auto other_ca = MakeCa("Other province CA");
  ASSERT_TRUE(other_ca.ok()) << other_ca.status();
  const std::string ca_file = dir_ + "/client-cas.pem";
  const std::string both = ca_.cert_pem + other_ca->cert_pem;
  ASSERT_TRUE(ReplaceFile(ca_file, both));
  StartGateway([&](config::v1::GatewayConfig& config) {
    config.mutable_listener()->mutable_tls()->set_client_ca_file(ca_file);
  });
  ClientCertOptions options;
  options.uri = ClientId("dossier-system");
  auto cert = MakeClientCert(*other_ca, options);
  ASSERT_TRUE(cert.ok()) << cert.status();
  auto live = ChannelWith(env_->port(), *cert);
  ASSERT_EQ(Lookup(live), grpc::StatusCode::OK);

  ASSERT_TRUE(ReplaceFile(ca_file, ca_.cert_pem));
  // Paced below the client's handshake rate, as above.
  const grpc::Status fresh = FirstRefusal(
      [&] { return LookupStatus(ChannelWith(env_->port(), *cert)); });
  EXPECT_EQ(fresh.error_code(), grpc::StatusCode::UNAVAILABLE);
  const grpc::Status on_live = FirstRefusal([&] { return LookupStatus(live); });
  EXPECT_EQ(on_live.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << on_live.error_message();
  EXPECT_EQ(on_live.error_message(),
            "client certificate refused: its issuer is no longer a trusted "
            "client CA");
  // The development CA's clients are unaffected.
  EXPECT_EQ(Lookup(ChannelWith(env_->port(), DossierSystemCert())),
            grpc::StatusCode::OK);

  ASSERT_TRUE(ReplaceFile(ca_file, both));
  grpc::StatusCode again = grpc::StatusCode::UNAUTHENTICATED;
  for (int i = 0; i < 50 && again != grpc::StatusCode::OK; ++i) {
    absl::SleepFor(absl::Milliseconds(200));
    again = Lookup(live);
  }
  EXPECT_EQ(again, grpc::StatusCode::OK);
}

}  // namespace
}  // namespace lienthong::testing
