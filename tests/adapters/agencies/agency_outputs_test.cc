// What an agency adapter takes from an answer that applied a step: each
// output the operation lists, as usable text (a number or a reference that
// officers see and later steps send on), or the step fails naming the
// member and never quoting it.
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "adapters/common/agency/agency_adapter.h"
#include "adapters/common/http/http_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/adapters/agencies/run_step.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::adapters::agency {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

// Answers every request with HTTP 200 and `body`.
class FakeHttp final : public HttpClient {
 public:
  void Send(HttpRequest request, HttpCallback done) override {
    bodies.push_back(std::move(request.body));
    HttpResponse response;
    response.status = 200;
    response.body = body;
    std::move(done)(std::move(response));
  }
  std::string body;
  std::vector<std::string> bodies;  // of the requests sent
};

class AgencyOutputsTest : public ::testing::Test {
 protected:
  AgencyOutputsTest() {
    MakeAdapter({{"certificate_number", "SoGiayKhaiSinh"}});
  }

  // register_birth, giving `outputs` (name, answer member); with
  // `id_owners` (output, its owner's inputs) as civil status has it.
  void MakeAdapter(
      std::vector<std::pair<std::string, std::string>> outputs,
      std::map<std::string, AgencyOperation::IdOwner> id_owners = {}) {
    AgencyOperation op;
    op.info = {"register_birth", {"full_name"}, {}, {}};
    for (const auto& [output, member] : outputs) {
      op.info.outputs.push_back(output);
    }
    op.path = "/khaisinh";
    op.build_body =
        [](const StepInputs& in) -> absl::StatusOr<google::protobuf::Struct> {
      google::protobuf::Struct body;
      absl::StatusOr<std::string> name = in.Text("full_name");
      if (!name.ok()) return name.status();
      Put(body, "HoTen", *name);
      // Members enough that their order could vary.
      for (const char* member :
           {"NgaySinh", "GioiTinh", "DanToc", "QuocTich", "NoiSinh", "QueQuan",
            "HoTenMe", "HoTenCha", "MaXa", "NoiDangKy", "NgayDangKy"}) {
        Put(body, member, "x");
      }
      return body;
    };
    op.output_members = {outputs.begin(), outputs.end()};
    op.id_owners = std::move(id_owners);
    lienthong::config::v1::HttpsUpstream upstream;
    upstream.set_base_url("https://agency.example:8443");
    std::vector<AgencyOperation> operations;
    operations.push_back(std::move(op));
    adapter_ = MakeAgencyAdapter("civil_status", upstream, "key-1",
                                 std::move(operations), &http_);
  }

  absl::StatusOr<StepOutcome> Answer(std::string body) {
    http_.body = std::move(body);
    StepRequest request;
    request.operation = "register_birth";
    request.inputs = {{"full_name", "Nguyễn Minh Khang"},
                      {"child_birth_date", "2026-01-05"},
                      {"child_gender", child_gender_}};
    request.idempotency_key = "k-1";
    request.dossier_code = "000.00.31.H31-260105-00001";
    return adapters::testing::RunStep(*adapter_, request);
  }

  std::string child_gender_ = "male";
  FakeHttp http_;
  std::unique_ptr<Adapter> adapter_;
};

TEST_F(AgencyOutputsTest, TakesAnOutputOfPrintableText) {
  absl::StatusOr<StepOutcome> outcome = Answer(
      R"({"error_code": "0", "data": {"SoGiayKhaiSinh": "KS.033.2026.000123"}})");
  ASSERT_THAT(outcome, IsOk());
  EXPECT_EQ(outcome->kind, StepOutcome::Kind::kDone);
  EXPECT_EQ(outcome->outputs["certificate_number"], "KS.033.2026.000123");
  // A whole number is taken as its digits.
  outcome = Answer(R"({"error_code": 0, "data": {"SoGiayKhaiSinh": 512}})");
  ASSERT_THAT(outcome, IsOk());
  EXPECT_EQ(outcome->outputs["certificate_number"], "512");
}

