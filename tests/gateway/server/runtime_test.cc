// BuildRuntime on a reload: what it keeps from the runtime it replaces.
#include "gateway/server/runtime.h"

#include <memory>

#include "adapters/registry.h"
#include "gateway/resilience/timer.h"
#include "gmock/gmock.h"
#include "google/protobuf/empty.pb.h"
#include "gtest/gtest.h"
#include "lienthong/config/v1/config.pb.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::server {
namespace {

using ::lienthong::testing::IsOk;

lienthong::config::v1::GatewayConfig WithRate(double per_second) {
  lienthong::config::v1::GatewayConfig config;
  auto* client = config.add_clients();
  client->set_id("spiffe://lienthong.local/dossier-system");
  client->mutable_rate_limit()->set_requests_per_second(per_second);
  client->mutable_rate_limit()->set_burst(100);
  return config;
}

// A national system that offers nothing: enough for its guard.
class NothingFactory final
    : public adapters::FactoryBase<google::protobuf::Empty> {
 public:
  absl::string_view name() const override { return "nothing"; }

 protected:
  absl::StatusOr<std::unique_ptr<adapters::Adapter>> CreateTyped(
      const google::protobuf::Empty&,
      const adapters::AdapterContext&) const override {
    return std::make_unique<adapters::Adapter>();
  }
};

// What BuildRuntime builds with: a registry of the "nothing" adapter, a
// timer queue.
class RuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(registry_.Register(std::make_unique<NothingFactory>()), IsOk());
    resources.registry = &registry_;
    resources.timers = &timers_;
  }
  void TearDown() override { timers_.Shutdown(); }

  RuntimeResources resources;

 private:
  adapters::AdapterRegistry registry_;
  resilience::TimerQueue timers_;
};

// A client's rate limiter is kept when its limits are unchanged and rebuilt
// when they change, however little: 1234567 and 1234568 requests a second
// read the same at six significant digits, which is how they were compared.
TEST_F(RuntimeTest, ARateLimitChangeIsAppliedHoweverSmall) {
  auto first = BuildRuntime(WithRate(1234567), resources);
  ASSERT_THAT(first, IsOk());
  auto same = BuildRuntime(WithRate(1234567), resources, first->get());
  ASSERT_THAT(same, IsOk());
  EXPECT_EQ((*same)->rate_limiter, (*first)->rate_limiter);
  auto changed = BuildRuntime(WithRate(1234568), resources, first->get());
  ASSERT_THAT(changed, IsOk());
  EXPECT_NE((*changed)->rate_limiter, (*first)->rate_limiter);
}

lienthong::config::v1::GatewayConfig WithRetryBudget(double ratio) {
  lienthong::config::v1::GatewayConfig config;
  auto* instance = config.add_adapters();
  instance->set_name("population");
  instance->set_type("nothing");
  instance->mutable_config()->PackFrom(google::protobuf::Empty());
  config.mutable_resilience()->set_retry_budget_ratio(ratio);
  return config;
}

// A system's guard (breaker, in-flight cap, retry budget) is kept when its
// settings are unchanged and rebuilt when the retry budget's ratio changes,
// however little (six significant digits hid it, as they hid rates).
TEST_F(RuntimeTest, ARetryBudgetChangeIsAppliedHoweverSmall) {
  auto first = BuildRuntime(WithRetryBudget(0.1234567), resources);
  ASSERT_THAT(first, IsOk());
  auto same = BuildRuntime(WithRetryBudget(0.1234567), resources, first->get());
  ASSERT_THAT(same, IsOk());
  EXPECT_EQ((*same)->guards.at("population"),
            (*first)->guards.at("population"));
  auto changed =
      BuildRuntime(WithRetryBudget(0.1234568), resources, first->get());
  ASSERT_THAT(changed, IsOk());
  EXPECT_NE((*changed)->guards.at("population"),
            (*first)->guards.at("population"));
}

}  // namespace
}  // namespace lienthong::server
