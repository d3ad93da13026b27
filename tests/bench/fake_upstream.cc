// lienthong-bench-upstream: the benchmark's "direct" floor. A gRPC server
// implementing lienthong.v1.PopulationService/LookupCitizen that answers every
// call at once with one fixed synthetic citizen (name and birth date only),
// over TLS or, with --plaintext, over h2c for proxies that speak h2c
// upstream. Prints "listening on port N" once it accepts calls.
//
// --api picks the gRPC C++ server API: "callback" (the default, what the
// gateway uses) or "cq" (the older completion-queue API, one thread per
// queue polling it), so the benchmark can show what gRPC C++ itself costs per
// call with either.
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/synchronization/mutex.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/async_unary_call.h"
#include "grpcpp/support/server_callback.h"
#include "lienthong/v1/population.grpc.pb.h"
#include "tests/bench/read_file.h"

namespace {

using lienthong::bench::ReadFile;

lienthong::v1::Citizen FixedCitizen() {
  lienthong::v1::Citizen citizen;
  citizen.mutable_name()->set_full("Nguyễn Văn An");
  citizen.mutable_birth_date()->set_year(1985);
  citizen.mutable_birth_date()->set_month(4);
  citizen.mutable_birth_date()->set_day(12);
  return citizen;
}

// Answers on the gRPC thread that delivered the call: no queueing, no
// allocation beyond what gRPC does, so this is as cheap as an upstream gets.
class FixedPopulationService final
    : public lienthong::v1::PopulationService::CallbackService {
 public:
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
  const lienthong::v1::Citizen citizen_ = FixedCitizen();
};

// The completion-queue API: each call is an object that asks for the next
// call, answers, and deletes itself once the answer is sent.
class QueuedLookup {
 public:
  QueuedLookup(lienthong::v1::PopulationService::AsyncService* service,
               grpc::ServerCompletionQueue* queue,
               const lienthong::v1::Citizen* citizen)
      : service_(service), queue_(queue), citizen_(citizen) {
    service_->RequestLookupCitizen(&context_, &request_, &writer_, queue_,
                                   queue_, this);
  }

  // `ok` is false when the server is shutting down.
  void Proceed(bool ok) {
    if (answered_ || !ok) {
      delete this;
      return;
    }
    new QueuedLookup(service_, queue_, citizen_);
    response_ = *citizen_;
    response_.set_citizen_id(request_.citizen_id());
    answered_ = true;
    writer_.Finish(response_, grpc::Status::OK, this);
  }

 private:
  lienthong::v1::PopulationService::AsyncService* service_;
  grpc::ServerCompletionQueue* queue_;
  const lienthong::v1::Citizen* citizen_;
  grpc::ServerContext context_;
  lienthong::v1::LookupCitizenRequest request_;
  lienthong::v1::Citizen response_;
  grpc::ServerAsyncResponseWriter<lienthong::v1::Citizen> writer_{&context_};
  bool answered_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"lienthong-bench-upstream: a gRPC population upstream that "
               "answers at once, for benchmarks"};
  std::string listen = "127.0.0.1:0", cert, key, client_ca;
  bool plaintext = false;
  std::string api = "callback";
  int queues = 2;
  app.add_option("--listen", listen, "host:port to listen on (port 0: any free)");
  app.add_option("--cert", cert, "server certificate chain (PEM)");
  app.add_option("--key", key, "server private key (PEM)");
  app.add_option("--client-ca", client_ca,
                 "CA for client certificates; when set, one is required");
  app.add_flag("--plaintext", plaintext, "serve h2c instead of TLS");
  app.add_option("--api", api, "gRPC C++ server API: callback or cq")
      ->check(CLI::IsMember({"callback", "cq"}));
  app.add_option("--queues", queues, "with --api cq: completion queues, one "
                                     "thread each")
      ->check(CLI::Range(1, 64));
  CLI11_PARSE(app, argc, argv);
  // As in lienthong-gateway: no lock-order checks (Debian's Abseil has them
  // on), so that the floor is what gRPC C++ costs in production.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

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

  FixedPopulationService callback_service;
  lienthong::v1::PopulationService::AsyncService queued_service;
  std::vector<std::unique_ptr<grpc::ServerCompletionQueue>> completion_queues;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, credentials, &port);
  if (api == "cq") {
    builder.RegisterService(&queued_service);
    for (int i = 0; i < queues; ++i) {
      completion_queues.push_back(builder.AddCompletionQueue());
    }
  } else {
    builder.RegisterService(&callback_service);
  }
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::cerr << "lienthong-bench-upstream: cannot listen on " << listen << "\n";
    return 1;
  }
  const lienthong::v1::Citizen citizen = FixedCitizen();
  std::vector<std::thread> pollers;
  for (const auto& queue : completion_queues) {
    // Enough outstanding requests that no call waits for one to be posted.
    for (int i = 0; i < 64; ++i) {
      new QueuedLookup(&queued_service, queue.get(), &citizen);
    }
    pollers.emplace_back([queue = queue.get()] {
      void* tag = nullptr;
      bool ok = false;
      while (queue->Next(&tag, &ok)) static_cast<QueuedLookup*>(tag)->Proceed(ok);
    });
  }
  std::cout << "lienthong-bench-upstream " << (plaintext ? "h2c" : "tls") << " "
            << api << " listening on port " << port << std::endl;
  server->Wait();
  for (const auto& queue : completion_queues) queue->Shutdown();
  for (std::thread& poller : pollers) poller.join();
  return 0;
}
