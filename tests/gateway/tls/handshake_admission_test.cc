// The listener's handshake checks over real mutual TLS on 127.0.0.1:0: only
// configured client identities (and pinned certificates) complete the
// handshake, an unknown identity gets no HTTP/2 at all, and a certificate
// revoked by a changed CRL file is refused without a restart.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include <openssl/ssl.h>

#include "absl/synchronization/mutex.h"
#include "gateway/tls/admission.h"
#include "gateway/tls/client_identity.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "lienthong/v1/population.grpc.pb.h"
#include "tests/testing/cert_factory.h"
#include "tests/testing/h2_raw_client.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_certs.h"

namespace lienthong::tls {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::MakeClientCert;
using ::lienthong::testing::PemPair;
using ::lienthong::testing::TestCert;

// Answers every lookup OK: reaching it means the handshake was admitted.
class Answering final : public lienthong::v1::PopulationService::CallbackService {
  grpc::ServerUnaryReactor* LookupCitizen(
      grpc::CallbackServerContext* ctx, const lienthong::v1::LookupCitizenRequest*,
      lienthong::v1::Citizen*) override {
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

class HandshakeAdmissionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ca = lienthong::testing::DevelopmentCa();
    ASSERT_THAT(ca, IsOk());
    ca_ = *ca;
    dir_ = absl::StrCat(::testing::TempDir(), "/handshake-", getpid());
    ::mkdir(dir_.c_str(), 0700);
    admission_ = std::make_shared<ClientAdmission>(ClientAdmission::Limits{1000, 1000});
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown(std::chrono::system_clock::now());
    std::system(absl::StrCat("rm -rf ", dir_).c_str());
  }

  void Admit(const std::string& clients_text) {
    config::v1::GatewayConfig config;
    ASSERT_TRUE(
        google::protobuf::TextFormat::ParseFromString(clients_text, &config));
    ASSERT_THAT(admission_->Update(config.clients()), IsOk());
  }

  void Serve(const std::string& crl_file = "") {
    ServerTlsOptions options;
    options.cert_file = TestCert("gateway.pem");
    options.key_file = TestCert("gateway.key");
    options.client_ca_file = TestCert("ca.pem");
    options.refresh_interval_seconds = 1;
    options.client_crl_file = crl_file;
    options.admission = admission_;
    options.on_refused = [this](absl::string_view reason) {
      absl::MutexLock lock(&mu_);
      ++refused_[std::string(reason)];
    };
    auto credentials = MakeServerCredentials(options);
    ASSERT_THAT(credentials, IsOk());
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", *credentials, &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }

  // One call on a fresh connection presenting `cert`.
  grpc::StatusCode Call(const PemPair& cert) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ca_.cert_pem;
    ssl.pem_cert_chain = cert.cert_pem;
    ssl.pem_private_key = cert.key_pem;
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto stub = lienthong::v1::PopulationService::NewStub(grpc::CreateCustomChannel(
        absl::StrCat("127.0.0.1:", port_), grpc::SslCredentials(ssl), args));
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    lienthong::v1::LookupCitizenRequest request;
    lienthong::v1::Citizen citizen;
    return stub->LookupCitizen(&context, request, &citizen).error_code();
  }

  PemPair Cert(const std::string& uri, const std::string& cn = "test-client") {
    lienthong::testing::ClientCertOptions options;
    options.uri = uri;
    options.common_name = cn;
    auto cert = MakeClientCert(ca_, options);
    EXPECT_THAT(cert, IsOk());
    return cert.ok() ? *cert : PemPair{};
  }
  PemPair DevCert(const std::string& name) {
    return {lienthong::testing::ReadFileOrEmpty(TestCert(name + ".pem")),
            lienthong::testing::ReadFileOrEmpty(TestCert(name + ".key")), ""};
  }

  int Refused(const std::string& reason) {
    absl::MutexLock lock(&mu_);
    return refused_[reason];
  }

