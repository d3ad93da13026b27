// The scale run of issue 6: 5,000 concurrent LookupCitizen calls through the
// real gateway binary to a simulator that answers each after 1 s. All must
// succeed; the gateway must stay under 64 threads and 512 MiB (threads and
// memory must not grow with the calls in flight).
#include <atomic>
#include <csignal>
#include <cstdio>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "tests/bench/load_generator.h"
#include "tests/integration/gateway_env.h"  // NewTestDir
#include "tests/integration/gateway_process.h"

namespace lienthong::testing {
namespace {

constexpr int kCalls = 5000;

TEST(ScaleTest, FiveThousandConcurrentSlowLookupsAllSucceedOnAFewThreads) {
  auto sim = StartSimProcess({"--latency-ms", "1000"});
  ASSERT_TRUE(sim.ok()) << sim.status();
  // All 5,000 calls on the one client connection and to the one national
  // system: above the defaults of 4,096 streams per connection and 2,000
  // calls in flight per system, as an operator sizing for this load would.
  std::string yaml = absl::StrReplaceAll(
      GatewayYaml(sim->port),
      {{"  address: 127.0.0.1:0\n  tls:",
        "  address: 127.0.0.1:0\n  limits:\n    max_concurrent_streams: 8192\n"
        "  tls:"},
       {"    type: c06-population-soap\n",
        "    type: c06-population-soap\n    max_in_flight: 8000\n"}});
  // The connections to the simulator stay at the default cap of 1,024: the
  // rest of the calls wait in the gateway for one to come free.
  const std::string dir = NewTestDir("scale");
  auto gateway = StartGatewayProcess(dir + "/scale-gateway.yaml", yaml,
                                     dir + "/scale.log");
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  pid_t pid = gateway->process.pid();
  int threads_idle = ThreadCount(pid);

  // Sample the gateway's threads while the calls are in flight.
  std::atomic<bool> running{true};
  std::atomic<int> threads_peak{threads_idle};
  std::thread sampler([&] {
    while (running.load()) {
      threads_peak = std::max(threads_peak.load(), ThreadCount(pid));
      absl::SleepFor(absl::Milliseconds(50));  // sampling period, not a wait
    }
  });
  bench::LoadOptions options;
  options.concurrency = kCalls;
  options.total_calls = kCalls;
  options.deadline = absl::Seconds(30);
  bench::LoadResult result =
      bench::RunLoad(ClientChannel(gateway->port, "dossier-system"), options);
  running = false;
  sampler.join();

  std::printf(
      "scale: %lld calls, %lld ok in %.2f s; p50 %.0f ms, p99 %.0f ms; "
      "gateway threads idle %d, peak %d; gateway peak RSS %ld KiB\n",
      static_cast<long long>(result.calls), static_cast<long long>(result.ok),
      result.seconds, result.p50_us / 1000, result.p99_us / 1000, threads_idle,
      threads_peak.load(), PeakRssKib(pid));
  EXPECT_EQ(result.calls, kCalls);
  EXPECT_EQ(result.ok, kCalls) << result.Summary();
  // Every call took at least the simulator's full second.
  EXPECT_GE(result.p50_us, 1e6);
  // Calls in flight must not cost threads.
  EXPECT_LT(threads_peak.load(), 64);
  EXPECT_LT(PeakRssKib(pid), 512 * 1024);
  gateway->process.Stop(SIGTERM);
  sim->process.Stop(SIGTERM);
}

}  // namespace
}  // namespace lienthong::testing
