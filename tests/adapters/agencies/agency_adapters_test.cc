// The four agency adapters of interconnected procedures (civil status,
// residence, social insurance, labour affairs) against the simulated
// agencies (tests/national_sim) over real TLS on 127.0.0.1, created through
// the builtin registry as the gateway creates them.
#include <map>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "adapters/civil_status/civil_status_config.pb.h"
#include "adapters/common/http/http_client.h"
#include "adapters/common/retriable.h"
#include "adapters/labour_affairs/labour_affairs_config.pb.h"
#include "adapters/registry.h"
#include "adapters/residence/residence_config.pb.h"
#include "adapters/social_insurance/social_insurance_config.pb.h"
#include "gateway/validation/citizen_id.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/adapters/agencies/run_step.h"
#include "tests/adapters/common/sim_https_fixture.h"
#include "tests/national_sim/citizen_generator.h"
#include "tests/national_sim/sim_server.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::adapters {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using ::testing::StartsWith;
using Inputs = std::map<std::string, std::string>;

// A mother and a deceased person the simulated population database knows.
constexpr char kMotherId[] = "033190012345";
constexpr char kDeceasedId[] = "033055001234";
constexpr char kApplicantId[] = "033085012345";

std::string NameOf(const std::string& id) {
  return sim::LookupCitizen(id)->FullName();
}

std::string Today(int years_back = 0) {
  const absl::CivilDay today =
      absl::ToCivilDay(absl::Now(), absl::FixedTimeZone(7 * 3600));
  return absl::StrFormat("%04d-%02d-%02d", today.year() - years_back,
                         today.month(), today.day());
}

class AgencyAdaptersTest : public ::lienthong::testing::SimHttpsTest {
 protected:
  void SetUp() override {
    SimHttpsTest::SetUp();
    if (HasFatalFailure()) return;
    RegisterBuiltinAdapters(registry_);
    civil_ = Make("civil-status-rest",
                  Upstream<civil_status::CivilStatusRestConfig>());
    residence_ =
        Make("residence-rest", Upstream<residence::ResidenceRestConfig>());
    insurance_ = Make("social-insurance-rest",
                      Upstream<social_insurance::SocialInsuranceRestConfig>());
    labour_ = Make("labour-affairs-rest",
                   Upstream<labour_affairs::LabourAffairsRestConfig>());
  }

  template <typename Config>
  Config Upstream(const std::string& api_key = "dev-agency-key") {
    Config config;
    config.mutable_upstream()->set_base_url(sim_->base_url());
    config.mutable_upstream()->set_ca_file(CertFile());
    config.set_api_key(api_key);
    return config;
  }

  absl::StatusOr<std::unique_ptr<Adapter>> Create(
      const std::string& type, const google::protobuf::Message& config) {
    lienthong::config::v1::AdapterInstance instance;
    instance.set_name(type);
    instance.set_type(type);
    instance.mutable_config()->PackFrom(config);
    AdapterContext context;
    context.instance_name = type.substr(0, type.find('-'));
    context.http = http_.get();
    return registry_.Create(instance, context);
  }

  std::unique_ptr<Adapter> Make(const std::string& type,
                                const google::protobuf::Message& config) {
    auto adapter = Create(type, config);
    EXPECT_THAT(adapter, IsOk());
    if (!adapter.ok()) return nullptr;
    EXPECT_NE((*adapter)->agency_step(), nullptr);
    return *std::move(adapter);
  }

  // Runs one step and waits for its answer.
  absl::StatusOr<StepOutcome> Run(
      Adapter& adapter, const std::string& operation, Inputs inputs,
      const std::string& key,
      const std::string& dossier = "000.00.31.H31-260105-00001") {
    StepRequest request;
    request.operation = operation;
    request.inputs = std::move(inputs);
    request.idempotency_key = key;
    request.dossier_code = dossier;
    return adapters::testing::RunStep(adapter, request);
  }

  Inputs Birth(const std::string& mother_name) {
    return {{"child_full_name", "Nguyễn Minh Khang"},
            {"child_birth_date", Today()},
            {"child_gender", "male"},
            {"registration_province", "33"},
            {"mother_citizen_id", kMotherId},
            {"mother_full_name", mother_name},
            {"birth_place", "Bệnh viện Đa khoa tỉnh Hưng Yên"}};
  }

  Inputs Death() {
    return {{"deceased_citizen_id", kDeceasedId},
            {"deceased_full_name", NameOf(kDeceasedId)},
            {"death_date", Today()},
            {"declarant_citizen_id", kApplicantId},
            {"declarant_full_name", NameOf(kApplicantId)},
            {"declarant_relationship", "con"}};
  }

