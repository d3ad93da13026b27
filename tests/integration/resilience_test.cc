// Resilience and operations over real mutual TLS on loopback, driven by the
// simulator's fault knobs: retries within a budget, the circuit breaker,
// hanging upstreams, per-client rate limits, metrics.
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lienthong/v1/identity.grpc.pb.h"
#include "lienthong/v1/population.grpc.pb.h"
#include "tests/bench/load_generator.h"
#include "tests/gateway/metrics/prometheus_parser.h"
#include "tests/integration/gateway_env.h"
#include "tests/integration/gateway_process.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/test_officer.h"

namespace lienthong::testing {
namespace {

using lienthong::config::v1::GatewayConfig;
using ::testing::HasSubstr;

grpc::Status Lookup(GatewayEnv& env, const std::string& client,
                    absl::Duration deadline = absl::Seconds(5)) {
  auto stub = lienthong::v1::PopulationService::NewStub(env.Channel(client));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  lienthong::v1::LookupCitizenRequest request;
  request.set_citizen_id("033085012345");
  request.set_purpose("1.001193");
  *request.mutable_officer() = TestOfficer();
  request.mutable_fields()->add_paths("name");
  lienthong::v1::Citizen citizen;
  return stub->LookupCitizen(&context, request, &citizen);
}

lienthong::config::v1::AdapterInstance* Adapter(GatewayConfig& config,
                                                const std::string& name) {
  for (auto& a : *config.mutable_adapters()) {
    if (a.name() == name) return &a;
  }
  return nullptr;
}

lienthong::config::v1::Route* Route(GatewayConfig& config,
                                    const std::string& method) {
  for (auto& r : *config.mutable_routes()) {
    if (r.method() == method) return &r;
  }
  return nullptr;
}

constexpr char kLookup[] = "lienthong.v1.PopulationService/LookupCitizen";

TEST(ResilienceTest, RetriesCarryReadsThroughThirtyPercent503sWithinTheBudget) {
  EnvOptions options;
  options.customize = [](GatewayConfig& config) {
    // With 30% of answers failing, each call needs about 0.43 retries on
    // average, more than the default 20% budget allows: this route is given
    // a 50% budget and enough attempts for 99.9%.
    config.mutable_resilience()->set_retry_budget_ratio(0.5);
    auto* retry = Route(config, kLookup)->mutable_retry();
    retry->set_max_attempts(8);
    retry->set_initial_backoff_ms(5);
    retry->set_max_backoff_ms(100);
  };
  auto env = GatewayEnv::Start(options);
  ASSERT_TRUE(env.ok()) << env.status();
  sim::Knobs flaky;
  flaky.error_rate = 0.3;
  flaky.error_kind = sim::ErrorKind::kHttp503;
  ASSERT_TRUE((*env)->sim().SetKnobs(sim::System::kPopulation, flaky).ok());

  bench::LoadOptions load;
  load.concurrency = 16;
  load.total_calls = 2000;
  load.deadline = absl::Seconds(5);
  load.duration = absl::Minutes(5);
  bench::LoadResult result =
      bench::RunLoad((*env)->Channel("dossier-system"), load);
  int64_t upstream = (*env)->sim().Stats().of(sim::System::kPopulation).received;
  int64_t retries = upstream - result.calls;
  std::printf("30%% 503s: %s; upstream requests %lld, retries %lld (%.1f%% of calls)\n",
              result.Summary().c_str(), static_cast<long long>(upstream),
              static_cast<long long>(retries), 100.0 * retries / result.calls);
  EXPECT_EQ(result.calls, 2000);
  EXPECT_GE(result.ok, 1998) << result.Summary();  // at least 99.9%
  // Within the budget: 50% of requests, plus its floor of 10 retries/s.
  EXPECT_LE(retries, 0.5 * result.calls + 10 * (result.seconds + 10));
}

TEST(ResilienceTest, BreakerOpensFailsFastAndClosesWhenTheSystemReturns) {
  EnvOptions options;
  options.customize = [](GatewayConfig& config) {
    auto* breaker = Adapter(config, "population")->mutable_breaker();
    breaker->set_consecutive_failures(5);
    // Everything checked "while open" below (22 refused calls, each waiting
    // for its audit record's fsync) must fit in the open period, also on a
    // loaded CI machine; the test then waits it out once.
    breaker->set_open_seconds(10);
    breaker->set_half_open_probes(1);
    Route(config, kLookup)->mutable_retry()->set_max_attempts(1);
  };
  auto env = GatewayEnv::Start(options);
  ASSERT_TRUE(env.ok()) << env.status();
  sim::Knobs down;
  down.down = true;
  ASSERT_TRUE((*env)->sim().SetKnobs(sim::System::kPopulation, down).ok());
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Lookup(**env, "dossier-system").error_code(), grpc::UNAVAILABLE);
  }
  EXPECT_THAT((*env)->gateway().Ready().message(), HasSubstr("population"));
  int64_t received = (*env)->sim().Stats().of(sim::System::kPopulation).received;
  // Open: calls fail fast, naming the system, without reaching it. (The
  // channel is connected first, so the TLS handshake is not timed.)
  auto stub = lienthong::v1::PopulationService::NewStub(
      (*env)->Channel("dossier-system"));
  {
    grpc::ClientContext context;
    lienthong::v1::LookupCitizenRequest request;
    lienthong::v1::Citizen citizen;
    request.set_citizen_id("033085012345");
    request.set_purpose("1.001193");
    *request.mutable_officer() = TestOfficer();
    EXPECT_EQ(stub->LookupCitizen(&context, request, &citizen).error_code(),
              grpc::UNAVAILABLE);
  }
  std::vector<absl::Duration> took;
  for (int i = 0; i < 21; ++i) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    lienthong::v1::LookupCitizenRequest request;
    request.set_citizen_id("033085012345");
    request.set_purpose("1.001193");
    *request.mutable_officer() = TestOfficer();
    lienthong::v1::Citizen citizen;
    absl::Time start = absl::Now();
    grpc::Status status = stub->LookupCitizen(&context, request, &citizen);
    took.push_back(absl::Now() - start);
    EXPECT_EQ(status.error_code(), grpc::UNAVAILABLE);
    EXPECT_THAT(status.error_message(), HasSubstr("population"));
  }
  std::sort(took.begin(), took.end());
  std::printf("open breaker: refused calls took median %.2f ms, slowest %.2f ms "
              "(client to gateway and back, audited)\n",
              absl::ToDoubleMilliseconds(took[10]),
              absl::ToDoubleMilliseconds(took.back()));
  // Failing fast means not calling the system: none of them reached it.
  // (The time they took is printed above, not asserted: tests do not
  // assert timings.)
  EXPECT_EQ((*env)->sim().Stats().of(sim::System::kPopulation).received, received);

  // The system comes back: after the open period a probe succeeds and calls
  // flow again, with no restart.
  ASSERT_TRUE((*env)->sim().SetKnobs(sim::System::kPopulation, {}).ok());
  absl::Time give_up = absl::Now() + absl::Seconds(30);
  grpc::Status status;
  while (absl::Now() < give_up) {
    status = Lookup(**env, "dossier-system");
    if (status.ok()) break;
    absl::SleepFor(absl::Milliseconds(100));  // waiting out the open period
  }
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(Lookup(**env, "dossier-system").ok());
  EXPECT_TRUE((*env)->gateway().Ready().ok());
}

