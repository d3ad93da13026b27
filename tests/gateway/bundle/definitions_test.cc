// The rules a bundle definition must follow: those the config alone decides
// (config::ValidateConfig) and those its adapters decide (CheckDefinitions,
// against the operations the real agency adapters list).
#include "gateway/bundle/definitions.h"

#include <functional>
#include <string>

#include "adapters/registry.h"
#include "gateway/config/config_loader.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/bundle/bundle_test_util.h"

namespace lienthong::bundle {
namespace {

using ::lienthong::config::v1::BundleDefinition;
using ::lienthong::config::v1::GatewayConfig;
using ::testing::HasSubstr;
using ::testing::Not;

std::unique_ptr<google::protobuf::Message> Resolver(absl::string_view type) {
  static const adapters::AdapterRegistry* const kRegistry = [] {
    auto* registry = new adapters::AdapterRegistry;
    adapters::RegisterBuiltinAdapters(*registry);
    return registry;
  }();
  return kRegistry->EmptyConfigFor(type);
}

GatewayConfig Config() {
  GatewayConfig config;
  for (const char* name : {"civil-status", "residence", "social-insurance",
                           "labour-affairs"}) {
    auto& adapter = *config.add_adapters();
    adapter.set_name(name);
    adapter.set_type(std::string(name) + "-rest");
  }
  *config.mutable_bundles()->add_definitions() = testing::BirthDefinition();
  *config.mutable_bundles()->add_definitions() = testing::DeathDefinition();
  return config;
}

// The bundle problems ValidateConfig reports (other sections of this
// partial config may have their own).
std::string BundleProblems(const GatewayConfig& config) {
  absl::Status status = config::ValidateConfig(config, Resolver);
  std::string problems;
  for (absl::string_view line : absl::StrSplit(status.message(), '\n')) {
    if (absl::StrContains(line, "bundles")) absl::StrAppend(&problems, line, "\n");
  }
  return problems;
}

TEST(BundleDefinitionRulesTest, TheExampleDefinitionsPass) {
  EXPECT_EQ(BundleProblems(Config()), "");
  testing::FakeInvoker invoker;
  EXPECT_TRUE(CheckDefinitions(Config().bundles(), invoker).ok());
}

TEST(BundleDefinitionRulesTest, ConfigRulesNameTheField) {
  struct Case {
    const char* what;
    std::function<void(GatewayConfig&)> change;
    const char* problem;
  };
  const Case kCases[] = {
      {"second BIRTH",
       [](GatewayConfig& c) {
         c.mutable_bundles()->mutable_definitions(1)->set_kind("BIRTH");
       },
       "bundles.definitions[1].kind: 'BIRTH' is already defined by "
       "bundles.definitions[0]"},
      {"unknown kind",
       [](GatewayConfig& c) {
         c.mutable_bundles()->mutable_definitions(0)->set_kind("MARRIAGE");
       },
       "bundles.definitions[0].kind: 'MARRIAGE' is not a bundle kind"},
      {"no procedure code",
       [](GatewayConfig& c) {
         c.mutable_bundles()->mutable_definitions(0)->clear_procedure_code();
       },
       "bundles.definitions[0].procedure_code: required"},
      {"verification shorter",
       [](GatewayConfig& c) {
         auto* d = c.mutable_bundles()->mutable_definitions(0);
         d->set_deadline_working_days(5);
         d->set_verification_deadline_working_days(3);
       },
       "verification_deadline_working_days: must not be shorter"},
      {"after a later step",
       [](GatewayConfig& c) {
         c.mutable_bundles()->mutable_definitions(0)->mutable_steps(0)->add_after(
             "residence");
       },
       "bundles.definitions[0].steps[0].after[0]: 'residence' is not a step "
       "listed before this one"},
      {"input from a step it does not follow",
       [](GatewayConfig& c) {
         auto* step = c.mutable_bundles()->mutable_definitions(0)->mutable_steps(2);
         step->clear_after();
         step->add_after("civil_status");
         (*step->mutable_inputs())["address_detail"] =
             "steps.residence.residence_registration_number";
       },
       "steps[2].inputs[address_detail]: 'residence' is not a step this one "
       "follows"},
      {"unknown adapter",
       [](GatewayConfig& c) {
         c.mutable_bundles()->mutable_definitions(1)->mutable_steps(2)->set_adapter(
             "labour");
       },
       "bundles.definitions[1].steps[2].adapter: no adapter named 'labour'"},
      {"no agency",
       [](GatewayConfig& c) {
         c.mutable_bundles()->mutable_definitions(1)->mutable_steps(1)->clear_agency();
       },
       "bundles.definitions[1].steps[1].agency: required"},
      {"field code alone",
       [](GatewayConfig& c) {
         c.mutable_bundles()->mutable_definitions(0)->set_field_code("HOTICH");
         c.mutable_bundles()->mutable_definitions(0)->clear_field_name();
       },
       "bundles.definitions[0].field_name: required"},
      {"no field code",
       [](GatewayConfig& c) {
         c.mutable_bundles()->mutable_definitions(1)->clear_field_code();
       },
       "bundles.definitions[1].field_code: required"},
      {"field code with a space",
       [](GatewayConfig& c) {
         c.mutable_bundles()->mutable_definitions(0)->set_field_code("HO TICH");
         c.mutable_bundles()->mutable_definitions(0)->set_field_name("Hộ tịch");
       },
       "bundles.definitions[0].field_code: must be visible ASCII"},
      {"procedure code of another form",
       [](GatewayConfig& c) {
         c.mutable_bundles()->mutable_definitions(0)->set_procedure_code(
             "1001193");
       },
       "bundles.definitions[0].procedure_code: procedure code must be"},
      {"no title",
       [](GatewayConfig& c) {
         c.mutable_bundles()->mutable_definitions(1)->set_title("  ");
       },
       "bundles.definitions[1].title: required"},
      {"title with a control character",
       [](GatewayConfig& c) {
         c.mutable_bundles()->mutable_definitions(0)->set_title(
             "Khai sinh\x01");
       },
       "bundles.definitions[0].title: contains control characters"},
      {"field name too long",
       [](GatewayConfig& c) {
         c.mutable_bundles()->mutable_definitions(0)->set_field_name(
             std::string(1001, 'a'));
       },
       "bundles.definitions[0].field_name: longer than 1000 bytes"},
      {"field code too long",
       [](GatewayConfig& c) {
         c.mutable_bundles()->mutable_definitions(0)->set_field_code(
             std::string(65, 'A'));
       },
       "bundles.definitions[0].field_code: longer than 64 bytes"},
      {"retry max below min",
       [](GatewayConfig& c) {
         c.mutable_bundles()->set_retry_min_seconds(10);
         c.mutable_bundles()->set_retry_max_seconds(5);
       },
       "bundles.retry_max_seconds: must not be less than retry_min_seconds"},
  };
  for (const Case& c : kCases) {
    GatewayConfig config = Config();
    c.change(config);
    EXPECT_THAT(BundleProblems(config), HasSubstr(c.problem)) << c.what;
  }
}

TEST(BundleDefinitionRulesTest, AdapterRulesNameTheField) {
  testing::FakeInvoker invoker;
  GatewayConfig config = Config();
  config.mutable_bundles()->mutable_definitions(0)->mutable_steps(0)->set_operation(
      "register_marriage");
  EXPECT_THAT(CheckDefinitions(config.bundles(), invoker).message(),
              HasSubstr("bundles.definitions[0].steps[0].operation: adapter "
                        "'civil-status' has no 'register_marriage' (it has "
                        "register_birth, register_death)"));

  config = Config();
  config.mutable_bundles()->mutable_definitions(0)->mutable_steps(0)
      ->mutable_inputs()->erase("mother_full_name");
  EXPECT_THAT(CheckDefinitions(config.bundles(), invoker).message(),
              HasSubstr("'mother_full_name', which register_birth requires, "
                        "is not mapped"));

  config = Config();
  (*config.mutable_bundles()->mutable_definitions(0)->mutable_steps(1)
        ->mutable_inputs())["citizen_id"] = "steps.civil_status.passport";
  EXPECT_THAT(
      CheckDefinitions(config.bundles(), invoker).message(),
      HasSubstr("steps[1].inputs[citizen_id]: step 'civil_status' gives "
                "no output 'passport'"));

  config = Config();
  (*config.mutable_bundles()->mutable_definitions(1)->mutable_steps(0)
        ->mutable_inputs())["death_place"] = "data.deceased.shoe_size";
  EXPECT_THAT(CheckDefinitions(config.bundles(), invoker).message(),
              HasSubstr("'deceased.shoe_size' is not a data key of a DEATH bundle"));

  config = Config();
  (*config.mutable_bundles()->mutable_definitions(1)->mutable_steps(2)
        ->mutable_inputs())["favourite_colour"] = "data.applicant.full_name";
  EXPECT_THAT(CheckDefinitions(config.bundles(), invoker).message(),
              HasSubstr("'grant_funeral_allowance' takes no input "
                        "'favourite_colour'"));
}

}  // namespace
}  // namespace lienthong::bundle