  void SetKnobs(sim::System system, const sim::Knobs& knobs) {
    ASSERT_THAT(sim_->SetKnobs(system, knobs), IsOk());
  }

  AdapterRegistry registry_;
  std::unique_ptr<Adapter> civil_, residence_, insurance_, labour_;
};

TEST_F(AgencyAdaptersTest, EachAdapterListsItsOperations) {
  auto names = [](Adapter& a) {
    std::vector<std::string> out;
    for (const StepOperation& op : a.agency_step()->operations()) {
      out.push_back(op.name);
    }
    return out;
  };
  EXPECT_THAT(names(*civil_),
              ::testing::ElementsAre("register_birth", "register_death"));
  EXPECT_THAT(names(*residence_),
              ::testing::ElementsAre("register_permanent_residence",
                                     "remove_permanent_residence"));
  EXPECT_THAT(names(*insurance_),
              ::testing::ElementsAre("issue_child_health_card"));
  EXPECT_THAT(names(*labour_),
              ::testing::ElementsAre("grant_funeral_allowance"));
  EXPECT_THAT(civil_->agency_step()->operations()[0].outputs,
              ::testing::ElementsAre("birth_certificate_number", "citizen_id"));
}

TEST_F(AgencyAdaptersTest, BirthOutputsFlowIntoResidenceAndHealthCard) {
  auto birth = Run(*civil_, "register_birth", Birth(NameOf(kMotherId)), "k-b1");
  ASSERT_THAT(birth, IsOk());
  ASSERT_EQ(birth->kind, StepOutcome::Kind::kDone);
  const std::string child = birth->outputs["citizen_id"];
  const std::string certificate = birth->outputs["birth_certificate_number"];
  // 033 (registered in Hưng Yên), 2 (a boy born in the 2000s), the year.
  EXPECT_THAT(child, StartsWith(absl::StrCat("0332", Today().substr(2, 2))));
  google::type::Date born;
  born.set_year(std::stoi(Today().substr(0, 4)));
  born.set_month(std::stoi(Today().substr(5, 2)));
  born.set_day(std::stoi(Today().substr(8, 2)));
  EXPECT_THAT(validation::ValidateCitizenId(child, &born, absl::Now()), IsOk());
  EXPECT_THAT(certificate, StartsWith("KS.033."));

  auto residence = Run(*residence_, "register_permanent_residence",
                       {{"citizen_id", child},
                        {"full_name", "Nguyễn Minh Khang"},
                        {"birth_certificate_number", certificate},
                        {"province_code", "33"},
                        {"commune_code", "12103"},
                        {"address_detail", "Thôn 3"},
                        {"household_head_citizen_id", kMotherId},
                        {"household_relationship", "con"}},
                       "k-r1");
  ASSERT_THAT(residence, IsOk());
  ASSERT_EQ(residence->kind, StepOutcome::Kind::kDone);
  EXPECT_THAT(residence->outputs["residence_registration_number"],
              StartsWith("CT.33."));

  auto card = Run(*insurance_, "issue_child_health_card",
                  {{"citizen_id", child},
                   {"full_name", "Nguyễn Minh Khang"},
                   {"birth_date", Today()},
                   {"gender", "male"},
                   {"birth_certificate_number", certificate},
                   {"province_code", "33"}},
                  "k-c1");
  ASSERT_THAT(card, IsOk());
  ASSERT_EQ(card->kind, StepOutcome::Kind::kDone);
  EXPECT_THAT(card->outputs["health_card_number"], StartsWith("TE133"));
  EXPECT_THAT(card->outputs["health_card_number"], SizeIs(15));
  EXPECT_EQ(card->outputs["valid_to"].substr(0, 4),
            absl::StrCat(std::stoi(Today().substr(0, 4)) + 6 -
                         (Today().substr(5) == "01-01" ? 1 : 0)));

  // Each applied once, under its key.
  std::vector<sim::AgencyStep> steps = sim_->AgencySteps();
  ASSERT_THAT(steps, SizeIs(3));
  EXPECT_EQ(steps[0].agency, "civil_status");
  EXPECT_EQ(steps[1].operation, "register_permanent_residence");
  EXPECT_EQ(steps[2].idempotency_key, "k-c1");
  EXPECT_EQ(steps[2].ma_ho_so, "000.00.31.H31-260105-00001");
}

