// Tests of what one record may hold in the CSV catalogue reader
// (catalogue_rows_csv.cc): more fields or a longer field than the limits in
// catalogue_rows.h is a file problem naming the line and nothing of the
// file's text; a record with the wrong number of fields keeps one quote
// problem, not one a field.
#include <cstddef>
#include <string>

#include "absl/strings/str_cat.h"
#include "gateway/cli/catalogue.h"
#include "gateway/cli/catalogue_rows.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::cli {
namespace {

using ::lienthong::cli::catalogue_internal::kMaxCsvFieldBytes;
using ::lienthong::cli::catalogue_internal::kMaxCsvFields;
using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

// The header (line 1) and one good row (line 2).
constexpr char kHead[] =
    "code,name,level,required_documents\n"
    "1.001193.000.00.00.H31,Đăng ký khai sinh,fully_online,Tờ khai\n";
constexpr char kCode2[] = "2.000123.000.00.00.H31";

absl::StatusOr<Catalogue> ParseCsv(const std::string& text) {
  return ParseCatalogue(text, CatalogueFormat::kCsv);
}

// `count` fields of "0912345678" (a phone number), joined by ','.
std::string Fields(size_t count) {
  std::string record;
  for (size_t i = 0; i < count; ++i) {
    absl::StrAppend(&record, i == 0 ? "" : ",", "0912345678");
  }
  return record;
}

TEST(CatalogueRowsCsvTest, ARecordOfMoreThanTheMostFieldsIsAFileProblem) {
  ASSERT_EQ(kMaxCsvFields, 1000u);
  // At the limit: a row with the wrong number of fields, as ever.
  absl::StatusOr<Catalogue> at_limit =
      ParseCsv(absl::StrCat(kHead, Fields(kMaxCsvFields), "\n"));
  ASSERT_THAT(at_limit, IsOk());
  ASSERT_EQ(at_limit->errors.size(), 1u);
  EXPECT_EQ(at_limit->errors[0].row, 3);
  EXPECT_EQ(at_limit->errors[0].message, "has 1000 fields, the header has 4");
  // One more, on line 3 or at the end of the file, in the header, or
  // millions: reading stops there, naming the line and none of the values.
  const std::string one_more = Fields(kMaxCsvFields + 1);
  const struct {
    std::string text;
    const char* message;
  } kCases[] = {
      {absl::StrCat(kHead, one_more, "\n", kCode2, ",Tên,fully_online,\n"),
       "line 3: more than 1000 fields"},
      {absl::StrCat(kHead, Fields(kMaxCsvFields), ","),
       "line 3: more than 1000 fields"},
      {absl::StrCat(kHead, "\n\n", std::string(5'000'000, ','), "\n"),
       "line 5: more than 1000 fields"},
      {absl::StrCat(one_more, "\n", kHead), "line 1: more than 1000 fields"},
  };
  for (const auto& c : kCases) {
    EXPECT_THAT(ParseCsv(c.text),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr(c.message), Not(HasSubstr("091")))))
        << c.message;
  }
}

TEST(CatalogueRowsCsvTest, AFieldLongerThanTheMostIsAFileProblem) {
  ASSERT_EQ(kMaxCsvFieldBytes, size_t{1} << 20);
  const std::string longest(kMaxCsvFieldBytes, '9');
  // At the limit: a row problem of its own.
  absl::StatusOr<Catalogue> at_limit =
      ParseCsv(absl::StrCat(kHead, kCode2, ",", longest, ",fully_online,\n"));
  ASSERT_THAT(at_limit, IsOk());
  ASSERT_EQ(at_limit->errors.size(), 1u);
  EXPECT_THAT(at_limit->errors[0].message, HasSubstr("name: too long"));
  // One byte more, quoted or not, on the line the record starts on.
  const std::string longer = longest + "9";
  const struct {
    std::string text;
    const char* message;
  } kCases[] = {
      {absl::StrCat(kHead, kCode2, ",", longer, ",fully_online,\n"),
       "line 3: field 2 is longer than 1 MiB"},
      {absl::StrCat(kHead, kCode2, ",\"", longer, "\",fully_online,\n"),
       "line 3: field 2 is longer than 1 MiB"},
      {absl::StrCat(kHead, kCode2, ",Tên,fully_online,\"a\n", longer, "\"\n"),
       "line 3: field 4 is longer than 1 MiB"},
  };
  for (const auto& c : kCases) {
    EXPECT_THAT(ParseCsv(c.text),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr(c.message), Not(HasSubstr("999")))))
        << c.message;
  }
  // A quote never closed still says so, however much it swallows.
  absl::StatusOr<Catalogue> unclosed = ParseCsv(
      absl::StrCat(kHead, kCode2, ",\"Tên,fully_online,\n", longer, "\n"));
  ASSERT_THAT(unclosed, IsOk());
  ASSERT_EQ(unclosed->errors.size(), 1u);
  EXPECT_THAT(unclosed->errors[0].message,
              HasSubstr("the quote that opens field 2 on line 3 is never "
                        "closed"));
}

// The longest valid cell, a list of 200 entries of 1000 characters of 3
// bytes each ("ệ", U+1EC7), is well within the field limit.
TEST(CatalogueRowsCsvTest, TheLongestValidListCellIsRead) {
  std::string entry;
  for (int i = 0; i < kMaxListEntryLength; ++i) entry += "\xE1\xBB\x87";
  std::string cell;
  for (int i = 0; i < kMaxListEntries; ++i) {
    absl::StrAppend(&cell, i == 0 ? "" : ";", entry);
  }
  absl::StatusOr<Catalogue> catalogue = ParseCsv(
      absl::StrCat(kHead, kCode2, ",Tên,fully_online,\"", cell, "\"\n"));
  ASSERT_THAT(catalogue, IsOk());
  EXPECT_TRUE(catalogue->errors.empty()) << catalogue->errors[0].message;
  ASSERT_EQ(catalogue->procedures.size(), 2u);
  EXPECT_EQ(catalogue->procedures[1].required_documents_size(),
            kMaxListEntries);
}

// A record with the wrong number of fields keeps its first quote problem
// (often the reason) and the count, not one problem a field.
TEST(CatalogueRowsCsvTest, AWrongFieldCountKeepsOnlyTheFirstQuoteProblem) {
  std::string record = kCode2;
  for (int i = 0; i < 500; ++i) absl::StrAppend(&record, ",x\"y");
  absl::StatusOr<Catalogue> catalogue =
      ParseCsv(absl::StrCat(kHead, record, "\n"));
  ASSERT_THAT(catalogue, IsOk());
  ASSERT_EQ(catalogue->errors.size(), 2u);
  EXPECT_EQ(catalogue->errors[0].row, 3);
  EXPECT_THAT(catalogue->errors[0].message,
              HasSubstr("field 2: a quote inside an unquoted field"));
  EXPECT_EQ(catalogue->errors[1].message, "has 501 fields, the header has 4");
  // With the right number, every one is kept.
  absl::StatusOr<Catalogue> two =
      ParseCsv(absl::StrCat(kHead, kCode2, ",T\"ên,fully_online,T\"ờ khai\n"));
  ASSERT_THAT(two, IsOk());
  EXPECT_EQ(two->errors.size(), 2u);
}

}  // namespace
}  // namespace lienthong::cli
