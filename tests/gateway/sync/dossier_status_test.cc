#include "gateway/sync/dossier_status.h"

#include <set>
#include <string>
#include <utility>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::sync {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::lienthong::v1::DossierStatus;
using ::testing::HasSubstr;

// The whole table, written out: for each status, every status that may
// follow it. Every pair not listed must be refused.
const std::vector<std::pair<DossierStatus, std::set<DossierStatus>>>&
Expected() {
  using namespace ::lienthong::v1;  // NOLINT: enum values read as the table
  static const auto* const kExpected =
      new std::vector<std::pair<DossierStatus, std::set<DossierStatus>>>{
          {NEW, {ACCEPTED, REFUSED, WITHDRAWN}},
          {ACCEPTED, {PROCESSING, WITHDRAWN}},
          {REFUSED, {}},
          {PROCESSING,
           {PROCESSING, MORE_DOCUMENTS_NEEDED, PAYMENT_REQUIRED, FINISHED,
            STOPPED, WITHDRAWN}},
          {MORE_DOCUMENTS_NEEDED, {PROCESSING, STOPPED, WITHDRAWN}},
          {PAYMENT_REQUIRED, {PROCESSING, FINISHED, STOPPED, WITHDRAWN}},
          {WITHDRAWN, {}},
          {STOPPED, {}},
          {FINISHED, {RESULT_RETURNED}},
          {RESULT_RETURNED, {}},
      };
  return *kExpected;
}

TEST(DossierStatusTest, TransitionTableIsExactlyTheDocumentedOne) {
  ASSERT_EQ(Expected().size(), 10u);
  for (const auto& [from, allowed] : Expected()) {
    for (int to = 1; to <= 10; ++to) {
      const auto next = static_cast<DossierStatus>(to);
      EXPECT_EQ(IsAllowedTransition(from, next), allowed.count(next) == 1)
          << DossierStatusName(from) << " -> " << DossierStatusName(next);
    }
    EXPECT_EQ(IsTerminalDossierStatus(from), allowed.empty())
        << DossierStatusName(from);
  }
}

TEST(DossierStatusTest, RefusalNamesTheDossierAndBothStatuses) {
  EXPECT_THAT(CheckTransition("000.00.01.H31-250715-00123",
                              lienthong::v1::RESULT_RETURNED,
                              lienthong::v1::PROCESSING),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "dossier 000.00.01.H31-250715-00123 cannot go from "
                       "RESULT_RETURNED to PROCESSING"));
  EXPECT_THAT(CheckTransition("000.00.01.H31-250715-00123",
                              lienthong::v1::NEW, lienthong::v1::ACCEPTED),
              IsOk());
}

TEST(DossierStatusTest, AnyFirstStatusIsAccepted) {
  for (int to = 1; to <= 10; ++to) {
    EXPECT_THAT(CheckTransition("000.00.01.H31-250715-00123", std::nullopt,
                                static_cast<DossierStatus>(to)),
                IsOk());
  }
}

TEST(DossierStatusTest, NamesStatuses) {
  EXPECT_EQ(DossierStatusName(4), "PROCESSING");
  EXPECT_EQ(DossierStatusName(0), "UNKNOWN(0)");
  EXPECT_EQ(DossierStatusName(11), "UNKNOWN(11)");
  EXPECT_FALSE(IsKnownDossierStatus(0));
  EXPECT_TRUE(IsKnownDossierStatus(10));
}

lienthong::v1::DossierStatusUpdate GoodUpdate() {
  lienthong::v1::DossierStatusUpdate u;
  u.set_dossier_code("000.00.01.H31-250715-00123");
  u.set_procedure_code("1.001193.000.00.00.H31");
  u.set_status(lienthong::v1::PROCESSING);
  u.mutable_time()->set_seconds(1752546600);  // 2025-07-15 02:30 UTC
  u.set_handler("Nguyễn Văn Cán Bộ");
  return u;
}

