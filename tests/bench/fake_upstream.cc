// lienthong-bench-upstream: the benchmark's "direct" floor. A gRPC server
// (callback API) implementing lienthong.v1.PopulationService/LookupCitizen
// that answers every call at once with one fixed synthetic citizen (name and
// birth date only), over TLS or, with --plaintext, over h2c for proxies that
// speak h2c upstream. Prints "listening on port N" once it accepts calls.
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "CLI/CLI.hpp"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/support/server_callback.h"
#include "lienthong/v1/population.grpc.pb.h"

namespace {

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream buffer;
  buffer << in.rdbuf();
  *out = buffer.str();
  return true;
}

// Answers on the gRPC thread that delivered the call: no queueing, no
// allocation beyond what gRPC does, so this is as cheap as an upstream gets.
class FixedPopulationService final
    : public lienthong::v1::PopulationService::CallbackService {
 public:
  FixedPopulationService() {
    citizen_.mutable_name()->set_full("Nguyễn Văn An");
    citizen_.mutable_birth_date()->set_year(1985);
    citizen_.mutable_birth_date()->set_month(4);
    citizen_.mutable_birth_date()->set_day(12);
  }

  grpc::ServerUnaryReactor* LookupCitizen(
      grpc::CallbackServerContext* context,
      const lienthong::v1::LookupCitizenRequest* request,
      lienthong::v1::Citizen* response) override {
    *response = citizen_;
    response->set_citizen_id(request->citizen_id());
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  lienthong::v1::Citizen citizen_;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"lienthong-bench-upstream: a gRPC population upstream that "
               "answers at once, for benchmarks"};
  std::string listen = "127.0.0.1:0", cert, key, client_ca;
  bool plaintext = false;
  app.add_option("--listen", listen, "host:port to listen on (port 0: any free)");
  app.add_option("--cert", cert, "server certificate chain (PEM)");
  app.add_option("--key", key, "server private key (PEM)");
  app.add_option("--client-ca", client_ca,
                 "CA for client certificates; when set, one is required");
  app.add_flag("--plaintext", plaintext, "serve h2c instead of TLS");
  CLI11_PARSE(app, argc, argv);

  std::shared_ptr<grpc::ServerCredentials> credentials;
  if (plaintext) {
    credentials = grpc::InsecureServerCredentials();
  } else {
    grpc::SslServerCredentialsOptions ssl(
        client_ca.empty()
            ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
            : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
    if (!ReadFile(cert, &pair.cert_chain) || !ReadFile(key, &pair.private_key) ||
        (!client_ca.empty() && !ReadFile(client_ca, &ssl.pem_root_certs))) {
      std::cerr << "lienthong-bench-upstream: cannot read --cert, --key or "
                   "--client-ca (or pass --plaintext)\n";
      return 1;
    }
    ssl.pem_key_cert_pairs.push_back(std::move(pair));
    credentials = grpc::SslServerCredentials(ssl);
  }

  FixedPopulationService service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, credentials, &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::cerr << "lienthong-bench-upstream: cannot listen on " << listen << "\n";
    return 1;
  }
  std::cout << "lienthong-bench-upstream " << (plaintext ? "h2c" : "tls")
            << " listening on port " << port << std::endl;
  server->Wait();
  return 0;
}
