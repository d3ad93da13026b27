#include "tests/gateway/cli/tls_server.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "tests/testing/test_certs.h"

namespace lienthong::cli::testing {

using ::lienthong::testing::ReadFileOrEmpty;
using ::lienthong::testing::TestCert;
using ::lienthong::testing::TestCertDir;

absl::StatusOr<std::unique_ptr<grpc::Server>> StartTlsServer(
    const std::vector<grpc::Service*>& services, int* port,
    int max_receive_bytes) {
  grpc::SslServerCredentialsOptions tls(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  tls.pem_root_certs = ReadFileOrEmpty(TestCert("ca.pem"));
  if (tls.pem_root_certs.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("no test certificates in ", TestCertDir()));
  }
  tls.pem_key_cert_pairs.push_back({ReadFileOrEmpty(TestCert("gateway.key")),
                                    ReadFileOrEmpty(TestCert("gateway.pem"))});
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(tls), port);
  for (grpc::Service* service : services) builder.RegisterService(service);
  if (max_receive_bytes >= 0) {
    builder.SetMaxReceiveMessageSize(max_receive_bytes);
  }
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || *port <= 0) {
    return absl::UnavailableError("the TLS test server did not start");
  }
  return server;
}

ConnectionOptions DossierSystemConnection(int port) {
  ConnectionOptions connection;
  connection.server = absl::StrCat("127.0.0.1:", port);
  connection.ca_file = TestCert("ca.pem");
  connection.cert_file = TestCert("dossier-system.pem");
  connection.key_file = TestCert("dossier-system.key");
  connection.timeout_seconds = 10;
  return connection;
}

}  // namespace lienthong::cli::testing
