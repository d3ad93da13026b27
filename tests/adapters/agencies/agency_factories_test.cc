// The factories of the four agency adapters (civil status, residence, social
// insurance, labour affairs): which config they refuse, naming which field,
// in which order, and that a good one gives an agency-step adapter whose
// operations use the configured paths. No upstream is contacted.
#include <memory>
#include <string>
#include <vector>

#include "adapters/civil_status/civil_status_adapter.h"
#include "adapters/common/http/http_client.h"
#include "adapters/labour_affairs/labour_affairs_adapter.h"
#include "adapters/residence/residence_adapter.h"
#include "adapters/social_insurance/social_insurance_adapter.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "gtest/gtest.h"
#include "lienthong/config/v1/config.pb.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::adapters {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A factory and the paths its config may override.
struct PathField {
  std::unique_ptr<AdapterFactory> (*make)();
  const char* field;
};

std::vector<PathField> PathFields() {
  std::vector<PathField> fields;
  for (const char* field :
       {"birth_registration_path", "death_registration_path"}) {
    fields.push_back({civil_status::MakeCivilStatusRestFactory, field});
  }
  for (const char* field : {"registration_path", "removal_path"}) {
    fields.push_back({residence::MakeResidenceRestFactory, field});
  }
  fields.push_back(
      {social_insurance::MakeSocialInsuranceRestFactory, "child_card_path"});
  fields.push_back(
      {labour_affairs::MakeLabourAffairsRestFactory, "funeral_allowance_path"});
  return fields;
}

// A config of `factory` that reaches an agency over HTTPS with a key.
std::unique_ptr<google::protobuf::Message> GoodConfig(
    const AdapterFactory& factory) {
  std::unique_ptr<google::protobuf::Message> config =
      factory.CreateEmptyConfig();
  const google::protobuf::Descriptor* type = config->GetDescriptor();
  const google::protobuf::Reflection* reflection = config->GetReflection();
  lienthong::config::v1::HttpsUpstream upstream;
  upstream.set_base_url("https://agency.invalid");
  reflection->MutableMessage(config.get(), type->FindFieldByName("upstream"))
      ->CopyFrom(upstream);
  reflection->SetString(config.get(), type->FindFieldByName("api_key"),
                        "dev-agency-key");
  return config;
}

void SetPath(google::protobuf::Message& config, const std::string& field,
             const std::string& value) {
  const google::protobuf::FieldDescriptor* descriptor =
      config.GetDescriptor()->FindFieldByName(field);
  ASSERT_NE(descriptor, nullptr) << field;
  config.GetReflection()->SetString(&config, descriptor, value);
}

class AgencyFactoriesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto http = CurlHttpClient::Create({});
    ASSERT_THAT(http, IsOk());
    http_ = *std::move(http);
    context_.instance_name = "agency";
    context_.http = http_.get();
  }

  std::unique_ptr<CurlHttpClient> http_;
  AdapterContext context_;
};

TEST_F(AgencyFactoriesTest, APathMustBeAVisibleAsciiPathAndIsNamed) {
  for (const PathField& c : PathFields()) {
    std::unique_ptr<AdapterFactory> factory = c.make();
    auto config = GoodConfig(*factory);
    SetPath(*config, c.field, "api/v1/x");
    EXPECT_THAT(
        factory->Create(*config, context_),
        StatusIs(absl::StatusCode::kInvalidArgument,
                 HasSubstr(std::string(c.field) + " must start with /")))
        << factory->name() << " " << c.field;
    // A space or text of another script: every call would be refused by
    // the HTTP client, and retried for ever.
    for (const char* bad : {"/hotich/api/v1/khai sinh", "/hộ-tịch"}) {
      SetPath(*config, c.field, bad);
      EXPECT_THAT(factory->Create(*config, context_),
                  StatusIs(absl::StatusCode::kInvalidArgument,
                           HasSubstr(std::string(c.field) +
                                     " must start with / and be visible "
                                     "ASCII")))
          << factory->name() << " " << c.field << " " << bad;
    }
    SetPath(*config, c.field, "api/v1/x");
    // Checked before the HTTP client is looked for.
    AdapterContext no_http = context_;
    no_http.http = nullptr;
    EXPECT_THAT(
        factory->Create(*config, no_http),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.field)))
        << factory->name() << " " << c.field;
    // The endpoint is checked first.
    auto plain = GoodConfig(*factory);
    SetPath(*plain, c.field, "api/v1/x");
    lienthong::config::v1::HttpsUpstream upstream;
    upstream.set_base_url("http://agency.invalid");
    plain->GetReflection()
        ->MutableMessage(plain.get(),
                         plain->GetDescriptor()->FindFieldByName("upstream"))
        ->CopyFrom(upstream);
    EXPECT_THAT(factory->Create(*plain, context_),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("upstream.base_url must start with "
                                   "https://")))
        << factory->name() << " " << c.field;
  }
}

TEST_F(AgencyFactoriesTest, AGoodConfigGivesAnAgencyStepAdapter) {
  for (const PathField& c : PathFields()) {
    std::unique_ptr<AdapterFactory> factory = c.make();
    auto config = GoodConfig(*factory);
    SetPath(*config, c.field, "/custom/path");
    auto adapter = factory->Create(*config, context_);
    ASSERT_THAT(adapter, IsOk()) << factory->name() << " " << c.field;
    ASSERT_NE((*adapter)->agency_step(), nullptr) << factory->name();
    EXPECT_FALSE((*adapter)->agency_step()->operations().empty())
        << factory->name();
  }
}

TEST_F(AgencyFactoriesTest, NoHttpClientIsOurBug) {
  for (const PathField& c : PathFields()) {
    std::unique_ptr<AdapterFactory> factory = c.make();
    AdapterContext no_http = context_;
    no_http.http = nullptr;
    EXPECT_THAT(factory->Create(*GoodConfig(*factory), no_http),
                StatusIs(absl::StatusCode::kInternal,
                         HasSubstr("no HTTP client in the adapter context")))
        << factory->name();
  }
}

TEST_F(AgencyFactoriesTest, EachFactoryHasItsTypeName) {
  std::vector<std::string> names;
  for (auto make : {civil_status::MakeCivilStatusRestFactory,
                    residence::MakeResidenceRestFactory,
                    social_insurance::MakeSocialInsuranceRestFactory,
                    labour_affairs::MakeLabourAffairsRestFactory}) {
    names.emplace_back(make()->name());
  }
  EXPECT_THAT(names,
              ElementsAre("civil-status-rest", "residence-rest",
                          "social-insurance-rest", "labour-affairs-rest"));
}

}  // namespace
}  // namespace lienthong::adapters
