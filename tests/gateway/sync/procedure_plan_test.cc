#include "gateway/sync/procedure_plan.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::sync {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::lienthong::v1::ProcedurePlan;

lienthong::v1::Procedure Proc(const std::string& code, const std::string& name) {
  lienthong::v1::Procedure p;
  p.set_code(code);
  p.set_name(name);
  p.set_level(lienthong::v1::SERVICE_LEVEL_PARTLY_ONLINE);
  return p;
}

TEST(ContentHashTest, EqualContentEqualHash) {
  lienthong::v1::Procedure a = Proc("1.001193", "Đăng ký khai sinh");
  lienthong::v1::Procedure b = a;
  EXPECT_EQ(ProcedureContentHash(a), ProcedureContentHash(b));
  EXPECT_EQ(ProcedureContentHash(a).size(), 64u);
  b.add_legal_basis("Luật Hộ tịch 2014");
  EXPECT_NE(ProcedureContentHash(a), ProcedureContentHash(b));
  b = a;
  b.set_fees("Miễn phí");
  EXPECT_NE(ProcedureContentHash(a), ProcedureContentHash(b));
}

std::vector<std::pair<std::string, ProcedurePlan::Action>> Steps(
    const std::vector<ProcedurePlan>& plan) {
  std::vector<std::pair<std::string, ProcedurePlan::Action>> steps;
  for (const ProcedurePlan& p : plan) steps.emplace_back(p.code(), p.action());
  return steps;
}

TEST(ComputePlanTest, CreateUpdateUnchangedWithdraw) {
  std::vector<CatalogueEntry> catalogue = {
      {"1.000001", "h1"}, {"1.000002", "h2-new"}, {"1.000003", "h3"}};
  absl::flat_hash_map<std::string, std::string> current = {
      {"1.000002", "h2-old"}, {"1.000003", "h3"}, {"1.000009", "h9"},
      {"1.000008", "h8"}};
  using ::testing::ElementsAre;
  using ::testing::Pair;
  EXPECT_THAT(Steps(ComputePlan(catalogue, current, false)),
              ElementsAre(Pair("1.000001", ProcedurePlan::CREATE),
                          Pair("1.000002", ProcedurePlan::UPDATE),
                          Pair("1.000003", ProcedurePlan::UNCHANGED)));
  EXPECT_THAT(Steps(ComputePlan(catalogue, current, true)),
              ElementsAre(Pair("1.000001", ProcedurePlan::CREATE),
                          Pair("1.000002", ProcedurePlan::UPDATE),
                          Pair("1.000003", ProcedurePlan::UNCHANGED),
                          Pair("1.000008", ProcedurePlan::WITHDRAW),
                          Pair("1.000009", ProcedurePlan::WITHDRAW)));
}

TEST(ComputePlanTest, EmptyCatalogueWithdrawsEverythingOnlyWhenAsked) {
  absl::flat_hash_map<std::string, std::string> current = {{"1.000001", "h"}};
  EXPECT_TRUE(ComputePlan({}, current, false).empty());
  ASSERT_EQ(ComputePlan({}, current, true).size(), 1u);
}

TEST(ValidateCatalogueTest, NamesEveryBadProcedure) {
  lienthong::v1::SyncProceduresRequest request;
  *request.add_procedures() = Proc("1.001193.000.00.00.H31", "Khai sinh");
  *request.add_procedures() = Proc("", "Không mã");
  *request.add_procedures() = Proc("1.001193.000.00.00.H31", "Trùng mã");
  lienthong::v1::Procedure no_level = Proc("1.000894", "Khai tử");
  no_level.clear_level();
  *request.add_procedures() = no_level;
  EXPECT_THAT(
      ValidateCatalogue(request),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "procedures[1]: code: procedure code must be <digit>.<6 "
               "digits>, optionally followed by \".\" and a unit code\n"
               "procedures[2] (1.001193.000.00.00.H31): code repeats "
               "procedures[0]\n"
               "procedures[3] (1.000894): level: must be fully or partly "
               "online"));
  request.mutable_procedures()->DeleteSubrange(1, 3);
  EXPECT_THAT(ValidateCatalogue(request), IsOk());
}

}  // namespace
}  // namespace lienthong::sync
