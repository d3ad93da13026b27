#include "gateway/validation/records.h"

#include <string>
#include <utility>

#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_officer.h"

namespace lienthong::validation {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::lienthong::v1::GetRecordRequest;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

const absl::Time kNow =
    absl::FromCivil(absl::CivilSecond(2025, 11, 27, 12, 0, 0),
                    absl::FixedTimeZone(7 * 60 * 60));

adapters::RecordType Enterprise() {
  return {"enterprise",
          {{"tax_code", "[0-9]{10}(-[0-9]{3})?", true},
           {"branch", "", false}},
          {"name", "status", "address", "legal_representative"}};
}

std::unique_ptr<const RecordSchema> Schema() {
  auto schema = RecordSchema::Create(Enterprise());
  EXPECT_THAT(schema, IsOk());
  return *std::move(schema);
}

GetRecordRequest Good() {
  GetRecordRequest r;
  r.set_record_type("enterprise");
  (*r.mutable_parameters())["tax_code"] = "0101234567";
  r.set_purpose("1.001193");
  r.set_dossier_id("000.00.01.H31-251127-00042");
  *r.mutable_officer() = testing::TestOfficer();
  return r;
}

struct DeclarationCase {
  const char* what;
  void (*spoil)(adapters::RecordType&);
  const char* error;
};

const DeclarationCase kDeclarations[] = {
    {"bad type name", [](adapters::RecordType& t) { t.name = "Enterprise"; },
     "record type name 'Enterprise' must be"},
    {"no parameter", [](adapters::RecordType& t) { t.parameters.clear(); },
     "declares no parameter"},
    {"no field", [](adapters::RecordType& t) { t.fields.clear(); },
     "declares no field"},
    {"repeated field",
     [](adapters::RecordType& t) { t.fields.push_back("name"); },
     "field 'name' is repeated"},
    {"bad parameter name",
     [](adapters::RecordType& t) { t.parameters[0].name = "tax-code"; },
     "parameter 'tax-code' must be"},
    {"pattern does not compile",
     [](adapters::RecordType& t) { t.parameters[0].pattern = "[0-9"; },
     "pattern of parameter 'tax_code' does not compile"},
};

TEST(RecordSchemaTest, DeclarationsAreChecked) {
  EXPECT_THAT(RecordSchema::Create(Enterprise()), IsOk());
  for (const DeclarationCase& c : kDeclarations) {
    adapters::RecordType type = Enterprise();
    c.spoil(type);
    EXPECT_THAT(RecordSchema::Create(type),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.error)))
        << c.what;
  }
}

struct RequestCase {
  const char* what;
  void (*spoil)(GetRecordRequest&);
  const char* error;  // nullptr: valid
};

const RequestCase kRequests[] = {
    {"good", [](GetRecordRequest&) {}, nullptr},
    {"branch form", [](GetRecordRequest& r) {
       (*r.mutable_parameters())["tax_code"] = "0101234567-001";
     }, nullptr},
    {"optional parameter given", [](GetRecordRequest& r) {
       (*r.mutable_parameters())["branch"] = "Chi nhánh Hưng Yên";
     }, nullptr},
    {"fields asked", [](GetRecordRequest& r) {
       r.add_fields("name");
       r.add_fields("status");
     }, nullptr},
    {"required parameter missing",
     [](GetRecordRequest& r) { r.mutable_parameters()->erase("tax_code"); },
     "parameters.tax_code is required by record type 'enterprise'"},
    {"required parameter empty",
     [](GetRecordRequest& r) { (*r.mutable_parameters())["tax_code"] = ""; },
     "parameters.tax_code is required"},
    {"pattern not matched (partial match is not enough)",
     [](GetRecordRequest& r) {
       (*r.mutable_parameters())["tax_code"] = "0101234567x";
     },
     "parameters.tax_code does not have the form"},
    {"unknown parameter",
     [](GetRecordRequest& r) { (*r.mutable_parameters())["owner_id"] = "1"; },
     "'owner_id' is not a parameter of record type 'enterprise'"},
    {"malformed parameter name",
     [](GetRecordRequest& r) { (*r.mutable_parameters())["a b"] = "1"; },
     "a parameter name is malformed"},
    {"too long", [](GetRecordRequest& r) {
       (*r.mutable_parameters())["branch"] = std::string(257, 'a');
     }, "parameters.branch: longer than 256 bytes"},
    {"control character", [](GetRecordRequest& r) {
       (*r.mutable_parameters())["branch"] = "a\nb";
     }, "parameters.branch: contains control characters"},
    {"not UTF-8", [](GetRecordRequest& r) {
       (*r.mutable_parameters())["branch"] = "H\xe0 N\xe1";
     }, "parameters.branch: not valid UTF-8"},
    {"no purpose", [](GetRecordRequest& r) { r.clear_purpose(); },
     "purpose is required"},
    {"bad dossier", [](GetRecordRequest& r) { r.set_dossier_id("a b"); },
     "dossier_id"},
    {"no officer", [](GetRecordRequest& r) { r.clear_officer(); },
     "officer is required"},
    {"unknown field", [](GetRecordRequest& r) { r.add_fields("owner"); },
     "fields[0]: 'owner' is not a field of record type 'enterprise'"},
    {"repeated field", [](GetRecordRequest& r) {
       r.add_fields("name");
       r.add_fields("name");
     }, "fields[1]: 'name' is repeated"},
};

TEST(ValidateGetRecordTest, Table) {
  auto schema = Schema();
  for (const RequestCase& c : kRequests) {
    GetRecordRequest r = Good();
    c.spoil(r);
    if (c.error == nullptr) {
      EXPECT_THAT(ValidateGetRecord(r, *schema, kNow), IsOk()) << c.what;
    } else {
      EXPECT_THAT(ValidateGetRecord(r, *schema, kNow),
                  StatusIs(absl::StatusCode::kInvalidArgument,
                           HasSubstr(c.error)))
          << c.what;
    }
  }
}

TEST(ValidateGetRecordTest, ValuesAreNeverEchoed) {
  auto schema = Schema();
  GetRecordRequest r = Good();
  (*r.mutable_parameters())["tax_code"] = "SECRET-VALUE-9";
  absl::Status status = ValidateGetRecord(r, *schema, kNow);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument,
                               AllOf(HasSubstr("tax_code"),
                                     Not(HasSubstr("SECRET")))));
}

TEST(ValidateRecordNameTest, LowerCaseDigitsAndUnderscore) {
  EXPECT_THAT(ValidateRecordName("enterprise_2", "record_type"), IsOk());
  EXPECT_THAT(ValidateRecordName("", "record_type"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("record_type is required")));
  for (const char* bad : {"Enterprise", "a-b", "a.b", "dữ_liệu"}) {
    EXPECT_THAT(ValidateRecordName(bad, "record_type"),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr("record_type must be"),
                               Not(HasSubstr(bad)))))
        << bad;
  }
  EXPECT_THAT(ValidateRecordName(std::string(65, 'a'), "record_type"),
              Not(IsOk()));
}

}  // namespace
}  // namespace lienthong::validation