TEST(DossierUpdateTest, ValidatesEachField) {
  const absl::Time now = absl::FromUnixSeconds(1752546600);
  EXPECT_THAT(ValidateDossierUpdate(GoodUpdate(), now), IsOk());

  struct Case {
    const char* name;
    void (*spoil)(lienthong::v1::DossierStatusUpdate&);
    const char* message;
  };
  const Case kCases[] = {
      {"bad dossier code", [](auto& u) { u.set_dossier_code("x"); },
       "dossier_code: "},
      {"bad procedure code", [](auto& u) { u.set_procedure_code("1.1"); },
       "procedure_code: "},
      {"unspecified status",
       [](auto& u) { u.set_status(lienthong::v1::DOSSIER_STATUS_UNSPECIFIED); },
       "status: "},
      {"no time", [](auto& u) { u.clear_time(); }, "time: required"},
      {"time before 2000",
       [](auto& u) { u.mutable_time()->set_seconds(0); }, "time: before"},
      {"time far ahead",
       [](auto& u) { u.mutable_time()->set_seconds(1752546600 + 2 * 86400); },
       "time: more than a day"},
      {"bad nanos", [](auto& u) { u.mutable_time()->set_nanos(-1); },
       "time: nanos"},
      {"handler too long",
       [](auto& u) { u.set_handler(std::string(300, 'a')); }, "handler: "},
      {"note too long", [](auto& u) { u.set_note(std::string(3000, 'a')); },
       "note: "},
      {"handler not UTF-8", [](auto& u) { u.set_handler("C\xc3"); },
       "handler: not valid UTF-8"},
      {"title with a control character",
       [](auto& u) { u.set_handler_title("Chuyên\x1bviên"); },
       "handler_title: contains control characters"},
      {"department too long",
       [](auto& u) { u.set_department(std::string(257, 'a')); },
       "department: longer than 256 bytes"},
      {"step start ahead",
       [](auto& u) { u.mutable_step_start()->set_seconds(1752546600 + 2 * 86400); },
       "step_start: more than a day"},
      {"step due far ahead",
       [](auto& u) {
         u.mutable_step_due()->set_seconds(1752546600 + 11LL * 366 * 86400);
       },
       "step_due: more than ten years"},
      {"step due before 2000",
       [](auto& u) { u.mutable_step_due()->set_seconds(5); },
       "step_due: before 2000"},
  };
  for (const Case& c : kCases) {
    lienthong::v1::DossierStatusUpdate u = GoodUpdate();
    c.spoil(u);
    EXPECT_THAT(ValidateDossierUpdate(u, now),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr(c.message)))
        << c.name;
  }
  // A note may span lines; a legal end may lie months ahead.
  lienthong::v1::DossierStatusUpdate u = GoodUpdate();
  u.set_note("Thẩm định:\n- hồ sơ đủ");
  u.mutable_step_due()->set_seconds(1752546600 + 90 * 86400);
  EXPECT_THAT(ValidateDossierUpdate(u, now), IsOk());
}

lienthong::v1::DossierRegistration GoodRegistration() {
  lienthong::v1::DossierRegistration r;
  r.set_procedure_name("Đăng ký khai sinh");
  r.set_field_code("G09-TP05");
  r.set_field_name("Hộ tịch");
  r.mutable_applicant()->set_name("Trần Thị Mai");
  r.mutable_applicant()->set_type(lienthong::v1::APPLICANT_CITIZEN);
  r.mutable_applicant()->set_id("033185001234");
  r.mutable_applicant()->set_email("mai@example.vn");
  r.mutable_applicant()->set_phone("0912 345 678");
  r.set_summary("Đăng ký khai sinh cho con");
  r.mutable_received()->set_seconds(1752546000);
  r.mutable_due()->set_seconds(1752805800);
  r.set_handling_unit("UBND xã Tân Hưng");
  return r;
}

