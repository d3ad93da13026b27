// lienthong-bench-relay: what relaying one call costs in gRPC C++ alone, the
// floor under any gateway built on it. A callback-API server with mutual TLS
// (client certificate required and verified, as the gateway's listener)
// serving lienthong.v1.PopulationService/LookupCitizen, which passes each
// request unchanged to --upstream over TLS with the generated stub's
// callback API and answers with the upstream's reply and status: no policy,
// no log, no audit, no retries, one channel. Linked like the gateway
// (tcmalloc, no Abseil lock-order checks), so that `scripts/bench.sh
// --breakdown` can set lt-noaudit beside it. Prints "listening on port N".
#include <chrono>
#include <iostream>
#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/synchronization/mutex.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/channel_arguments.h"
#include "grpcpp/support/server_callback.h"
#include "lienthong/v1/population.grpc.pb.h"
#include "tests/bench/read_file.h"

namespace {

using lienthong::bench::ReadFile;

class RelayService final
    : public lienthong::v1::PopulationService::CallbackService {
 public:
  explicit RelayService(std::shared_ptr<grpc::Channel> channel)
      : stub_(lienthong::v1::PopulationService::NewStub(std::move(channel))) {}

  grpc::ServerUnaryReactor* LookupCitizen(
      grpc::CallbackServerContext* context,
      const lienthong::v1::LookupCitizenRequest* request,
      lienthong::v1::Citizen* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    // The request and response stay alive until Finish; the upstream's
    // reply is read straight into the response.
    auto* upstream = new grpc::ClientContext;
    upstream->set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(30));
    stub_->async()->LookupCitizen(upstream, request, response,
                                  [reactor, upstream](grpc::Status status) {
                                    delete upstream;
                                    reactor->Finish(status);
                                  });
    return reactor;
  }

 private:
  std::unique_ptr<lienthong::v1::PopulationService::Stub> stub_;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "lienthong-bench-relay: a bare gRPC C++ relay of LookupCitizen, "
      "for benchmarks"};
  std::string listen = "127.0.0.1:0", upstream, cert, key, client_ca, ca;
  app.add_option("--listen", listen,
                 "host:port to listen on (port 0: any free)");
  app.add_option("--upstream", upstream, "host:port of the upstream (TLS)")
      ->required();
  app.add_option("--cert", cert, "server certificate chain (PEM)")->required();
  app.add_option("--key", key, "server private key (PEM)")->required();
  app.add_option("--client-ca", client_ca,
                 "CA that client certificates must chain to (PEM)")
      ->required();
  app.add_option("--ca", ca, "CA the upstream's certificate must chain to")
      ->required();
  CLI11_PARSE(app, argc, argv);
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  grpc::SslServerCredentialsOptions server_ssl(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  grpc::SslCredentialsOptions client_ssl;
  if (!ReadFile(cert, &pair.cert_chain) || !ReadFile(key, &pair.private_key) ||
      !ReadFile(client_ca, &server_ssl.pem_root_certs) ||
      !ReadFile(ca, &client_ssl.pem_root_certs)) {
    std::cerr << "lienthong-bench-relay: cannot read --cert, --key, "
                 "--client-ca or --ca\n";
    return 1;
  }
  server_ssl.pem_key_cert_pairs.push_back(std::move(pair));

  // As the gateway's grpc-upstream channel: its own subchannels, no retries.
  grpc::ChannelArguments args;
  args.SetInt("grpc.use_local_subchannel_pool", 1);
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  RelayService service(grpc::CreateCustomChannel(
      upstream, grpc::SslCredentials(client_ssl), args));

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, grpc::SslServerCredentials(server_ssl),
                           &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::cerr << "lienthong-bench-relay: cannot listen on " << listen << "\n";
    return 1;
  }
  std::cout << "lienthong-bench-relay to " << upstream << " listening on port "
            << port << std::endl;
  server->Wait();
  return 0;
}
