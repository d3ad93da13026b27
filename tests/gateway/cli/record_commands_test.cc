#include "gateway/cli/record_commands.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/cli/run_cli.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::cli {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::lienthong::cli::testing::CliResult;
using ::lienthong::cli::testing::RunLienthong;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

RecordGetArgs Good() {
  RecordGetArgs args;
  args.record_type = "enterprise";
  args.parameters = {"tax_code=0101234567", "branch=Hà Nội=1"};
  args.purpose = "2.001610";
  args.dossier_id = "000.00.01.H31-250715-00123";
  args.fields = "name, status";
  args.officer = {"001085004321", "000.00.31.H31", "nguyenvana"};
  return args;
}

TEST(RecordCommandsTest, BuildsTheRequest) {
  auto request = BuildRecordRequest(Good());
  ASSERT_THAT(request, IsOk());
  EXPECT_EQ(request->record_type(), "enterprise");
  EXPECT_THAT(request->parameters(),
              UnorderedElementsAre(Pair("tax_code", "0101234567"),
                                   Pair("branch", "Hà Nội=1")));
  EXPECT_THAT(request->fields(), ::testing::ElementsAre("name", "status"));
  EXPECT_EQ(request->officer().unit_code(), "000.00.31.H31");
}

TEST(RecordCommandsTest, RefusesWhatCannotBeARequest) {
  RecordGetArgs no_equals = Good();
  no_equals.parameters = {"0101234567"};
  EXPECT_THAT(BuildRecordRequest(no_equals),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("name=value")));
  RecordGetArgs no_name = Good();
  no_name.parameters = {"=0101234567"};
  EXPECT_THAT(BuildRecordRequest(no_name),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("name=value")));
  RecordGetArgs twice = Good();
  twice.parameters = {"tax_code=1", "tax_code=2"};
  EXPECT_THAT(BuildRecordRequest(twice),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("'tax_code' is given twice")));
  RecordGetArgs no_officer = Good();
  no_officer.officer = {};
  EXPECT_THAT(BuildRecordRequest(no_officer),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("officer")));
}

TEST(RecordCommandsTest, FormatsTheRecord) {
  lienthong::v1::Record record;
  record.set_record_type("enterprise");
  auto* field = record.add_fields();
  field->set_name("name");
  field->set_value("Công ty A");
  record.set_source_system("business-registry");
  const std::string text = FormatRecord(record);
  EXPECT_THAT(text, HasSubstr("enterprise"));
  EXPECT_THAT(text, HasSubstr("Công ty A"));
  EXPECT_THAT(text, HasSubstr("business-registry"));
}

TEST(RecordCommandsTest, HelpNamesTheCommand) {
  CliResult result = RunLienthong({"record", "get", "--help"});
  EXPECT_EQ(result.code, 0);
  EXPECT_THAT(result.out, HasSubstr("tax_code=0101234567"));
  EXPECT_THAT(result.out, HasSubstr("--purpose"));
}

}  // namespace
}  // namespace lienthong::cli
