// 1,000 concurrent LookupCitizen calls through the real gateway binary to a
// simulator that answers each after 1 s: all must succeed, and the
// gateway's thread count is printed (it must not grow with the calls).
#include <cstdio>
#include <atomic>
#include <csignal>
#include <fstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/bench/load_generator.h"
#include "tests/testing/subprocess.h"

namespace lienthong::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The port at the end of a "... listening on ...:PORT" or "... port PORT"
// line.
int PortFromLine(const std::string& line) {
  size_t end = line.find_last_of("0123456789");
  if (end == std::string::npos) return 0;
  size_t start = line.find_last_not_of("0123456789", end) + 1;
  int port = 0;
  if (!absl::SimpleAtoi(line.substr(start, end - start + 1), &port)) return 0;
  return port;
}

// The gateway's config for the simulator at `sim_port`, listening on a free
// port.
std::string GatewayYaml(int sim_port) {
  return absl::StrReplaceAll(R"(node_name: scale-test
listener:
  address: 127.0.0.1:0
  tls:
    cert_file: CERTS/gateway.pem
    key_file: CERTS/gateway.key
    client_ca_file: CERTS/ca.pem
adapters:
  - name: population
    type: c06-population-soap
    config:
      upstream:
        base_url: https://127.0.0.1:SIMPORT
        ca_file: CERTS/ca.pem
      path: /c06/soap
      xroad_client: VN/GOV/000.00.00.H31/LIENTHONG
      api_key: dev-population-key
      username: lienthong-dev
      secret: dev-population-secret
      unit_code: 000.00.00.H31
      officer_code: SCALE-TEST
routes:
  - method: lienthong.v1.PopulationService/LookupCitizen
    adapter: population
    timeout_ms: 30000
clients:
  - id: spiffe://lienthong.local/dossier-system
    methods: [lienthong.v1.PopulationService/LookupCitizen]
    grants:
      - purposes: ["*"]
        fields: [name, birth_date]
logging:
  level: warning
)",
                             {{"CERTS", BinaryPath("test-certs")},
                              {"SIMPORT", absl::StrCat(sim_port)}});
}

TEST(ScaleTest, ThousandConcurrentSlowLookupsAllSucceedOnAFewThreads) {
  auto sim = Subprocess::Start({BinaryPath("tests/national_sim/lienthong-sim"),
                                "--listen", "127.0.0.1:0", "--cert",
                                TestCert("sim.pem"), "--key", TestCert("sim.key"),
                                "--latency-ms", "1000"});
  ASSERT_TRUE(sim.ok()) << sim.status();
  auto sim_line = sim->WaitForLine("listening on", absl::Seconds(20));
  ASSERT_TRUE(sim_line.ok()) << sim_line.status();
  int sim_port = PortFromLine(*sim_line);
  ASSERT_GT(sim_port, 0) << *sim_line;

  std::string config_path =
      absl::StrCat(::testing::TempDir(), "/scale-gateway.yaml");
  std::ofstream(config_path) << GatewayYaml(sim_port);
  auto gateway = Subprocess::Start(
      {BinaryPath("gateway/server/lienthong-gateway"), "--config", config_path});
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  auto gateway_line = gateway->WaitForLine("listening on port", absl::Seconds(20));
  ASSERT_TRUE(gateway_line.ok()) << gateway_line.status();
  int gateway_port = PortFromLine(*gateway_line);
  ASSERT_GT(gateway_port, 0) << *gateway_line;
  int threads_idle = ThreadCount(gateway->pid());

  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ReadFile(TestCert("ca.pem"));
  ssl.pem_cert_chain = ReadFile(TestCert("dossier-system.pem"));
  ssl.pem_private_key = ReadFile(TestCert("dossier-system.key"));
  auto channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", gateway_port),
                          grpc::SslCredentials(ssl));

  // Sample the gateway's threads while the calls are in flight.
  std::atomic<bool> running{true};
  std::atomic<int> threads_peak{threads_idle};
  std::thread sampler([&] {
    while (running.load()) {
      threads_peak = std::max(threads_peak.load(), ThreadCount(gateway->pid()));
      absl::SleepFor(absl::Milliseconds(50));  // sampling period, not a wait
    }
  });
  bench::LoadOptions options;
  options.concurrency = 1000;
  options.total_calls = 1000;
  options.deadline = absl::Seconds(30);
  bench::LoadResult result = bench::RunLoad(channel, options);
  running = false;
  sampler.join();

  std::printf(
      "scale: %lld calls, %lld ok in %.2f s; p50 %.0f ms, p99 %.0f ms; "
      "gateway threads idle %d, peak %d; gateway peak RSS %ld KiB\n",
      static_cast<long long>(result.calls), static_cast<long long>(result.ok),
      result.seconds, result.p50_us / 1000, result.p99_us / 1000, threads_idle,
      threads_peak.load(), PeakRssKib(gateway->pid()));
  EXPECT_EQ(result.calls, 1000);
  EXPECT_EQ(result.ok, 1000) << result.Summary();
  // Every call took the simulator's full second: they were truly concurrent.
  EXPECT_GE(result.p50_us, 1e6);
  // Calls in flight must not cost threads.
  EXPECT_LT(threads_peak.load(), 64);
  gateway->Stop(SIGTERM);
  sim->Stop(SIGTERM);
}

}  // namespace
}  // namespace lienthong::testing