  PemPair ca_;
  std::string dir_;
  std::shared_ptr<ClientAdmission> admission_;
  Answering service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  absl::Mutex mu_;
  std::map<std::string, int> refused_ ABSL_GUARDED_BY(mu_);
};

TEST_F(HandshakeAdmissionTest, OnlyConfiguredIdentitiesCompleteTheHandshake) {
  Admit(R"pb(clients { id: "spiffe://lienthong.local/dossier-system" })pb");
  Serve();
  EXPECT_EQ(Call(DevCert("dossier-system")), grpc::StatusCode::OK);
  // Same CA, identity not configured: refused before any HTTP/2.
  EXPECT_EQ(Call(DevCert("citizen-portal")), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Call(Cert("spiffe://lienthong.local/stranger")),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_GE(Refused("unknown_identity"), 2);
  // The admission follows an update (a reload) at once.
  Admit(R"pb(clients { id: "spiffe://lienthong.local/citizen-portal" })pb");
  EXPECT_EQ(Call(DevCert("citizen-portal")), grpc::StatusCode::OK);
  EXPECT_EQ(Call(DevCert("dossier-system")), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(HandshakeAdmissionTest, AnUnknownIdentityGetsNoHttp2Frame) {
  Admit(R"pb(clients { id: "spiffe://lienthong.local/dossier-system" })pb");
  Serve();
  auto credentials = [&](const PemPair& cert) {
    return lienthong::testing::TlsClientCredentials{ca_.cert_pem, cert.cert_pem,
                                                    cert.key_pem};
  };
  // A configured client: the server's SETTINGS frame answers the preface.
  auto known = lienthong::testing::RawH2Connection::Connect(
      port_, credentials(DevCert("dossier-system")), absl::Seconds(5));
  ASSERT_THAT(known, IsOk());
  ASSERT_THAT((*known)->SendPreface(), IsOk());
  auto settings = (*known)->ReadFrame();
  ASSERT_THAT(settings, IsOk());
  EXPECT_EQ(settings->type, lienthong::testing::kH2Settings);

  // An unknown one: whatever it sends, the connection closes with not one
  // HTTP/2 byte from the server.
  auto stranger = lienthong::testing::RawH2Connection::Connect(
      port_, credentials(Cert("spiffe://lienthong.local/stranger")),
      absl::Seconds(5));
  if (stranger.ok()) {  // TLS 1.3: the client's side of the handshake ends first
    (*stranger)->SendPreface().IgnoreError();
    auto frame = (*stranger)->ReadFrame();
    EXPECT_TRUE(absl::IsUnavailable(frame.status())) << frame.status();
  }
  EXPECT_GE(Refused("unknown_identity"), 1);
}

TEST_F(HandshakeAdmissionTest, SubjectCnOnlyWhereConfigured) {
  Admit(R"pb(clients { id: "district-office" match_subject_cn: true }
             clients { id: "commune-app" })pb");
  Serve();
  EXPECT_EQ(Call(Cert("", "district-office")), grpc::StatusCode::OK);
  EXPECT_EQ(Call(Cert("", "commune-app")), grpc::StatusCode::UNAVAILABLE);
  // With a SAN URI, the URI is the identity, whatever the CN says.
  EXPECT_EQ(Call(Cert("spiffe://lienthong.local/x", "district-office")),
            grpc::StatusCode::UNAVAILABLE);
}

// gRPC hands the verifier the SAN URI and CN as C strings, cut at a NUL,
// while a call's auth context keeps them whole: a certificate naming
// "<configured identity>\0x" must not pass as the configured identity.
TEST_F(HandshakeAdmissionTest, AnIdentityWithANulByteIsRefused) {
  Admit(R"pb(clients { id: "spiffe://lienthong.local/dossier-system" }
             clients { id: "district-office" match_subject_cn: true })pb");
  Serve();
  const std::string uri = "spiffe://lienthong.local/dossier-system";
  EXPECT_EQ(Call(Cert(uri)), grpc::StatusCode::OK);
  EXPECT_EQ(Call(Cert(uri + std::string("\0x", 2))),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Call(Cert("", "district-office")), grpc::StatusCode::OK);
  EXPECT_EQ(Call(Cert("", std::string("district-office\0x", 17))),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Refused("unreadable"), 2);
  EXPECT_EQ(Refused("unknown_identity"), 0);
}

TEST_F(HandshakeAdmissionTest, APinnedIdentityAcceptsOnlyItsCertificates) {
  PemPair pinned = Cert("spiffe://lienthong.local/pinned");
  PemPair other = Cert("spiffe://lienthong.local/pinned");
  auto fingerprint = CertificateFingerprint(pinned.cert_pem);
  ASSERT_THAT(fingerprint, IsOk());
  Admit(absl::StrCat(R"pb(clients { id: "spiffe://lienthong.local/pinned" certificate_sha256: ")pb",
                     *fingerprint, R"pb(" })pb"));
  Serve();
  EXPECT_EQ(Call(pinned), grpc::StatusCode::OK);
  EXPECT_EQ(Call(other), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Refused("not_pinned"), 1);
}

TEST_F(HandshakeAdmissionTest, ARevokedCertificateIsRefusedOnceTheCrlChanges) {
  PemPair doomed = Cert("spiffe://lienthong.local/dossier-system");
  PemPair spared = Cert("spiffe://lienthong.local/dossier-system");
  Admit(R"pb(clients { id: "spiffe://lienthong.local/dossier-system" })pb");
  const std::string crl_file = dir_ + "/clients.crl";
  auto empty = lienthong::testing::MakeCrl(ca_, {});
  ASSERT_THAT(empty, IsOk());
  ASSERT_TRUE(lienthong::testing::ReplaceFile(crl_file, *empty));
  Serve(crl_file);
  ASSERT_EQ(Call(doomed), grpc::StatusCode::OK);

  auto revoking = lienthong::testing::MakeCrl(ca_, {doomed.serial_hex});
  ASSERT_THAT(revoking, IsOk());
  ASSERT_TRUE(lienthong::testing::ReplaceFile(crl_file, *revoking));
  // The file is checked once a refresh interval (1 s here): poll for the
  // refusal, each poll a real handshake.
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  grpc::StatusCode code = grpc::StatusCode::OK;
  while (code == grpc::StatusCode::OK && absl::Now() < give_up) {
    code = Call(doomed);
  }
  EXPECT_EQ(code, grpc::StatusCode::UNAVAILABLE);
  EXPECT_GE(Refused("revoked"), 1);
  EXPECT_EQ(Call(spared), grpc::StatusCode::OK);
}

TEST_F(HandshakeAdmissionTest, AResumedSessionOfARevokedCertificateIsRefused) {
  // TLS session resumption skips the certificate exchange: the check must
  // still see the certificate the session was made with.
  PemPair doomed = Cert("spiffe://lienthong.local/dossier-system");
  Admit(R"pb(clients { id: "spiffe://lienthong.local/dossier-system" })pb");
  const std::string crl_file = dir_ + "/clients.crl";
  auto empty = lienthong::testing::MakeCrl(ca_, {});
  ASSERT_THAT(empty, IsOk());
  ASSERT_TRUE(lienthong::testing::ReplaceFile(crl_file, *empty));
  Serve(crl_file);
  lienthong::testing::TlsClientCredentials credentials{
      ca_.cert_pem, doomed.cert_pem, doomed.key_pem};
  SSL_SESSION* session = nullptr;
  {
    auto first = lienthong::testing::RawH2Connection::Connect(
        port_, credentials, absl::Seconds(5));
    ASSERT_THAT(first, IsOk());
    ASSERT_THAT((*first)->SendPreface(), IsOk());
    // Reading processes the ticket, which TLS 1.3 sends after the handshake.
    ASSERT_THAT((*first)->ReadFrame(), IsOk());
    session = (*first)->TakeSession();
  }
  ASSERT_NE(session, nullptr);
  credentials.resume = session;
  {
    // Resumption works while the certificate is good.
    auto again = lienthong::testing::RawH2Connection::Connect(
        port_, credentials, absl::Seconds(5));
    ASSERT_THAT(again, IsOk());
    EXPECT_TRUE((*again)->resumed());
    ASSERT_THAT((*again)->SendPreface(), IsOk());
    EXPECT_THAT((*again)->ReadFrame(), IsOk());
  }

  auto revoking = lienthong::testing::MakeCrl(ca_, {doomed.serial_hex});
  ASSERT_THAT(revoking, IsOk());
  ASSERT_TRUE(lienthong::testing::ReplaceFile(crl_file, *revoking));
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (Call(doomed) == grpc::StatusCode::OK && absl::Now() < give_up) {
  }
  const int refused_before = Refused("revoked");
  auto resumed = lienthong::testing::RawH2Connection::Connect(
      port_, credentials, absl::Seconds(5));
  // TLS 1.3: the client's side of a resumed handshake completes; the
  // server then closes without a frame.
  ASSERT_THAT(resumed, IsOk());
  EXPECT_TRUE((*resumed)->resumed());
  (*resumed)->SendPreface().IgnoreError();
  auto frame = (*resumed)->ReadFrame();
  EXPECT_TRUE(absl::IsUnavailable(frame.status())) << frame.status();
  EXPECT_EQ(Refused("revoked"), refused_before + 1);
  SSL_SESSION_free(session);
}

TEST_F(HandshakeAdmissionTest, ABadCrlFileStopsStartUp) {
  const std::string crl_file = dir_ + "/bad.crl";
  ASSERT_TRUE(lienthong::testing::ReplaceFile(crl_file, "not a CRL"));
  ServerTlsOptions options;
  options.cert_file = TestCert("gateway.pem");
  options.key_file = TestCert("gateway.key");
  options.client_ca_file = TestCert("ca.pem");
  options.client_crl_file = crl_file;
  EXPECT_THAT(MakeServerCredentials(options),
              lienthong::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                           ::testing::HasSubstr(crl_file)));
}

}  // namespace
}  // namespace lienthong::tls
