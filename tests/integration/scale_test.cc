// 1,000 concurrent LookupCitizen calls through the real gateway binary to a
// simulator that answers each after 1 s: all must succeed, and the
// gateway's thread count and memory are printed (threads must not grow with
// the calls).
#include <atomic>
#include <csignal>
#include <cstdio>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/bench/load_generator.h"
#include "tests/integration/gateway_process.h"

namespace lienthong::testing {
namespace {

TEST(ScaleTest, ThousandConcurrentSlowLookupsAllSucceedOnAFewThreads) {
  auto sim = StartSimProcess({"--latency-ms", "1000"});
  ASSERT_TRUE(sim.ok()) << sim.status();
  auto gateway = StartGatewayProcess(
      absl::StrCat(::testing::TempDir(), "/scale-gateway.yaml"),
      GatewayYaml(sim->port), absl::StrCat(::testing::TempDir(), "/scale.log"));
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
  options.concurrency = 1000;
  options.total_calls = 1000;
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
  EXPECT_EQ(result.calls, 1000);
  EXPECT_EQ(result.ok, 1000) << result.Summary();
  // Every call took the simulator's full second: they were truly concurrent.
  EXPECT_GE(result.p50_us, 1e6);
  // Calls in flight must not cost threads.
  EXPECT_LT(threads_peak.load(), 64);
  gateway->process.Stop(SIGTERM);
  sim->process.Stop(SIGTERM);
}

}  // namespace
}  // namespace lienthong::testing
