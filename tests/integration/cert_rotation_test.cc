// Certificate files replaced on disk are picked up without a restart: new
// connections present the new certificate while the gateway keeps serving.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gateway/tls/client_identity.h"
#include "gtest/gtest.h"
#include "lienthong/v1/population.grpc.pb.h"
#include "tests/integration/gateway_env.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/test_officer.h"

namespace lienthong::testing {
namespace {

// Opens a fresh TLS connection to 127.0.0.1:`port` as the dossier system and
// returns the SHA-256 fingerprint of the certificate the server presents.
std::string PresentedFingerprint(int port) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_use_certificate_file(ctx, TestCert("dossier-system.pem").c_str(),
                               SSL_FILETYPE_PEM);
  SSL_CTX_use_PrivateKey_file(ctx, TestCert("dossier-system.key").c_str(),
                              SSL_FILETYPE_PEM);
  static const unsigned char kAlpn[] = {2, 'h', '2'};
  SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof(kAlpn));
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string fingerprint;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) == 1) {
      X509* cert = SSL_get1_peer_certificate(ssl);
      unsigned char digest[EVP_MAX_MD_SIZE];
      unsigned int length = 0;
      if (cert != nullptr && X509_digest(cert, EVP_sha256(), digest, &length)) {
        fingerprint = absl::BytesToHexString(
            absl::string_view(reinterpret_cast<char*>(digest), length));
      }
      X509_free(cert);
    }
    SSL_free(ssl);
  }
  close(fd);
  SSL_CTX_free(ctx);
  return fingerprint;
}

TEST(CertRotationTest, NewConnectionsPresentTheReplacedCertificate) {
  const std::string dir = NewTestDir("rotation");
  ASSERT_EQ(std::system(absl::StrCat("cp ",
                                     TestCert("gateway.pem"), " ",
                                     TestCert("gateway.key"), " ", dir)
                            .c_str()),
            0);
  EnvOptions options;
  options.customize = [&](lienthong::config::v1::GatewayConfig& config) {
    auto* tls = config.mutable_listener()->mutable_tls();
    tls->set_cert_file(dir + "/gateway.pem");
    tls->set_key_file(dir + "/gateway.key");
    tls->set_refresh_interval_seconds(1);
  };
  auto env = GatewayEnv::Start(options);
  ASSERT_TRUE(env.ok()) << env.status();
  auto old_fingerprint = tls::CertificateFingerprint(ReadFileOrEmpty(dir + "/gateway.pem"));
  ASSERT_TRUE(old_fingerprint.ok());
  EXPECT_EQ(PresentedFingerprint((*env)->port()), *old_fingerprint);

  // Issue a new certificate from the same CA and swap both files in.
  std::string make = absl::StrCat(
      "cd ", dir,
      " && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 "
      "-out new.key 2>/dev/null"
      " && openssl req -new -key new.key -subj /CN=lienthong-gateway-rotated "
      "-out new.csr"
      " && printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n"
      "extendedKeyUsage=serverAuth\\n' > new.ext"
      " && openssl x509 -req -in new.csr -CA ", TestCert("ca.pem"), " -CAkey ",
      TestCert("ca.key"), " -CAcreateserial -CAserial ca.srl -days 30 "
      "-extfile new.ext -out new.pem 2>/dev/null"
      " && mv new.key gateway.key && mv new.pem gateway.pem");
  ASSERT_EQ(std::system(make.c_str()), 0);
  auto new_fingerprint = tls::CertificateFingerprint(ReadFileOrEmpty(dir + "/gateway.pem"));
  ASSERT_TRUE(new_fingerprint.ok());
  ASSERT_NE(*new_fingerprint, *old_fingerprint);

  std::string presented;
  absl::Time give_up = absl::Now() + absl::Seconds(15);
  while (absl::Now() < give_up) {
    presented = PresentedFingerprint((*env)->port());
    if (presented == *new_fingerprint) break;
    absl::SleepFor(absl::Milliseconds(200));  // the file watcher's period
  }
  EXPECT_EQ(presented, *new_fingerprint);
  // And the gateway keeps serving calls.
  auto stub = lienthong::v1::PopulationService::NewStub(
      (*env)->Channel("dossier-system"));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  lienthong::v1::LookupCitizenRequest request;
  request.set_citizen_id("033085012345");
  request.set_purpose("1.001193");
  *request.mutable_officer() = TestOfficer();
  lienthong::v1::Citizen citizen;
  grpc::Status status = stub->LookupCitizen(&context, request, &citizen);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

}  // namespace
}  // namespace lienthong::testing
