// Graceful drain of the real gateway binary: on SIGTERM lienthong-gateway
// closes its listener, lets the calls in flight finish, and exits 0 well
// within its grace period (kDrainGrace, 15 s, in gateway/server/main.cc).
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "lienthong/v1/population.grpc.pb.h"
#include "tests/bench/load_generator.h"
#include "tests/gateway/metrics/prometheus_parser.h"
#include "tests/integration/gateway_env.h"  // NewTestDir
#include "tests/integration/gateway_process.h"
#include "tests/testing/test_officer.h"

namespace lienthong::testing {
namespace {

constexpr int kCalls = 50;
// How long the simulator holds each call: long enough that the first calls
// are still in flight when the last has started, SIGTERM was sent and the
// listener seen closed, also on a loaded CI machine; short enough that they
// all end well within the 10 s the gateway is given to exit.
constexpr int kSimLatencyMs = 4000;

// The gateway's lienthong_upstream_in_flight gauge for the population
// system, read from its admin endpoint, or -1 when it cannot be read.
double UpstreamInFlight(int admin_port) {
  auto families = metrics::testing::ParsePrometheusText(
      HttpGet(absl::StrCat("http://127.0.0.1:", admin_port, "/metrics")));
  if (!families.ok()) return -1;
  const metrics::testing::ParsedSample* sample = metrics::testing::FindSample(
      *families, "lienthong_upstream_in_flight", {{"system", "population"}});
  return sample == nullptr ? -1 : sample->value;
}

// Whether a TCP connection to 127.0.0.1:`port` is refused, i.e. nothing
// listens there any more.
bool ConnectionRefused(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool refused = connect(fd, reinterpret_cast<sockaddr*>(&address),
                         sizeof(address)) != 0 &&
                 errno == ECONNREFUSED;
  close(fd);
  return refused;
}

// Polls `condition` until it holds; false if `timeout` passes first.
bool WaitUntil(const std::function<bool()>& condition, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));  // polling period, not a wait
  }
  return true;
}

TEST(DrainTest, SigtermFinishesCallsInFlightRefusesNewOnesAndExitsZero) {
  auto sim = StartSimProcess({"--latency-ms", absl::StrCat(kSimLatencyMs)});
  ASSERT_TRUE(sim.ok()) << sim.status();
  const std::string dir = NewTestDir("drain");
  std::string log = dir + "/drain.log";
  auto gateway = StartGatewayProcess(dir + "/drain-gateway.yaml",
      GatewayYaml(sim->port), log);
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  ASSERT_GT(gateway->admin_port, 0);

  bench::LoadOptions options;
  options.concurrency = kCalls;
  options.total_calls = kCalls;
  options.deadline = absl::Seconds(30);
  bench::LoadResult result;
  std::thread load([&] {
    result =
        bench::RunLoad(ClientChannel(gateway->port, "dossier-system"), options);
  });

  // Every call is in flight once the gateway counts all of them waiting on
  // the simulator, which holds each for kSimLatencyMs.
  bool all_in_flight =
      WaitUntil([&] { return UpstreamInFlight(gateway->admin_port) == kCalls; },
                absl::Seconds(20));
  if (!all_in_flight) {
    load.join();
    FAIL() << "the calls never were all in flight: " << result.Summary();
  }
  absl::Time sigterm_at = absl::Now();
  EXPECT_EQ(kill(gateway->process.pid(), SIGTERM), 0);

  // The drain has begun once the listener is closed. The calls must all
  // still be in flight then, or this test would not be testing the drain.
  bool listener_closed = WaitUntil(
      [&] { return ConnectionRefused(gateway->port); }, absl::Seconds(10));
  double in_flight_while_draining = UpstreamInFlight(gateway->admin_port);
  EXPECT_TRUE(listener_closed);
  EXPECT_EQ(in_flight_while_draining, kCalls);

  // A new call, on a new connection, fails fast with UNAVAILABLE: nothing
  // listens ("failed to connect to all addresses; ... Connection refused").
  auto stub = lienthong::v1::PopulationService::NewStub(
      ClientChannel(gateway->port, "dossier-system"));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  lienthong::v1::LookupCitizenRequest request;
  request.set_citizen_id(bench::SyntheticCitizenId(kCalls));
  request.set_purpose("1.001193");
  *request.mutable_officer() = TestOfficer();
  request.mutable_fields()->add_paths("name");
  lienthong::v1::Citizen citizen;
  grpc::Status new_call = stub->LookupCitizen(&context, request, &citizen);
  EXPECT_EQ(new_call.error_code(), grpc::StatusCode::UNAVAILABLE)
      << new_call.error_message();

  // The calls in flight all finish, answered by the simulator.
  load.join();
  EXPECT_EQ(result.calls, kCalls);
  EXPECT_EQ(result.ok, kCalls) << result.Summary();
  EXPECT_GE(result.p50_us, kSimLatencyMs * 1e3) << result.Summary();

  // Then the gateway exits on its own, cleanly, within 10 s of SIGTERM, far
  // inside its 15 s grace: a drain that waited out the grace (or hung) is
  // killed here and fails. Signal 0 sends nothing: Stop only waits.
  int status =
      gateway->process.Stop(0, sigterm_at + absl::Seconds(10) - absl::Now());
  absl::Duration drain = absl::Now() - sigterm_at;
  EXPECT_TRUE(WIFEXITED(status)) << "wait status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  std::printf(
      "drain: %s; new call after SIGTERM: code %d \"%s\"; exited %.2f s "
      "after SIGTERM\n",
      result.Summary().c_str(), static_cast<int>(new_call.error_code()),
      new_call.error_message().c_str(), absl::ToDoubleSeconds(drain));
  sim->process.Stop(SIGTERM);
}

}  // namespace
}  // namespace lienthong::testing