TEST_F(AgencyAdaptersTest, DeathOutputsFlowIntoRemovalAndAllowance) {
  auto death = Run(*civil_, "register_death", Death(), "k-d1");
  ASSERT_THAT(death, IsOk());
  ASSERT_EQ(death->kind, StepOutcome::Kind::kDone);
  const std::string certificate = death->outputs["death_certificate_number"];
  EXPECT_THAT(certificate, StartsWith("KT.033."));
  auto removal = Run(*residence_, "remove_permanent_residence",
                     {{"citizen_id", kDeceasedId},
                      {"full_name", NameOf(kDeceasedId)},
                      {"death_certificate_number", certificate}},
                     "k-x1");
  ASSERT_THAT(removal, IsOk());
  EXPECT_THAT(removal->outputs["removal_number"], StartsWith("XCT."));
  auto allowance = Run(*labour_, "grant_funeral_allowance",
                       {{"deceased_citizen_id", kDeceasedId},
                        {"deceased_full_name", NameOf(kDeceasedId)},
                        {"death_certificate_number", certificate},
                        {"recipient_citizen_id", kApplicantId},
                        {"recipient_full_name", NameOf(kApplicantId)}},
                       "k-a1");
  ASSERT_THAT(allowance, IsOk());
  EXPECT_THAT(allowance->outputs["decision_number"], StartsWith("QD-MT."));
  EXPECT_EQ(allowance->outputs["amount_vnd"], "7200000");
}

TEST_F(AgencyAdaptersTest, RefusalsCarryTheAgencysReason) {
  auto wrong_mother =
      Run(*civil_, "register_birth", Birth("Trần Thị Bé"), "k-1");
  ASSERT_THAT(wrong_mother, IsOk());
  EXPECT_EQ(wrong_mother->kind, StepOutcome::Kind::kRefused);
  EXPECT_THAT(wrong_mother->reason, HasSubstr("Thông tin của mẹ không khớp"));
  EXPECT_TRUE(wrong_mother->outputs.empty());

  // The residence database does not know commune 99999.
  sim::Knobs knobs;
  knobs.reject_codes = {"99999"};
  SetKnobs(sim::System::kResidence, knobs);
  Inputs address = {{"citizen_id", "033226100001"},
                    {"full_name", "Nguyễn Minh Khang"},
                    {"birth_certificate_number", "KS.1"},
                    {"province_code", "33"},
                    {"commune_code", "99999"},
                    {"address_detail", "Thôn 3"}};
  auto refused =
      Run(*residence_, "register_permanent_residence", address, "k-2");
  ASSERT_THAT(refused, IsOk());
  EXPECT_EQ(refused->kind, StepOutcome::Kind::kRefused);
  EXPECT_EQ(refused->reason, "Không tìm thấy địa chỉ đăng ký thường trú");
  // Corrected data under a new key goes through.
  address["commune_code"] = "12103";
  auto corrected =
      Run(*residence_, "register_permanent_residence", address, "k-3");
  ASSERT_THAT(corrected, IsOk());
  EXPECT_EQ(corrected->kind, StepOutcome::Kind::kDone);

  auto too_old = Run(*insurance_, "issue_child_health_card",
                     {{"citizen_id", "033218100001"},
                      {"full_name", "Nguyễn Minh Khang"},
                      {"birth_date", Today(7)},
                      {"gender", "male"},
                      {"birth_certificate_number", "KS.1"},
                      {"province_code", "33"}},
                     "k-4");
  ASSERT_THAT(too_old, IsOk());
  EXPECT_EQ(too_old->kind, StepOutcome::Kind::kRefused);
  EXPECT_THAT(too_old->reason, HasSubstr("đủ 6 tuổi"));
}

TEST_F(AgencyAdaptersTest, ARepeatUnderTheSameKeyIsAnsweredNotAppliedAgain) {
  auto first =
      Run(*civil_, "register_birth", Birth(NameOf(kMotherId)), "k-same");
  auto again =
      Run(*civil_, "register_birth", Birth(NameOf(kMotherId)), "k-same");
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(first->outputs, again->outputs);
  EXPECT_THAT(sim_->AgencySteps(), SizeIs(1));
  EXPECT_EQ(sim_->AgencyRequestsPerKey()["k-same"], 2);
}