// An answer that says the step was applied but whose results cannot be
// used is the same on every resend of its key: the step is refused, waiting
// for an officer (not retried for ever, which no stop could end), with a
// reason that names the result, never its value, and says the agency may
// have applied it.
void ExpectUnusable(const absl::StatusOr<StepOutcome>& outcome,
                    absl::string_view why, absl::string_view secret) {
  ASSERT_THAT(outcome, IsOk());
  EXPECT_EQ(outcome->kind, StepOutcome::Kind::kRefused);
  EXPECT_THAT(outcome->reason,
              AllOf(HasSubstr("agency 'civil_status' applied register_birth "
                              "but "),
                    HasSubstr(why), HasSubstr("check with the agency"),
                    Not(HasSubstr(secret))));
  EXPECT_TRUE(outcome->outputs.empty());
}

// A step sent again (after a lost answer, or a restart) goes with the same
// bytes under the same key: an agency that checks a repeated key against
// the body it first saw would otherwise answer 409, refusing the step.
TEST_F(AgencyOutputsTest, TheSameStepIsSentWithTheSameBytes) {
  for (int i = 0; i < 20; ++i) {
    ASSERT_THAT(
        Answer(R"({"error_code": "0", "data": {"SoGiayKhaiSinh": "KS-1"}})"),
        IsOk());
  }
  ASSERT_EQ(http_.bodies.size(), 20u);
  for (const std::string& body : http_.bodies) {
    EXPECT_EQ(body, http_.bodies[0]);
  }
  EXPECT_THAT(http_.bodies[0], HasSubstr("\"HoTen\":\"Nguyễn Minh Khang\""));
}

TEST_F(AgencyOutputsTest, RefusesOutputsThatAreNotUsableText) {
  // Later steps take at most 64 bytes of a certificate number.
  const std::string long_number(65, '7');
  const struct {
    std::string body;
    const char* why;
    std::string secret;  // a piece of the value, never quoted
  } kCases[] = {
      {R"({"error_code": "0", "data": {"SoGiayKhaiSinh": "KS.033\u0000X9"}})",
       "its SoGiayKhaiSinh is not usable text: contains control characters",
       "KS.033"},
      {R"({"error_code": "0", "data": {"SoGiayKhaiSinh": "KS.033\nX9"}})",
       "contains control characters", "KS.033"},
      {absl::StrCat(R"({"error_code": "0", "data": {"SoGiayKhaiSinh": ")",
                    long_number, R"("}})"),
       "longer than 64 bytes", "7777777"},
      {R"({"error_code": "0", "data": {}})", "its answer lacks SoGiayKhaiSinh",
       "<none>"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.why);
    ExpectUnusable(Answer(c.body), c.why, c.secret);
  }
  // 64 bytes are taken.
  absl::StatusOr<StepOutcome> longest =
      Answer(absl::StrCat(R"({"error_code": "0", "data": {"SoGiayKhaiSinh": ")",
                          std::string(64, '7'), R"("}})"));
  ASSERT_THAT(longest, IsOk());
  EXPECT_EQ(longest->kind, StepOutcome::Kind::kDone);
}

// An output that is a citizen's ID (the child's, which later steps send
// and the audit hashes) must be one: a JSON number has lost its leading 0,
// and an old ID card number is no ID the later steps take.
TEST_F(AgencyOutputsTest, ACitizenIdOutputMustBeAnId) {
  MakeAdapter(
      {{"certificate_number", "SoGiayKhaiSinh"}, {"citizen_id", "SoDinhDanh"}});
  absl::StatusOr<StepOutcome> outcome = Answer(
      R"({"error_code": "0", "data": {"SoGiayKhaiSinh": "KS-1", "SoDinhDanh": "033226000123"}})");
  ASSERT_THAT(outcome, IsOk());
  EXPECT_EQ(outcome->outputs["citizen_id"], "033226000123");
  for (const char* id : {"33226000123", "\"N/A\"", "\"03322600012X\"",
                         "\"033226000\"", "123456789"}) {
    SCOPED_TRACE(id);
    absl::StatusOr<StepOutcome> refused = Answer(absl::StrCat(
        R"({"error_code": "0", "data": {"SoGiayKhaiSinh": "KS-1", "SoDinhDanh": )",
        id, "}}"));
    ExpectUnusable(refused, "its SoDinhDanh is not a citizen's ID", "33226");
    if (refused.ok()) {
      EXPECT_THAT(refused->reason, Not(HasSubstr("345678")));
    }
  }
  // Nine digits are an old ID card number: refused as one.
  ExpectUnusable(
      Answer(
          R"({"error_code": "0", "data": {"SoGiayKhaiSinh": "KS-1", "SoDinhDanh": "033226000"}})"),
      "must be a 12-digit personal ID, not an old ID card number", "033226");
}

