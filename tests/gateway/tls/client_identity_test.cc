// The listener's TLS (MakeServerCredentials) and who a caller is
// (IdentityFromAuthContext), over real mutual TLS on 127.0.0.1:0 with the
// development certificates, plus certificates made here with openssl.
#include "gateway/tls/client_identity.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "lienthong/v1/population.grpc.pb.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_certs.h"

namespace lienthong::tls {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::ReadFileOrEmpty;
using ::lienthong::testing::StatusIs;
using ::lienthong::testing::TestCert;
using ::testing::HasSubstr;

// Answers every lookup with OK and records who called (or why the caller
// could not be identified).
class WhoIsCalling final : public lienthong::v1::PopulationService::Service {
 public:
  grpc::Status LookupCitizen(grpc::ServerContext* ctx,
                             const lienthong::v1::LookupCitizenRequest*,
                             lienthong::v1::Citizen*) override {
    absl::MutexLock lock(&mu_);
    ++calls_;
    last_ = IdentityFromAuthContext(*ctx->auth_context());
    return grpc::Status::OK;
  }
  int calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  absl::StatusOr<ClientIdentity> last() const {
    absl::MutexLock lock(&mu_);
    return last_;
  }

 private:
  mutable absl::Mutex mu_;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  absl::StatusOr<ClientIdentity> last_ ABSL_GUARDED_BY(mu_) =
      absl::UnknownError("not called");
};

// A folder of its own with copies of the files a test changes.
class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = absl::StrCat(::testing::TempDir(), "/tls-", getpid(), "-",
                        counter++);
    ASSERT_EQ(std::system(absl::StrCat("rm -rf ", dir_, " && mkdir -p ", dir_)
                              .c_str()),
              0);
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown(std::chrono::system_clock::now());
    std::system(absl::StrCat("rm -rf ", dir_).c_str());
  }

  ServerTlsOptions DevOptions() const {
    ServerTlsOptions options;
    options.cert_file = TestCert("gateway.pem");
    options.key_file = TestCert("gateway.key");
    options.client_ca_file = TestCert("ca.pem");
    return options;
  }

  void Serve(const ServerTlsOptions& options) {
    auto credentials = MakeServerCredentials(options);
    ASSERT_THAT(credentials, IsOk());
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", *credentials, &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port_, 0);
  }

  // Calls the server presenting `cert`/`key` (none when empty); a fresh
  // channel each time, so that each call makes its own handshake.
  grpc::Status Call(const std::string& cert, const std::string& key) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadFileOrEmpty(TestCert("ca.pem"));
    if (!cert.empty()) {
      ssl.pem_cert_chain = ReadFileOrEmpty(cert);
      ssl.pem_private_key = ReadFileOrEmpty(key);
    }
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto channel = grpc::CreateCustomChannel(
        absl::StrCat("127.0.0.1:", port_), grpc::SslCredentials(ssl), args);
    auto stub = lienthong::v1::PopulationService::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    lienthong::v1::LookupCitizenRequest request;
    lienthong::v1::Citizen citizen;
    return stub->LookupCitizen(&context, request, &citizen);
  }
  grpc::Status CallAs(const std::string& client) {
    return Call(TestCert(client + ".pem"), TestCert(client + ".key"));
  }

  // Makes a client certificate from the development CA with `subject` and,
  // when not empty, the extension lines in `extensions`; returns its path
  // (the key beside it, .key).
  std::string MakeClientCert(const std::string& name,
                             const std::string& subject,
                             const std::string& extensions) {
    const std::string base = absl::StrCat(dir_, "/", name);
    std::string command = absl::StrCat(
        "cd ", dir_,
        " && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 "
        "-out ", base, ".key 2>/dev/null"
        " && openssl req -new -key ", base, ".key -subj '", subject,
        "' -out ", base, ".csr"
        " && printf 'extendedKeyUsage=clientAuth\\n", extensions, "' > ",
        base, ".ext"
        " && openssl x509 -req -in ", base, ".csr -CA ", TestCert("ca.pem"),
        " -CAkey ", TestCert("ca.key"), " -CAcreateserial -CAserial ",
        dir_, "/ca.srl -days 30 -extfile ", base, ".ext -out ", base,
        ".pem 2>/dev/null");
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    return base + ".pem";
  }

  // Makes a self-signed client certificate (a CA of its own) with subject
  // CN `name` and SAN URI `uri`; returns its path (the key beside it, .key).
  std::string MakeSelfSignedCert(const std::string& name,
                                 const std::string& uri) {
    const std::string base = absl::StrCat(dir_, "/", name);
    std::string command = absl::StrCat(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
        "-nodes -keyout ",
        base, ".key -out ", base, ".pem -days 30 -subj '/CN=", name,
        "' -addext 'subjectAltName=URI:", uri,
        "' -addext 'extendedKeyUsage=clientAuth' 2>/dev/null");
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    return base + ".pem";
  }

  std::string dir_;
  WhoIsCalling service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

