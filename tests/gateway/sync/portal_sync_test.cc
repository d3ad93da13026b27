// PortalSync::Create: what the config must say for portal synchronisation
// to start.
#include "gateway/sync/portal_sync.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "adapters/c06_population/c06_population_config.pb.h"
#include "adapters/common/http/http_client.h"
#include "adapters/dvcqg_portal/dvcqg_portal_config.pb.h"
#include "adapters/registry.h"
#include "gateway/config/config_loader.h"
#include "gateway/metrics/registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lienthong/config/v1/config.pb.h"
#include "tests/gateway/sync/dossier_fixtures.h"
#include "tests/testing/scratch_dir.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::sync {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::testing::HasSubstr;

class PortalSyncCreateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    adapters::RegisterBuiltinAdapters(registry_);
    auto http = adapters::CurlHttpClient::Create({});
    ASSERT_THAT(http, IsOk());
    http_ = *std::move(http);
    outbox_path_ = dir_ + "/outbox.db";

    lienthong::config::v1::AdapterInstance* portal = config_.add_adapters();
    portal->set_name("portal");
    portal->set_type("dvcqg-portal-rest");
    lienthong::adapters::dvcqg::DvcqgPortalRestConfig portal_config;
    portal_config.mutable_upstream()->set_base_url("https://127.0.0.1:1");
    portal_config.set_auth_endpoint("/auth");
    portal_config.set_integration_endpoint("/integration");
    portal_config.set_username("u");
    portal_config.set_password("p");
    portal_config.set_madonvi("000.00.00.H31");
    portal->mutable_config()->PackFrom(portal_config);

    lienthong::config::v1::AdapterInstance* population = config_.add_adapters();
    population->set_name("population");
    population->set_type("c06-population-soap");
    lienthong::adapters::c06::C06PopulationSoapConfig c06;
    c06.mutable_upstream()->set_base_url("https://127.0.0.1:1");
    c06.set_path("/c06/soap");
    c06.set_xroad_client("VN/GOV/X");
    c06.set_api_key("k");
    c06.set_username("u");
    c06.set_secret("s");
    c06.set_auth_url("https://c06.example/xacthuc");
    c06.set_integration_code("037");
    c06.set_identity_service_code("033");
    population->mutable_config()->PackFrom(c06);

    config_.mutable_portal_sync()->set_adapter("portal");
    config_.mutable_portal_sync()->set_outbox_file(outbox_path_);
  }

  adapters::AdapterRegistry registry_;
  std::unique_ptr<adapters::CurlHttpClient> http_;
  const ::lienthong::testing::ScratchDir scratch_{"portal-sync"};
  // In scratch_, made by what the test starts.
  const std::string dir_ = scratch_.File("sync");
  std::string outbox_path_;
  lienthong::config::v1::GatewayConfig config_;
};

TEST_F(PortalSyncCreateTest, StartsAndStops) {
  config_.mutable_portal_sync()->set_max_in_flight(4);
  auto sync = PortalSync::Create(config_, registry_, http_.get());
  ASSERT_THAT(sync, IsOk());
  EXPECT_NE((*sync)->service(), nullptr);
  (*sync)->Start([](const grpc::CallbackServerContext&, absl::string_view) {
    return absl::OkStatus();
  });
  EXPECT_THAT((*sync)->outbox().CheckIntegrity(), IsOk());
  (*sync)->Stop();
  (*sync)->Stop();  // idempotent
}

TEST_F(PortalSyncCreateTest, RefusesWhatCannotWork) {
  struct Case {
    const char* name;
    void (*spoil)(lienthong::config::v1::GatewayConfig&);
    const char* message;
  };
  const Case kCases[] = {
      {"no such adapter",
       [](auto& c) { c.mutable_portal_sync()->set_adapter("nope"); },
       "portal_sync.adapter: no adapter named 'nope'"},
      {"not a portal adapter",
       [](auto& c) { c.mutable_portal_sync()->set_adapter("population"); },
       "portal_sync.adapter: adapter 'population' (type c06-population-soap) "
       "cannot deliver to the portal"},
      {"bad adapter config",
       [](auto& c) {
         lienthong::adapters::dvcqg::DvcqgPortalRestConfig bad;
         c.mutable_adapters(0)->mutable_config()->PackFrom(bad);
       },
       "portal_sync.adapter: adapter 'portal': upstream.base_url"},
      {"bad code mapping",
       [](auto& c) {
         auto* m = c.mutable_portal_sync()->add_procedure_codes();
         m->set_local("1.001193.000.00.00.H31");
         m->set_national("1.001193.000.00.00.H31");
       },
       "portal_sync.procedure_codes[0].national"},
  };
  for (const Case& c : kCases) {
    lienthong::config::v1::GatewayConfig config = config_;
    c.spoil(config);
    EXPECT_THAT(
        PortalSync::Create(config, registry_, http_.get()),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)))
        << c.name;
  }
}

