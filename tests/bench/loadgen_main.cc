// lienthong-loadgen: drives the lienthong.v1 API with synthetic lookups or
// verifications over mutual TLS and prints throughput and latency figures.
#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/synchronization/mutex.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "tests/bench/load_generator.h"
#include "tests/bench/read_file.h"

using lienthong::bench::ReadFile;

int main(int argc, char** argv) {
  CLI::App app{"lienthong-loadgen: load generator for the lienthong.v1 API"};
  std::string server = "127.0.0.1:8443", ca, cert, key, server_name;
  lienthong::bench::LoadOptions options;
  double duration_s = 10, deadline_s = 10;
  app.add_option("--server", server, "host:port of the gateway");
  app.add_option("--ca", ca, "CA bundle for the server certificate")->required();
  app.add_option("--cert", cert, "client certificate (PEM)")->required();
  app.add_option("--key", key, "client key (PEM)")->required();
  app.add_option("--server-name", server_name, "TLS name to check");
  app.add_option("--method", options.method, "lookup or verify")
      ->check(CLI::IsMember({"lookup", "verify"}));
  app.add_option("--concurrency,-c", options.concurrency,
                 "calls in flight (closed loop)");
  app.add_option("--rate", options.rate, "calls per second (open loop)");
  app.add_option("--total,-n", options.total_calls, "stop after this many calls");
  app.add_option("--duration", duration_s, "stop after this many seconds");
  app.add_option("--deadline", deadline_s, "per-call deadline, seconds");
  app.add_option("--warmup", options.warmup_calls, "unmeasured calls first");
  app.footer("Prints one line: calls, ok, errors by code, calls_per_s, "
             "latency percentiles (µs) and client CPU per call.");
  CLI11_PARSE(app, argc, argv);
  // As in lienthong-gateway: no lock-order checks (Debian's Abseil has them
  // on), so that the load generator leaves the cores to what it measures.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  options.duration = absl::Seconds(duration_s);
  options.deadline = absl::Seconds(deadline_s);

  grpc::SslCredentialsOptions ssl;
  if (!ReadFile(ca, &ssl.pem_root_certs) ||
      !ReadFile(cert, &ssl.pem_cert_chain) ||
      !ReadFile(key, &ssl.pem_private_key)) {
    std::cerr << "lienthong-loadgen: cannot read --ca, --cert or --key\n";
    return 1;
  }
  grpc::ChannelArguments args;
  if (!server_name.empty()) args.SetSslTargetNameOverride(server_name);
  args.SetInt("grpc.use_local_subchannel_pool", 1);
  auto channel = grpc::CreateCustomChannel(server, grpc::SslCredentials(ssl), args);
  lienthong::bench::LoadResult result = lienthong::bench::RunLoad(channel, options);
  std::cout << result.Summary() << std::endl;
  return result.ok == result.calls ? 0 : 3;
}