// SHA-256 of the certificate's DER, computed here with OpenSSL directly.
std::string DerSha256(const std::string& pem_file) {
  std::string pem = ReadFileOrEmpty(pem_file);
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) return "";
  unsigned char* der = nullptr;
  const int length = i2d_X509(cert, &der);
  X509_free(cert);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(der, static_cast<size_t>(length), digest, &size, EVP_sha256(),
             nullptr);
  OPENSSL_free(der);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), size));
}

TEST_F(TlsTest, TheCallerIsItsSanUriWithTheCertificatesFingerprint) {
  Serve(DevOptions());
  ASSERT_TRUE(CallAs("dossier-system").ok());
  auto identity = service_.last();
  ASSERT_THAT(identity, IsOk());
  EXPECT_EQ(identity->id, "spiffe://lienthong.local/dossier-system");
  EXPECT_EQ(identity->fingerprint_sha256,
            DerSha256(TestCert("dossier-system.pem")));
  EXPECT_EQ(identity->fingerprint_sha256.size(), 64u);

  ASSERT_TRUE(CallAs("auditor").ok());
  identity = service_.last();
  ASSERT_THAT(identity, IsOk());
  EXPECT_EQ(identity->id, "spiffe://lienthong.local/auditor");
  EXPECT_EQ(identity->fingerprint_sha256, DerSha256(TestCert("auditor.pem")));
}

TEST_F(TlsTest, WithoutASanUriTheCallerIsItsSubjectCn) {
  const std::string cn_only = MakeClientCert("cn-only", "/CN=district-office", "");
  const std::string with_dns = MakeClientCert(
      "dns-only", "/CN=commune-app", "subjectAltName=DNS:app.example\\n");
  Serve(DevOptions());
  ASSERT_TRUE(Call(cn_only, dir_ + "/cn-only.key").ok());
  auto identity = service_.last();
  ASSERT_THAT(identity, IsOk());
  EXPECT_EQ(identity->id, "district-office");
  EXPECT_EQ(identity->fingerprint_sha256, DerSha256(cn_only));
  // A DNS name is not an identity: the CN still is.
  ASSERT_TRUE(Call(with_dns, dir_ + "/dns-only.key").ok());
  identity = service_.last();
  ASSERT_THAT(identity, IsOk());
  EXPECT_EQ(identity->id, "commune-app");
}

TEST_F(TlsTest, NoCertificateOrOneFromAnotherCaIsRefusedInTheHandshake) {
  Serve(DevOptions());
  grpc::Status none = Call("", "");
  EXPECT_EQ(none.error_code(), grpc::StatusCode::UNAVAILABLE)
      << none.error_message();
  grpc::Status rogue = CallAs("rogue-client");
  EXPECT_EQ(rogue.error_code(), grpc::StatusCode::UNAVAILABLE)
      << rogue.error_message();
  // Neither reached the service.
  EXPECT_EQ(service_.calls(), 0);
  EXPECT_TRUE(CallAs("dossier-system").ok());
  EXPECT_EQ(service_.calls(), 1);
}

