// lienthong-bench-relay: what relaying one call costs in gRPC C++ alone, the
// floor under any gateway built on it. A callback-API server with mutual TLS
// (client certificate required and verified, as the gateway's listener)
// serving lienthong.v1.PopulationService/LookupCitizen, which passes each
// request unchanged to --upstream over TLS with the generated stub's
// callback API and answers with the upstream's reply and status: no policy,
// no log, no audit, no retries, one channel. Linked like the gateway
// (tcmalloc, no Abseil lock-order checks), so that `scripts/bench.sh
// --breakdown` can set lt-noaudit beside it. Prints "listening on port N".
//
// --api cq serves and relays on the completion-queue API instead (both
// calls of a relay on one queue, one thread per queue), so that
// scripts/bench-ab.sh can show whether a gateway on that API would be
// cheaper.
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/synchronization/mutex.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/async_unary_call.h"
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

// The completion-queue API: each call is an object that asks for the next
// call, calls the upstream on the same queue, answers with its reply, and
// deletes itself once the answer is sent.
class QueuedRelay {
 public:
  QueuedRelay(lienthong::v1::PopulationService::AsyncService* service,
              lienthong::v1::PopulationService::Stub* stub,
              grpc::ServerCompletionQueue* queue)
      : service_(service), stub_(stub), queue_(queue) {
    service_->RequestLookupCitizen(&context_, &request_, &writer_, queue_,
                                   queue_, this);
  }

  // `ok` is false when the server is shutting down.
  void Proceed(bool ok) {
    if (!ok || stage_ == Stage::kAnswered) {
      delete this;
      return;
    }
    if (stage_ == Stage::kRequested) {
      new QueuedRelay(service_, stub_, queue_);
      upstream_.set_deadline(std::chrono::system_clock::now() +
                             std::chrono::seconds(30));
      reader_ = stub_->AsyncLookupCitizen(&upstream_, request_, queue_);
      stage_ = Stage::kRelaying;
      reader_->Finish(&response_, &status_, this);
      return;
    }
    stage_ = Stage::kAnswered;
    if (status_.ok()) {
      writer_.Finish(response_, status_, this);
    } else {
      writer_.FinishWithError(status_, this);
    }
  }

 private:
  enum class Stage { kRequested, kRelaying, kAnswered };
  lienthong::v1::PopulationService::AsyncService* service_;
  lienthong::v1::PopulationService::Stub* stub_;
  grpc::ServerCompletionQueue* queue_;
  grpc::ServerContext context_;
  grpc::ClientContext upstream_;
  lienthong::v1::LookupCitizenRequest request_;
  lienthong::v1::Citizen response_;
  grpc::Status status_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<lienthong::v1::Citizen>>
      reader_;
  grpc::ServerAsyncResponseWriter<lienthong::v1::Citizen> writer_{&context_};
  Stage stage_ = Stage::kRequested;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "lienthong-bench-relay: a bare gRPC C++ relay of LookupCitizen, "
      "for benchmarks"};
  std::string listen = "127.0.0.1:0", upstream, cert, key, client_ca, ca;
  std::string api = "callback";
  int queues = 2;
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
  app.add_option("--api", api, "gRPC C++ API: callback or cq")
      ->check(CLI::IsMember({"callback", "cq"}));
  app.add_option("--queues", queues,
                 "with --api cq: completion queues, one thread each")
      ->check(CLI::Range(1, 64));
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
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(
      upstream, grpc::SslCredentials(client_ssl), args);
  RelayService service(channel);
  lienthong::v1::PopulationService::AsyncService queued_service;
  std::unique_ptr<lienthong::v1::PopulationService::Stub> queued_stub =
      lienthong::v1::PopulationService::NewStub(channel);
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> completion_queues;

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, grpc::SslServerCredentials(server_ssl),
                           &port);
  if (api == "cq") {
    builder.RegisterService(&queued_service);
    for (int i = 0; i < queues; ++i) {
      completion_queues.push_back(builder.AddCompletionQueue());
    }
  } else {
    builder.RegisterService(&service);
  }
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::cerr << "lienthong-bench-relay: cannot listen on " << listen << "\n";
    return 1;
  }
  std::vector<std::thread> pollers;
  for (const auto& queue : completion_queues) {
    // Enough outstanding requests that no call waits for one to be posted.
    for (int i = 0; i < 64; ++i) {
      new QueuedRelay(&queued_service, queued_stub.get(), queue.get());
    }
    pollers.emplace_back([queue = queue.get()] {
      void* tag = nullptr;
      bool ok = false;
      while (queue->Next(&tag, &ok))
        static_cast<QueuedRelay*>(tag)->Proceed(ok);
    });
  }
  std::cout << "lienthong-bench-relay to " << upstream << " " << api
            << " listening on port " << port << std::endl;
  server->Wait();
  for (const auto& queue : completion_queues) queue->Shutdown();
  for (std::thread& poller : pollers) poller.join();
  return 0;
}
