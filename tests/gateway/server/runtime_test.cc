// BuildRuntime on a reload: what it keeps from the runtime it replaces.
#include "gateway/server/runtime.h"

#include <memory>

#include "adapters/registry.h"
#include "gateway/resilience/timer.h"
#include "gmock/gmock.h"
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

// A client's rate limiter is kept when its limits are unchanged and rebuilt
// when they change, however little: 1234567 and 1234568 requests a second
// read the same at six significant digits, which is how they were compared.
TEST(RuntimeTest, ARateLimitChangeIsAppliedHoweverSmall) {
  adapters::AdapterRegistry registry;
  resilience::TimerQueue timers;
  RuntimeResources resources;
  resources.registry = &registry;
  resources.timers = &timers;
  auto first = BuildRuntime(WithRate(1234567), resources);
  ASSERT_THAT(first, IsOk());
  auto same = BuildRuntime(WithRate(1234567), resources, first->get());
  ASSERT_THAT(same, IsOk());
  EXPECT_EQ((*same)->rate_limiter, (*first)->rate_limiter);
  auto changed = BuildRuntime(WithRate(1234568), resources, first->get());
  ASSERT_THAT(changed, IsOk());
  EXPECT_NE((*changed)->rate_limiter, (*first)->rate_limiter);
}

}  // namespace
}  // namespace lienthong::server