// With admission configured the handshake also runs the gateway's own
// verifier (handshake_verifier.h), which must add to OpenSSL's chain check,
// not stand in for it: a certificate of another CA (here self-signed)
// carrying a configured client's SAN URI is refused, even when the config
// pins exactly that certificate.
TEST_F(TlsTest, AConfiguredIdentityFromAnotherCaIsRefusedWithAdmission) {
  constexpr char kDossierSystem[] = "spiffe://lienthong.local/dossier-system";
  const std::string forged = MakeSelfSignedCert("forged", kDossierSystem);
  const std::string forged_key = dir_ + "/forged.key";
  auto admission =
      std::make_shared<ClientAdmission>(ClientAdmission::Limits{1000, 1000});
  config::v1::GatewayConfig config;
  config.add_clients()->set_id(kDossierSystem);
  ASSERT_THAT(admission->Update(config.clients()), IsOk());
  // Shared: the server may outlive this scope until TearDown.
  auto refused_by_verifier = std::make_shared<std::atomic<int>>(0);
  ServerTlsOptions options = DevOptions();
  options.admission = admission;
  options.on_refused = [refused_by_verifier](absl::string_view) {
    ++*refused_by_verifier;
  };
  Serve(options);

  grpc::Status status = Call(forged, forged_key);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << status.error_message();
  EXPECT_EQ(service_.calls(), 0);
  // The identity's genuine certificate completes the handshake.
  EXPECT_TRUE(CallAs("dossier-system").ok());
  EXPECT_EQ(service_.calls(), 1);

  // A pin names a certificate; it does not make its issuer trusted.
  config.mutable_clients(0)->add_certificate_sha256(DerSha256(forged));
  ASSERT_THAT(admission->Update(config.clients()), IsOk());
  status = Call(forged, forged_key);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << status.error_message();
  EXPECT_EQ(service_.calls(), 1);
  // The verifier is in force: the genuine certificate, now not pinned, is
  // refused by it.
  EXPECT_EQ(CallAs("dossier-system").error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(service_.calls(), 1);
  EXPECT_GE(refused_by_verifier->load(), 1);
}

TEST_F(TlsTest, ReplacedFilesAreReadAgainForNewConnections) {
  ServerTlsOptions options = DevOptions();
  options.client_ca_file = dir_ + "/clients-ca.pem";
  ASSERT_EQ(std::system(absl::StrCat("cp ", TestCert("ca.pem"), " ",
                                     options.client_ca_file)
                            .c_str()),
            0);
  options.refresh_interval_seconds = 1;
  Serve(options);
  ASSERT_TRUE(CallAs("dossier-system").ok());
  ASSERT_FALSE(CallAs("rogue-client").ok());

  // The province now trusts only the other CA's clients.
  ASSERT_EQ(std::system(absl::StrCat("cp ", TestCert("rogue-ca.pem"), " ",
                                     options.client_ca_file, ".new && mv ",
                                     options.client_ca_file, ".new ",
                                     options.client_ca_file)
                            .c_str()),
            0);
  bool switched = false;
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (!switched && absl::Now() < give_up) {
    switched = CallAs("rogue-client").ok();
    if (!switched) absl::SleepFor(absl::Milliseconds(200));  // watcher period
  }
  EXPECT_TRUE(switched);
  EXPECT_EQ(CallAs("dossier-system").error_code(),
            grpc::StatusCode::UNAVAILABLE);
  auto identity = service_.last();
  ASSERT_THAT(identity, IsOk());
  EXPECT_EQ(identity->fingerprint_sha256,
            DerSha256(TestCert("rogue-client.pem")));
}

TEST_F(TlsTest, FilesThatCannotServeAreRefusedByName) {
  struct Case {
    const char* name;
    void (*change)(ServerTlsOptions&, const std::string& dir);
    const char* message;
  };
  const Case kCases[] = {
      {"no certificate file",
       [](ServerTlsOptions& o, const std::string&) { o.cert_file.clear(); },
       "tls.cert_file is not set"},
      {"missing key file",
       [](ServerTlsOptions& o, const std::string& dir) {
         o.key_file = dir + "/missing.key";
       },
       "cannot read tls.key_file"},
      {"a key that is not a key",
       [](ServerTlsOptions& o, const std::string&) {
         o.key_file = TestCert("ca.pem");
       },
       "holds no PEM private key"},
      {"a certificate file without a certificate",
       [](ServerTlsOptions& o, const std::string&) {
         o.cert_file = TestCert("gateway.key");
       },
       "holds no PEM certificate"},
      {"a key of another certificate",
       [](ServerTlsOptions& o, const std::string&) {
         o.key_file = TestCert("sim.key");
       },
       "do not belong together"},
      {"a client CA file without a certificate",
       [](ServerTlsOptions& o, const std::string&) {
         o.client_ca_file = TestCert("ca.key");
       },
       "tls.client_ca_file"},
  };
  for (const Case& c : kCases) {
    ServerTlsOptions options = DevOptions();
    c.change(options, dir_);
    EXPECT_THAT(MakeServerCredentials(options),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr(c.message)))
        << c.name;
  }
  // Without client certificates, no client CA is needed.
  ServerTlsOptions open = DevOptions();
  open.require_client_cert = false;
  open.client_ca_file.clear();
  EXPECT_THAT(MakeServerCredentials(open), IsOk());
}

TEST(CertificateTest, FingerprintAndExpiryOfAPemFile) {
  EXPECT_THAT(CertificateFingerprint(ReadFileOrEmpty(TestCert("gateway.pem"))),
              ::lienthong::testing::IsOkAndHolds(DerSha256(TestCert("gateway.pem"))));
  EXPECT_THAT(CertificateFingerprint("-----BEGIN CERTIFICATE-----\nAAAA\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not a PEM certificate")));
  auto expiry = CertificateNotAfter(TestCert("gateway.pem"));
  ASSERT_THAT(expiry, IsOk());
  EXPECT_GT(*expiry, absl::Now());
  EXPECT_THAT(CertificateNotAfter(TestCert("gateway.key")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("holds no PEM certificate")));
}

}  // namespace
}  // namespace lienthong::tls