TEST_F(AgencyAdaptersTest, DownAgencyIsRetriableAndTheKeyAppliesOnceItIsBack) {
  sim::Knobs down;
  down.down = true;
  SetKnobs(sim::System::kLabourAffairs, down);
  Inputs allowance = {{"deceased_citizen_id", kDeceasedId},
                      {"deceased_full_name", NameOf(kDeceasedId)},
                      {"death_certificate_number", "KT.1"},
                      {"recipient_citizen_id", kApplicantId},
                      {"recipient_full_name", NameOf(kApplicantId)}};
  auto failed = Run(*labour_, "grant_funeral_allowance", allowance, "k-down");
  EXPECT_THAT(failed, StatusIs(absl::StatusCode::kUnavailable,
                               HasSubstr("agency 'labour' is unreachable")));
  EXPECT_TRUE(IsRetriable(failed.status()));

  sim::Knobs busy;
  busy.error_rate = 1;
  busy.retry_after = "3";
  SetKnobs(sim::System::kLabourAffairs, busy);
  auto overloaded =
      Run(*labour_, "grant_funeral_allowance", allowance, "k-down");
  EXPECT_THAT(overloaded,
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("HTTP 503")));
  EXPECT_EQ(RetryAfter(overloaded.status()), absl::Seconds(3));

  SetKnobs(sim::System::kLabourAffairs, {});
  auto applied = Run(*labour_, "grant_funeral_allowance", allowance, "k-down");
  ASSERT_THAT(applied, IsOk());
  EXPECT_EQ(applied->kind, StepOutcome::Kind::kDone);
  EXPECT_THAT(sim_->AgencySteps(), SizeIs(1));
}

TEST_F(AgencyAdaptersTest, BadInputsAreRefusedBeforeAnythingIsSent) {
  Inputs missing = Birth(NameOf(kMotherId));
  missing.erase("mother_full_name");
  EXPECT_THAT(Run(*civil_, "register_birth", missing, "k-5"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("input 'mother_full_name' of register_birth "
                                 "is required")));
  Inputs bad_date = Birth(NameOf(kMotherId));
  bad_date["child_birth_date"] = "2026-02-30";
  EXPECT_THAT(Run(*civil_, "register_birth", bad_date, "k-6"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("input 'child_birth_date' must be a date")));
  bad_date["child_birth_date"] = "2026-+2-03";
  EXPECT_THAT(Run(*civil_, "register_birth", bad_date, "k-6"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("input 'child_birth_date' must be a date")));
  Inputs bad_name = Birth(NameOf(kMotherId));
  bad_name["child_full_name"] = "Nguy\xe1\xbb";  // cut inside a letter
  EXPECT_THAT(Run(*civil_, "register_birth", bad_name, "k-6"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "input 'child_full_name': not valid UTF-8"));
  bad_name["child_full_name"] = "Nguyễn\tKhang";
  EXPECT_THAT(Run(*civil_, "register_birth", bad_name, "k-6"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "input 'child_full_name': contains control characters"));
  Inputs bad_id = Birth(NameOf(kMotherId));
  bad_id["mother_citizen_id"] = "03319001234X";
  auto refused = Run(*civil_, "register_birth", bad_id, "k-7");
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kInvalidArgument,
                                HasSubstr("'mother_citizen_id' must be a "
                                          "12-digit personal ID")));
  // The value itself is never quoted.
  EXPECT_THAT(refused.status().message(),
              ::testing::Not(HasSubstr("03319001234X")));
  EXPECT_THAT(Run(*civil_, "register_marriage", {}, "k-8"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("has no operation 'register_marriage'")));
  EXPECT_EQ(sim_->Stats().of(sim::System::kCivilStatus).received, 0);
}

TEST_F(AgencyAdaptersTest, WrongCredentialsWaitForAnOperator) {
  auto adapter = Make("residence-rest",
                      Upstream<residence::ResidenceRestConfig>("wrong-key"));
  auto result = Run(*adapter, "remove_permanent_residence",
                    {{"citizen_id", kDeceasedId},
                     {"full_name", "x"},
                     {"death_certificate_number", "KT.1"}},
                    "k-9");
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kUnavailable,
                               HasSubstr("credentials (HTTP 401)")));
  EXPECT_TRUE(IsRetriable(result.status()));
}

TEST_F(AgencyAdaptersTest, FactoriesRefuseBadConfigsNamingTheField) {
  auto plain = Upstream<civil_status::CivilStatusRestConfig>();
  plain.mutable_upstream()->set_base_url("http://127.0.0.1:1");
  EXPECT_THAT(
      Create("civil-status-rest", plain),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("upstream.base_url must start with https://")));
  auto no_key = Upstream<social_insurance::SocialInsuranceRestConfig>("");
  EXPECT_THAT(Create("social-insurance-rest", no_key),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("api_key is required")));
  auto bad_path = Upstream<residence::ResidenceRestConfig>();
  bad_path.set_removal_path("cutru/xoa");
  EXPECT_THAT(Create("residence-rest", bad_path),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("removal_path must start with /")));
  auto labour = Upstream<labour_affairs::LabourAffairsRestConfig>();
  labour.set_funeral_allowance_path("/custom/mai-tang");
  EXPECT_THAT(Create("labour-affairs-rest", labour), IsOk());
}

}  // namespace
}  // namespace lienthong::adapters