// The gateway runs as its own process here, so that its thread count is not
// mixed with the test's client threads.
TEST(ResilienceTest, AHangingSystemGivesDeadlineExceededOnTimeAndNoThreadsLeak) {
  auto sim = StartSimProcess({"--hang", "--knob-systems", "population"});
  ASSERT_TRUE(sim.ok()) << sim.status();
  // Every call here times out; keep the breaker closed so that each one
  // really waits on the hanging system.
  std::string yaml = absl::StrReplaceAll(
      GatewayYaml(sim->port),
      {{"      identity_service_code: \"033\"\n",
        "      identity_service_code: \"033\"\n    breaker:\n"
        "      consecutive_failures: 100000\n      min_requests: 100000\n"}});
  const std::string dir = NewTestDir("hang");
  auto gateway = StartGatewayProcess(dir + "/hang-gateway.yaml", yaml,
                                     dir + "/hang.log");
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  pid_t pid = gateway->process.pid();
  auto channel = ClientChannel(gateway->port, "dossier-system");
  // 50 calls at once, each abandoned by the hanging system after 500 ms.
  // Each must end with DEADLINE_EXCEEDED, on time: within 3 s, not 600 ms,
  // as the 50 client threads and the gateway share a loaded CI machine's
  // two cores, where deadline timers and woken threads run late.
  auto round = [&](std::atomic<int>& peak) {
    std::vector<std::thread> callers;
    std::atomic<int> on_time{0}, exceeded{0};
    for (int i = 0; i < 50; ++i) {
      callers.emplace_back([&] {
        auto stub = lienthong::v1::PopulationService::NewStub(channel);
        grpc::ClientContext context;
        context.set_deadline(
            absl::ToChronoTime(absl::Now() + absl::Milliseconds(500)));
        lienthong::v1::LookupCitizenRequest request;
        request.set_citizen_id("033085012345");
        request.set_purpose("1.001193");
        *request.mutable_officer() = TestOfficer();
        lienthong::v1::Citizen citizen;
        absl::Time start = absl::Now();
        grpc::Status status = stub->LookupCitizen(&context, request, &citizen);
        if (status.error_code() == grpc::DEADLINE_EXCEEDED) ++exceeded;
        if (absl::Now() - start < absl::Seconds(3)) ++on_time;
        peak = std::max(peak.load(), ThreadCount(pid));
      });
    }
    for (auto& t : callers) t.join();
    EXPECT_EQ(exceeded.load(), 50);
    EXPECT_EQ(on_time.load(), 50);
  };
  auto settle = [&](int target) {
    absl::Time give_up = absl::Now() + absl::Seconds(5);
    while (ThreadCount(pid) > target && absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(50));  // gRPC retires idle threads lazily
    }
    return ThreadCount(pid);
  };
  // The first rounds open connections and let gRPC's pools reach their
  // working size; the last must leave the gateway with the threads it had
  // before it.
  std::atomic<int> peak{0};
  round(peak);
  round(peak);
  int threads_before = settle(0);
  peak = threads_before;
  round(peak);
  int threads_after = settle(threads_before);
  std::printf("hang: gateway threads before %d, peak %d with 50 waiting calls, "
              "after %d\n", threads_before, peak.load(), threads_after);
  // 50 waiting calls must not cost threads. gRPC's pools may keep one or
  // two pollers more than before; a thread per call would be 50. At the
  // peak, gRPC's thread pool starts a thread whenever work arrives while all
  // of its threads are busy, which a loaded machine (threads descheduled
  // mid-callback) makes more frequent than the calls alone would: the bound
  // there is 25, half of a thread per call.
  EXPECT_LE(threads_after, threads_before + 2);
  EXPECT_LT(peak.load(), threads_before + 25);
}