TEST(DossierRegistrationTest, ValidatesEachFieldWithoutRepeatingIt) {
  const absl::Time now = absl::FromUnixSeconds(1752546600);
  EXPECT_THAT(ValidateDossierRegistration(GoodRegistration(), now), IsOk());
  struct Case {
    const char* name;
    void (*spoil)(lienthong::v1::DossierRegistration&);
    const char* message;
  };
  const Case kCases[] = {
      {"no procedure name", [](auto& r) { r.set_procedure_name(" "); },
       "registration.procedure_name: required"},
      {"no field code", [](auto& r) { r.clear_field_code(); },
       "registration.field_code: required"},
      {"field code with a space", [](auto& r) { r.set_field_code("G09 TP05"); },
       "registration.field_code: only visible ASCII"},
      {"no field name", [](auto& r) { r.clear_field_name(); },
       "registration.field_name: required"},
      {"no summary", [](auto& r) { r.clear_summary(); },
       "registration.summary: required"},
      {"no handling unit", [](auto& r) { r.clear_handling_unit(); },
       "registration.handling_unit: required"},
      {"no applicant", [](auto& r) { r.clear_applicant(); },
       "registration.applicant.name: required"},
      {"applicant name too long",
       [](auto& r) { r.mutable_applicant()->set_name(std::string(300, 'a')); },
       "registration.applicant.name: longer than 256 bytes"},
      {"applicant name not UTF-8",
       [](auto& r) { r.mutable_applicant()->set_name("Tr\xffn"); },
       "registration.applicant.name: not valid UTF-8"},
      {"no applicant type",
       [](auto& r) { r.mutable_applicant()->clear_type(); },
       "registration.applicant.type: must be a citizen or an organisation"},
      {"applicant id with a quote",
       [](auto& r) { r.mutable_applicant()->set_id("0331'--"); },
       "registration.applicant.id: only letters"},
      {"bad e-mail",
       [](auto& r) { r.mutable_applicant()->set_email("mai at example.vn"); },
       "registration.applicant.email: not an e-mail address"},
      {"bad phone",
       [](auto& r) { r.mutable_applicant()->set_phone("09-12"); },
       "registration.applicant.phone: not a phone number"},
      {"no received", [](auto& r) { r.clear_received(); },
       "registration.received: required"},
      {"received ahead",
       [](auto& r) { r.mutable_received()->set_seconds(1752546600 + 3 * 86400); },
       "registration.received: more than a day"},
      {"returned bad nanos",
       [](auto& r) { r.mutable_returned()->set_nanos(1000000000); },
       "registration.returned: nanos"},
      {"note with a control character",
       [](auto& r) { r.set_note("a\ab"); },
       "registration.note: contains control characters"},
  };
  for (const Case& c : kCases) {
    lienthong::v1::DossierRegistration r = GoodRegistration();
    c.spoil(r);
    absl::Status s = ValidateDossierRegistration(r, now);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument,
                            HasSubstr(c.message)))
        << c.name;
    for (const char* value : {"Trần Thị Mai", "0912 345 678", "mai@example.vn",
                              "mai at example.vn", "09-12", "033185001234"}) {
      EXPECT_THAT(std::string(s.message()), ::testing::Not(HasSubstr(value)))
          << c.name;
    }
  }
  // An update checks the registration it carries.
  lienthong::v1::DossierStatusUpdate u = GoodUpdate();
  *u.mutable_registration() = GoodRegistration();
  EXPECT_THAT(ValidateDossierUpdate(u, now), IsOk());
  u.mutable_registration()->mutable_applicant()->set_email("x");
  EXPECT_THAT(ValidateDossierUpdate(u, now),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "registration.applicant.email: not an e-mail address"));
}

lienthong::v1::Procedure GoodProcedure() {
  lienthong::v1::Procedure p;
  p.set_code("1.001193.000.00.00.H31");
  p.set_name("Đăng ký khai sinh");
  p.set_level(lienthong::v1::SERVICE_LEVEL_FULLY_ONLINE);
  p.add_required_documents("Tờ khai đăng ký khai sinh");
  return p;
}

TEST(ProcedureTest, ValidatesEachField) {
  EXPECT_THAT(ValidateProcedure(GoodProcedure()), IsOk());
  struct Case {
    const char* name;
    void (*spoil)(lienthong::v1::Procedure&);
    const char* message;
  };
  const Case kCases[] = {
      {"no code", [](auto& p) { p.clear_code(); }, "code: "},
      {"no name", [](auto& p) { p.set_name("  "); }, "name: required"},
      {"provincial national code",
       [](auto& p) { p.set_national_code("1.001193.000.00.00.H31"); },
       "national_code: must be a national code"},
      {"no level",
       [](auto& p) { p.set_level(lienthong::v1::SERVICE_LEVEL_UNSPECIFIED); },
       "level: "},
      {"empty document", [](auto& p) { p.add_required_documents(""); },
       "required_documents[1]: empty"},
      {"long fees", [](auto& p) { p.set_fees(std::string(5000, 'x')); },
       "fees: longer"},
  };
  for (const Case& c : kCases) {
    lienthong::v1::Procedure p = GoodProcedure();
    c.spoil(p);
    EXPECT_THAT(ValidateProcedure(p),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr(c.message)))
        << c.name;
  }
}

}  // namespace
}  // namespace lienthong::sync