TEST_F(AgencyOutputsTest, AnAmountOutputIsWholeDongMoreThanNone) {
  MakeAdapter({{"decision_number", "SoQuyetDinh"}, {"amount_vnd", "SoTien"}});
  for (const char* amount : {"7200000", "\"7200000\""}) {
    absl::StatusOr<StepOutcome> outcome = Answer(absl::StrCat(
        R"({"error_code": "0", "data": {"SoQuyetDinh": "QD-1", "SoTien": )",
        amount, "}}"));
    ASSERT_THAT(outcome, IsOk()) << amount;
    EXPECT_EQ(outcome->outputs["amount_vnd"], "7200000");
  }
  for (const char* amount :
       {"-7200000", "\"-1\"", "0", "\"007\"", "\"7.200.000\""}) {
    SCOPED_TRACE(amount);
    ExpectUnusable(
        Answer(absl::StrCat(
            R"({"error_code": "0", "data": {"SoQuyetDinh": "QD-1", "SoTien": )",
            amount, "}}")),
        "its SoTien is not an amount of money", "7200");
  }
}

// The child's new ID must give the child's birth year: a parent's ID
// (a buggy agency answering the mother's) would send the child's residence
// and health card to the parent's ID at the later steps.
TEST_F(AgencyOutputsTest, AChildsNewIdGivesTheChildsBirthYear) {
  MakeAdapter(
      {{"certificate_number", "SoGiayKhaiSinh"}, {"citizen_id", "SoDinhDanh"}},
      {{"citizen_id", {"child_birth_date", ""}}});
  absl::StatusOr<StepOutcome> child = Answer(
      R"({"error_code": "0", "data": {"SoGiayKhaiSinh": "KS-1", "SoDinhDanh": "033226000123"}})");
  ASSERT_THAT(child, IsOk());
  EXPECT_EQ(child->kind, StepOutcome::Kind::kDone);
  EXPECT_EQ(child->outputs["citizen_id"], "033226000123");
  ExpectUnusable(
      Answer(
          R"({"error_code": "0", "data": {"SoGiayKhaiSinh": "KS-1", "SoDinhDanh": "033190012345"}})"),
      "its SoDinhDanh is not a citizen's ID", "033190");
}

// And the child's gender: its gender/century digit is even for a boy (0 in
// the 1900s, 2 in the 2000s), odd for a girl. A sibling's or a parent's ID
// of the child's birth year is caught by it when they differ in gender.
TEST_F(AgencyOutputsTest, AChildsNewIdGivesTheChildsGender) {
  MakeAdapter(
      {{"certificate_number", "SoGiayKhaiSinh"}, {"citizen_id", "SoDinhDanh"}},
      {{"citizen_id", {"child_birth_date", "child_gender"}}});
  const std::string boy =
      R"({"error_code": "0", "data": {"SoGiayKhaiSinh": "KS-1", "SoDinhDanh": "033226000123"}})";
  const std::string girl =
      R"({"error_code": "0", "data": {"SoGiayKhaiSinh": "KS-1", "SoDinhDanh": "033326000124"}})";
  absl::StatusOr<StepOutcome> taken = Answer(boy);
  ASSERT_THAT(taken, IsOk());
  EXPECT_EQ(taken->kind, StepOutcome::Kind::kDone);
  ExpectUnusable(Answer(girl), "gender/century digit is a woman's, not a man's",
                 "033326");
  child_gender_ = "female";
  taken = Answer(girl);
  ASSERT_THAT(taken, IsOk());
  EXPECT_EQ(taken->kind, StepOutcome::Kind::kDone);
  EXPECT_EQ(taken->outputs["citizen_id"], "033326000124");
  ExpectUnusable(Answer(boy), "gender/century digit is a man's, not a woman's",
                 "033226");
}

}  // namespace
}  // namespace lienthong::adapters::agency