TEST(ResilienceTest, AClientOverItsRateIsLimitedAndOthersAreNot) {
  EnvOptions options;
  options.customize = [](GatewayConfig& config) {
    for (auto& client : *config.mutable_clients()) {
      if (client.display_name() == "dossier-system") {
        // A burst of 3 refilled at one call per 100 s: however slowly the
        // calls below run, the bucket gains no whole token during the test.
        client.mutable_rate_limit()->set_requests_per_second(0.01);
        client.mutable_rate_limit()->set_burst(3);
      }
    }
  };
  auto env = GatewayEnv::Start(options);
  ASSERT_TRUE(env.ok()) << env.status();
  int limited = 0;
  for (int i = 0; i < 10; ++i) {
    grpc::Status status = Lookup(**env, "dossier-system");
    if (status.error_code() == grpc::RESOURCE_EXHAUSTED) {
      ++limited;
      EXPECT_THAT(status.error_message(), HasSubstr("retry after"));
    }
  }
  EXPECT_EQ(limited, 7);  // all but the burst
  // The citizen portal has its own (unlimited) allowance.
  auto stub = lienthong::v1::IdentityService::NewStub(
      (*env)->Channel("citizen-portal"));
  for (int i = 0; i < 10; ++i) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    lienthong::v1::VerifyIdentityRequest request;
    request.set_citizen_id("033085012345");
    request.set_full_name("Lê Văn Tám");
    *request.mutable_officer() = TestOfficer();
    lienthong::v1::VerifyIdentityResponse response;
    EXPECT_TRUE(stub->VerifyIdentity(&context, request, &response).ok());
  }
  auto families = metrics::testing::ParsePrometheusText(
      (*env)->gateway().metrics_registry().Render());
  ASSERT_TRUE(families.ok()) << families.status();
  const auto* sample = metrics::testing::FindSample(
      *families, "lienthong_rate_limited_total",
      {{"client", ClientId("dossier-system")}});
  ASSERT_NE(sample, nullptr);
  EXPECT_EQ(sample->value, limited);
}

TEST(MetricsTest, ExpositionParsesStrictlyAndCountsCalls) {
  auto env = GatewayEnv::Start({});
  ASSERT_TRUE(env.ok()) << env.status();
  ASSERT_TRUE(Lookup(**env, "dossier-system").ok());
  EXPECT_EQ(Lookup(**env, "no-rights").error_code(), grpc::PERMISSION_DENIED);
  std::string text = (*env)->gateway().metrics_registry().Render();
  auto families = metrics::testing::ParsePrometheusText(text);
  ASSERT_TRUE(families.ok()) << families.status() << "\n" << text;
  const auto* ok = metrics::testing::FindSample(
      *families, "lienthong_calls_total",
      {{"method", kLookup},
       {"client", ClientId("dossier-system")},
       {"system", "population"},
       {"code", "OK"}});
  ASSERT_NE(ok, nullptr) << text;
  EXPECT_EQ(ok->value, 1);
  const auto* breaker = metrics::testing::FindSample(
      *families, "lienthong_circuit_breaker_state", {{"system", "population"}});
  ASSERT_NE(breaker, nullptr);
  EXPECT_EQ(breaker->value, 0);
  EXPECT_THAT(text, HasSubstr("lienthong_certificate_expiry_days"));
  EXPECT_THAT(text, HasSubstr("lienthong_call_duration_seconds_bucket"));
  // No citizen ID appears in the metrics.
  EXPECT_THAT(text, ::testing::Not(HasSubstr("033085012345")));
}

}  // namespace
}  // namespace lienthong::testing