// With the outbox on PostgreSQL a delivery attempt ends within two thirds
// of the lease, before another replica can take the item over; on SQLite
// it keeps the worker's 10 s.
TEST_F(PortalSyncCreateTest, AttemptsEndBeforeTheirLeaseCanExpire) {
  {
    auto sync = PortalSync::Create(config_, registry_, http_.get());
    ASSERT_THAT(sync, IsOk());
    EXPECT_EQ((*sync)->worker().options().attempt_timeout, absl::Seconds(10));
  }
  // A database that is not there: the outbox opens not connected.
  ::setenv("LIENTHONG_PG_DSN",
           "host=127.0.0.1 port=1 dbname=none connect_timeout=1", 1);
  config_.mutable_portal_sync()->set_store(lienthong::config::v1::postgres);
  config_.mutable_portal_sync()->mutable_postgres()->set_lease_seconds(6);
  auto short_lease = PortalSync::Create(config_, registry_, http_.get());
  ASSERT_THAT(short_lease, IsOk());
  EXPECT_EQ((*short_lease)->worker().options().attempt_timeout,
            absl::Seconds(4));
  config_.mutable_portal_sync()->mutable_postgres()->set_lease_seconds(0);
  auto default_lease = PortalSync::Create(config_, registry_, http_.get());
  ::unsetenv("LIENTHONG_PG_DSN");
  ASSERT_THAT(default_lease, IsOk());
  EXPECT_EQ((*default_lease)->worker().options().attempt_timeout,
            absl::Seconds(10));
}

TEST_F(PortalSyncCreateTest, ExportsMetricsThatOutliveIt) {
  config_.mutable_portal_sync()->set_delivered_retention_hours(24);
  metrics::Registry registry;
  {
    auto sync = PortalSync::Create(config_, registry_, http_.get());
    ASSERT_THAT(sync, IsOk());
    (*sync)->ExportMetrics(registry);
    google::protobuf::RepeatedPtrField<lienthong::v1::DossierStatusUpdate>
        updates;
    *updates.Add() =
        testutil::NewDossierWithRegistration("000.00.01.H31-250715-00001");
    ASSERT_THAT((*sync)->outbox().PushDossierUpdates(updates), IsOk());
    // Not started: nothing is delivered, the registration and the step wait.
    const std::string text = registry.Render();
    EXPECT_THAT(text, HasSubstr("\nlienthong_portal_sync_outbox_depth 2\n"));
    EXPECT_THAT(text, HasSubstr("\nlienthong_portal_sync_dead_letters 0\n"));
    EXPECT_THAT(text, HasSubstr("# TYPE lienthong_portal_sync_delivered_total "
                                "counter\n"));
    EXPECT_THAT(text, HasSubstr("# TYPE "
                                "lienthong_portal_sync_delivery_failures_total "
                                "counter\n"));
    EXPECT_THAT(text, HasSubstr("\nlienthong_portal_sync_pruned_total 0\n"));
  }
  // The registry outlives the PortalSync (as in the daemon, the other way
  // round is fine too): its gauges read 0 instead of a closed outbox.
  EXPECT_THAT(registry.Render(),
              HasSubstr("\nlienthong_portal_sync_outbox_depth 0\n"));
}

TEST_F(PortalSyncCreateTest, OutboxKeyFromTheConfigOrMadeForDevelopment) {
  // None configured: a development key is made beside the outbox, and the
  // same is read at the next start.
  {
    auto sync = PortalSync::Create(config_, registry_, http_.get());
    ASSERT_THAT(sync, IsOk());
  }
  const std::string dev_key = dir_ + "/outbox.key";
  ASSERT_TRUE(std::filesystem::exists(dev_key));
  EXPECT_EQ(std::filesystem::file_size(dev_key), 32u);
  ASSERT_THAT(PortalSync::Create(config_, registry_, http_.get()), IsOk());

  // Configured: it must exist and hold 32 bytes; and be the outbox's key.
  const std::string key_file = dir_ + "/configured.key";
  config_.mutable_portal_sync()->set_outbox_key_file(key_file);
  EXPECT_THAT(PortalSync::Create(config_, registry_, http_.get()),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("portal_sync.outbox_key_file")));
  std::ofstream(key_file, std::ios::binary) << std::string(16, 'k');
  EXPECT_THAT(PortalSync::Create(config_, registry_, http_.get()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("must hold exactly 32 bytes; it holds 16")));
  std::ofstream(key_file, std::ios::binary | std::ios::trunc)
      << std::string(32, 'k');
  EXPECT_THAT(PortalSync::Create(config_, registry_, http_.get()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("another key")));
  std::filesystem::copy_file(dev_key, key_file,
                             std::filesystem::copy_options::overwrite_existing);
  EXPECT_THAT(PortalSync::Create(config_, registry_, http_.get()), IsOk());
}

TEST(PortalSyncConfigTest, ValidationRefusesNegativeSettings) {
  lienthong::config::v1::GatewayConfig config;
  config.mutable_portal_sync()->set_delivered_retention_hours(-1);
  config.mutable_portal_sync()->set_max_in_flight(-1);
  auto no_types =
      [](absl::string_view) -> std::unique_ptr<google::protobuf::Message> {
    return nullptr;
  };
  absl::Status status = config::ValidateConfig(config, no_types);
  EXPECT_THAT(status,
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("portal_sync.delivered_retention_hours: must "
                                 "not be negative")));
  EXPECT_THAT(status.message(),
              HasSubstr("portal_sync.max_in_flight: must not be negative"));
  config.mutable_portal_sync()->set_delivered_retention_hours(0);
  config.mutable_portal_sync()->set_max_in_flight(0);
  EXPECT_THAT(config::ValidateConfig(config, no_types).message(),
              ::testing::Not(HasSubstr("portal_sync")));
}

}  // namespace
}  // namespace lienthong::sync
