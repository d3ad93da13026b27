#include "gateway/cli/catalogue.h"

#include <cstdlib>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "gateway/sync/procedure_plan.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::cli {

// Readable failures.
void PrintTo(const CatalogueRowError& error, std::ostream* os) {
  *os << FormatCatalogueRowError(error);
}

namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::lienthong::v1::Procedure;
using ::lienthong::v1::ServiceLevel;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

constexpr char kCsvHeader[] = "code,name,level\n";
constexpr char kCode1[] = "1.001193.000.00.00.H31";
constexpr char kCode2[] = "2.000123.000.00.00.H31";

// Matches a CatalogueRowError with this row and a message containing
// `message`.
auto RowError(int row, const std::string& message) {
  return AllOf(Field(&CatalogueRowError::row, row),
               Field(&CatalogueRowError::message, HasSubstr(message)));
}

// "row: message" for every error, to show in failures.
std::string Describe(const Catalogue& catalogue) {
  std::vector<std::string> lines;
  for (const CatalogueRowError& e : catalogue.errors) {
    lines.push_back(FormatCatalogueRowError(e));
  }
  return absl::StrJoin(lines, "\n");
}

// ---------------------------------------------------------------------------
// Codes and levels.

TEST(ParseServiceLevelTest, Spellings) {
  struct Case {
    const char* text;
    ServiceLevel level;
  };
  const Case kCases[] = {
      {"fully_online", lienthong::v1::SERVICE_LEVEL_FULLY_ONLINE},
      {"FULLY_ONLINE", lienthong::v1::SERVICE_LEVEL_FULLY_ONLINE},
      {"fully-online", lienthong::v1::SERVICE_LEVEL_FULLY_ONLINE},
      {" Fully online ", lienthong::v1::SERVICE_LEVEL_FULLY_ONLINE},
      {"TOAN_TRINH", lienthong::v1::SERVICE_LEVEL_FULLY_ONLINE},
      {"toan trinh", lienthong::v1::SERVICE_LEVEL_FULLY_ONLINE},
      {"Toàn trình", lienthong::v1::SERVICE_LEVEL_FULLY_ONLINE},
      {"TOÀN TRÌNH", lienthong::v1::SERVICE_LEVEL_FULLY_ONLINE},
      // Decomposed (NFD): "a" + combining grave, "i" + combining grave.
      {"Toa\xCC\x80n tri\xCC\x80nh", lienthong::v1::SERVICE_LEVEL_FULLY_ONLINE},
      {"partly_online", lienthong::v1::SERVICE_LEVEL_PARTLY_ONLINE},
      {"MOT_PHAN", lienthong::v1::SERVICE_LEVEL_PARTLY_ONLINE},
      {"mot-phan", lienthong::v1::SERVICE_LEVEL_PARTLY_ONLINE},
      {"Một phần", lienthong::v1::SERVICE_LEVEL_PARTLY_ONLINE},
  };
  for (const Case& c : kCases) {
    absl::StatusOr<ServiceLevel> level = ParseServiceLevel(c.text);
    ASSERT_THAT(level, IsOk()) << c.text;
    EXPECT_EQ(*level, c.level) << c.text;
  }
  for (const char* bad : {"", "online", "fully", "4", "FULLY_ONLINE_X",
                          "SERVICE_LEVEL_FULLY_ONLINE", "\xC3\x28"}) {
    EXPECT_THAT(ParseServiceLevel(bad),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("expected fully_online, partly_online")))
        << bad;
  }
}

TEST(CatalogueFormatFromPathTest, ByExtension) {
  EXPECT_EQ(*CatalogueFormatFromPath("a/catalogue.json"),
            CatalogueFormat::kJson);
  EXPECT_EQ(*CatalogueFormatFromPath("CATALOGUE.JSON"), CatalogueFormat::kJson);
  EXPECT_EQ(*CatalogueFormatFromPath("catalogue.csv"), CatalogueFormat::kCsv);
  EXPECT_EQ(*CatalogueFormatFromPath("x.Csv"), CatalogueFormat::kCsv);
  for (const char* bad :
       {"catalogue.xlsx", "catalogue", "json", "a.json.bak"}) {
    EXPECT_THAT(CatalogueFormatFromPath(bad),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr(".json or .csv")))
        << bad;
  }
}

// ---------------------------------------------------------------------------
// Good files.

Procedure FullProcedure() {
  Procedure p;
  p.set_code(kCode1);
  p.set_name("Đăng ký khai sinh");
  p.set_field("Hộ tịch");
  p.set_authority_level("Cấp xã");
  p.set_level(lienthong::v1::SERVICE_LEVEL_FULLY_ONLINE);
  p.set_implementing_agency("Ủy ban nhân dân cấp xã");
  p.set_processing_time("Trong ngày làm việc");
  p.set_fees("Miễn phí");
  p.add_required_documents("Tờ khai đăng ký khai sinh (theo mẫu)");
  p.add_required_documents("Giấy chứng sinh");
  p.add_legal_basis("Luật Hộ tịch 2014");
  return p;
}

void ExpectProcedures(const Catalogue& catalogue,
                      const std::vector<Procedure>& expected) {
  ASSERT_THAT(catalogue.errors, IsEmpty()) << Describe(catalogue);
  ASSERT_EQ(catalogue.procedures.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
        catalogue.procedures[i], expected[i]))
        << "procedure " << i << ":\n"
        << catalogue.procedures[i].DebugString() << "expected:\n"
        << expected[i].DebugString();
  }
}

TEST(ParseCatalogueTest, JsonArrayAndObjectFormsAreTheSame) {
  constexpr char kProcedure[] = R"json({
      "code": "1.001193.000.00.00.H31",
      "name": "Đăng ký khai sinh",
      "field": "Hộ tịch",
      "authority_level": "Cấp xã",
      "level": "fully_online",
      "implementing_agency": "Ủy ban nhân dân cấp xã",
      "processing_time": "Trong ngày làm việc",
      "fees": "Miễn phí",
      "required_documents": ["Tờ khai đăng ký khai sinh (theo mẫu)",
                             "Giấy chứng sinh"],
      "legal_basis": ["Luật Hộ tịch 2014"]
    })json";
  for (const std::string& text :
       {absl::StrCat("[", kProcedure, "]"),
        absl::StrCat("{\"procedures\": [", kProcedure, "]}\n"),
        absl::StrCat("\xEF\xBB\xBF [", kProcedure, "]")}) {
    absl::StatusOr<Catalogue> catalogue =
        ParseCatalogue(text, CatalogueFormat::kJson);
    ASSERT_THAT(catalogue, IsOk());
    EXPECT_EQ(catalogue->format, CatalogueFormat::kJson);
    EXPECT_EQ(catalogue->rows, 1);
    ExpectProcedures(*catalogue, {FullProcedure()});
    EXPECT_THAT(catalogue->procedure_rows, ElementsAre(1));
  }
}

TEST(ParseCatalogueTest, JsonNormalisesText) {
  // The name arrives decomposed (NFD, as some Mac tools write it), with
  // spaces around it; escapes are decoded; null is a missing key; the
  // portal's key names are accepted; empty list entries are dropped.
  constexpr char kJson[] = R"([{
      "MaTTHC": "1.001193.000.00.00.H31",
      "TenTTHC": "  \u0110a\u0306ng ky\u0301 khai sinh ",
      "MucDo": "TOAN_TRINH",
      "CoQuanThucHien": null,
      "ThanhPhanHoSo": ["Gi\u1ea5y ch\u1ee9ng sinh", " ", ""],
      "legal_basis": [],
      "fees": "L\u1ec7 ph\u00ed:\r\n8.000 \u0111\u1ed3ng"
    }])";
  absl::StatusOr<Catalogue> catalogue =
      ParseCatalogue(kJson, CatalogueFormat::kJson);
  ASSERT_THAT(catalogue, IsOk());
  Procedure expected;
  expected.set_code(kCode1);
  expected.set_name("Đăng ký khai sinh");  // NFC
  expected.set_level(lienthong::v1::SERVICE_LEVEL_FULLY_ONLINE);
  expected.add_required_documents("Giấy chứng sinh");
  expected.set_fees("Lệ phí:\n8.000 đồng");
  ExpectProcedures(*catalogue, {expected});
}

TEST(ParseCatalogueTest, JsonDecodesEveryEscape) {
  constexpr char kJson[] = R"([{
      "code": "1.001193.000.00.00.H31", "name": "Khai sinh",
      "level": "fully_online",
      "fees": "a\"b\\c\/d\te\nf \ud83d\ude00 \u00e0"
    }])";
  absl::StatusOr<Catalogue> catalogue =
      ParseCatalogue(kJson, CatalogueFormat::kJson);
  ASSERT_THAT(catalogue, IsOk());
  ASSERT_EQ(catalogue->procedures.size(), 1u) << Describe(*catalogue);
  EXPECT_EQ(catalogue->procedures[0].fees(), "a\"b\\c/d\te\nf 😀 à");
  // \b and \f decode to control characters, which a value may not hold
  // (inside it: at its ends they are trimmed as white space).
  for (const char* escape : {"\\b", "\\f"}) {
    const std::string json =
        absl::StrCat(R"([{"code": "1.001193.000.00.00.H31", "name": "x)",
                     escape, R"(y", "level": "fully_online"}])");
    catalogue = ParseCatalogue(json, CatalogueFormat::kJson);
    ASSERT_THAT(catalogue, IsOk());
    EXPECT_THAT(catalogue->errors,
                ElementsAre(RowError(1, "name: control character U+000")))
        << escape;
  }
}

TEST(ParseCatalogueTest, CsvWithEveryColumn) {
  constexpr char kCsv[] =
      "code,name,field,authority_level,level,implementing_agency,"
      "processing_time,fees,required_documents,legal_basis\n"
      "1.001193.000.00.00.H31,Đăng ký khai sinh,Hộ tịch,Cấp xã,fully_online,"
      "Ủy ban nhân dân cấp xã,Trong ngày làm việc,Miễn phí,"
      "Tờ khai đăng ký khai sinh (theo mẫu);Giấy chứng sinh,"
      "Luật Hộ tịch 2014\n";
  absl::StatusOr<Catalogue> catalogue =
      ParseCatalogue(kCsv, CatalogueFormat::kCsv);
  ASSERT_THAT(catalogue, IsOk());
  EXPECT_EQ(catalogue->format, CatalogueFormat::kCsv);
  ExpectProcedures(*catalogue, {FullProcedure()});
  EXPECT_THAT(catalogue->procedure_rows, ElementsAre(2));
}

TEST(ParseCatalogueTest, CsvQuotingBomLineEndsAndHeaderSpelling) {
  // A byte-order mark, CRLF line ends, columns in another order and case
  // (one under the portal's name), quoted fields with commas, doubled
  // quotes and a line break, blank lines and a line of only commas, list
  // entries with spaces and an empty one, and no newline at the end.
  constexpr char kCsv[] =
      "\xEF\xBB\xBF"
      " Level ,CODE,TenTTHC,fees,required_documents\r\n"
      "\r\n"
      "MOT_PHAN,1.001193.000.00.00.H31,\"Đăng ký nhận cha, mẹ, con\","
      "\"Lệ phí: 8.000 đồng/bản,\r\nphí: 2.000 đồng/trang\","
      "\" Tờ khai ; ;Giấy tờ \"\"chứng minh\"\"\"\r\n"
      ",,,,\n"
      "partly_online,2.000123.000.00.00.H31,\"Xét tặng \"\"Gia đình văn "
      "hóa\"\"\",,";
  absl::StatusOr<Catalogue> catalogue =
      ParseCatalogue(kCsv, CatalogueFormat::kCsv);
  ASSERT_THAT(catalogue, IsOk());
  Procedure first;
  first.set_code(kCode1);
  first.set_name("Đăng ký nhận cha, mẹ, con");
  first.set_level(lienthong::v1::SERVICE_LEVEL_PARTLY_ONLINE);
  first.set_fees("Lệ phí: 8.000 đồng/bản,\nphí: 2.000 đồng/trang");
  first.add_required_documents("Tờ khai");
  first.add_required_documents("Giấy tờ \"chứng minh\"");
  Procedure second;
  second.set_code(kCode2);
  second.set_name("Xét tặng \"Gia đình văn hóa\"");
  second.set_level(lienthong::v1::SERVICE_LEVEL_PARTLY_ONLINE);
  ExpectProcedures(*catalogue, {first, second});
  EXPECT_EQ(catalogue->rows, 2);
  // The header is line 1; the first record starts on line 3, and its quoted
  // line break puts the second on line 6.
  EXPECT_THAT(catalogue->procedure_rows, ElementsAre(3, 6));
}

// ---------------------------------------------------------------------------
// Bad rows: each kind, with the row it is reported on.

struct BadRowCase {
  const char* name;
  CatalogueFormat format;
  std::string text;
  int row;
  const char* message;
};

std::vector<BadRowCase> BadRowCases() {
  const std::string h = kCsvHeader;
  const std::string good = absl::StrCat(kCode1, ",Tên,fully_online\n");
  auto json = [](const std::string& object) {
    return absl::StrCat(
        "[\n  {\"code\": \"1.001193.000.00.00.H31\", \"name\": \"A\", "
        "\"level\": \"MOT_PHAN\"},\n  ",
        object, "\n]");
  };
  const std::string long_name(kMaxProcedureNameLength + 1, 'a');
  // 1400 characters, under the character limit; 4200 bytes, over the
  // byte limit.
  std::string wide_fees;
  for (int i = 0; i < 1400; ++i) wide_fees += "ế";
  std::string many_documents;
  for (int i = 0; i <= kMaxListEntries; ++i) {
    absl::StrAppend(&many_documents, i == 0 ? "" : ";", "d", i);
  }
  return {
      {"csv missing code", CatalogueFormat::kCsv,
       h + good + ",Tên,fully_online\n", 3, "missing code"},
      {"csv blank code", CatalogueFormat::kCsv,
       h + good + "  ,Tên,fully_online\n", 3, "missing code"},
      {"csv malformed code", CatalogueFormat::kCsv,
       h + good + "1.001193,Tên,fully_online\n", 3,
       "malformed code \"1.001193\": a national base code"},
      {"csv duplicate code", CatalogueFormat::kCsv, h + good + good, 3,
       "duplicate code 1.001193.000.00.00.H31 (first at row 2)"},
      {"csv missing name", CatalogueFormat::kCsv,
       h + good + "2.000123.000.00.00.H31,,fully_online\n", 3, "missing name"},
      {"csv missing level", CatalogueFormat::kCsv,
       h + good + "2.000123.000.00.00.H31,Tên,\n", 3, "missing level"},
      {"csv wrong level", CatalogueFormat::kCsv,
       h + good + "2.000123.000.00.00.H31,Tên,muc do 4\n", 3,
       "wrong level \"muc do 4\": expected fully_online"},
      {"csv broken UTF-8 in the name", CatalogueFormat::kCsv,
       h + good + "2.000123.000.00.00.H31,Đăng k\xC3\xBD\xC3,fully_online\n", 3,
       "name: invalid UTF-8 at byte 11 of the value (0xC3)"},
      {"csv Latin-1 byte in the code", CatalogueFormat::kCsv,
       h + good + "2.000123.000.00.00.H31\xA0,Tên,fully_online\n", 3,
       "code: invalid UTF-8 at byte 23"},
      {"csv overlong UTF-8 encoding", CatalogueFormat::kCsv,
       h + good + "2.000123.000.00.00.H31,\xC0\xAF,fully_online\n", 3,
       "name: invalid UTF-8 at byte 1"},
      {"csv encoded surrogate", CatalogueFormat::kCsv,
       h + good + "2.000123.000.00.00.H31,\xED\xA0\x80,fully_online\n", 3,
       "name: invalid UTF-8 at byte 1"},
      {"csv name too long", CatalogueFormat::kCsv,
       h + good + "2.000123.000.00.00.H31," + long_name + ",fully_online\n", 3,
       "name: too long, 1001 characters (at most 1000)"},
      {"csv fees too long in bytes", CatalogueFormat::kCsv,
       absl::StrCat("code,name,level,fees\n", kCode1, ",Tên,fully_online,",
                    wide_fees, "\n"),
       2, "fees: too long, 4200 bytes in UTF-8 (at most 4000)"},
      {"csv too many documents", CatalogueFormat::kCsv,
       absl::StrCat("code,name,level,required_documents\n", kCode1,
                    ",Tên,fully_online,", many_documents, "\n"),
       2, "required_documents: 201 entries (at most 200)"},
      {"csv control character", CatalogueFormat::kCsv,
       h + good + "2.000123.000.00.00.H31,\"Tên\rmới\",fully_online\n", 3,
       "name: control character U+000D at character 4"},
      {"csv line break in a single-line field", CatalogueFormat::kCsv,
       h + good + "2.000123.000.00.00.H31,\"Tên\nmới\",fully_online\n", 3,
       "name: control character U+000A"},
      {"csv C1 control", CatalogueFormat::kCsv,
       h + good + "2.000123.000.00.00.H31,T\xC2\x85n,fully_online\n", 3,
       "name: control character U+0085 at character 2"},
      {"csv bidirectional override", CatalogueFormat::kCsv,
       h + good + "2.000123.000.00.00.H31,T\xE2\x80\xAEn,fully_online\n", 3,
       "name: control character U+202E at character 2"},
      {"csv too few fields", CatalogueFormat::kCsv,
       h + good + "2.000123.000.00.00.H31,Tên\n", 3,
       "has 2 fields, the header has 3"},
      {"csv too many fields", CatalogueFormat::kCsv,
       h + good + "2.000123.000.00.00.H31,Tên, Hà Nội,fully_online\n", 3,
       "has 4 fields, the header has 3"},
      {"csv stray quote", CatalogueFormat::kCsv,
       h + good + "2.000123.000.00.00.H31,Tên \"x\",fully_online\n", 3,
       "field 2: a quote inside an unquoted field"},
      {"csv text after the closing quote", CatalogueFormat::kCsv,
       h + good + "2.000123.000.00.00.H31,\"Tên\" x,fully_online\n", 3,
       "field 2: text after the closing quote"},
      {"csv unclosed quote", CatalogueFormat::kCsv,
       h + good + "2.000123.000.00.00.H31,\"Tên,fully_online\n" + good, 3,
       "the quote that opens field 2 on line 3 is never closed"},

      {"json missing code", CatalogueFormat::kJson,
       json(R"({"name": "Tên", "level": "fully_online"})"), 2, "missing code"},
      {"json null code", CatalogueFormat::kJson,
       json(R"({"code": null, "name": "Tên", "level": "fully_online"})"), 2,
       "missing code"},
      {"json duplicate code", CatalogueFormat::kJson,
       json(R"({"code": "1.001193.000.00.00.H31", "name": "B",
               "level": "MOT_PHAN"})"),
       2, "duplicate code 1.001193.000.00.00.H31 (first at row 1)"},
      {"json code is a number", CatalogueFormat::kJson,
       json(R"({"code": 1.001193, "name": "Tên", "level": "fully_online"})"), 2,
       "code: expected a string, got a number"},
      {"json unknown key", CatalogueFormat::kJson,
       json(R"({"code": "2.000123.000.00.00.H31", "name": "Tên",
               "level": "fully_online", "nmae": "x"})"),
       2, "unknown key \"nmae\""},
      // A key's control characters are escaped: C1 (CSI) and a
      // right-to-left override would act on the terminal or turn the text.
      {"json unknown key with control characters", CatalogueFormat::kJson,
       json("{\"code\": \"2.000123.000.00.00.H31\", \"name\": \"Tên\", "
            "\"level\": \"fully_online\", \"\\u202Ecode\\u009B2J\\u001B\": 1}"),
       2, "unknown key \"\\u202Ecode\\u009B2J\\x1B\""},
      {"json repeated key", CatalogueFormat::kJson,
       json(R"({"code": "2.000123.000.00.00.H31", "name": "Tên",
               "name": "Tên 2", "level": "fully_online"})"),
       2, "key \"name\" appears twice"},
      {"json key and its portal name", CatalogueFormat::kJson,
       json(R"({"code": "2.000123.000.00.00.H31", "name": "Tên",
               "TenTTHC": "Tên 2", "level": "fully_online"})"),
       2, "keys \"name\" and \"TenTTHC\" are the same field"},
      {"json list is a string", CatalogueFormat::kJson,
       json(R"({"code": "2.000123.000.00.00.H31", "name": "Tên",
               "level": "fully_online", "legal_basis": "Luật"})"),
       2, "legal_basis: expected an array of strings, got a string"},
      {"json list entry is a number", CatalogueFormat::kJson,
       json(R"({"code": "2.000123.000.00.00.H31", "name": "Tên",
               "level": "fully_online", "legal_basis": ["Luật", 2014]})"),
       2, "legal_basis entry 2: expected a string, got a number"},
      {"json not an object", CatalogueFormat::kJson,
       json(R"("1.001193.000.00.00.H31")"), 2,
       "expected an object, got a string"},
      {"json broken UTF-8", CatalogueFormat::kJson,
       json("{\"code\": \"2.000123.000.00.00.H31\", \"name\": \"T\xE1\xBA\","
            " \"level\": \"fully_online\"}"),
       2, "name: invalid UTF-8 at byte 2"},
      {"json lone surrogate escape", CatalogueFormat::kJson,
       json(R"({"code": "2.000123.000.00.00.H31", "name": "T\ud800x",
               "level": "fully_online"})"),
       2, "name: invalid UTF-8 at byte 2"},
      {"json wrong level", CatalogueFormat::kJson,
       json(R"({"code": "2.000123.000.00.00.H31", "name": "Tên",
               "level": "Mức độ 4"})"),
       2, "wrong level \"Mức độ 4\""},
  };
}

TEST(ParseCatalogueTest, EachBadRowKindOnItsRow) {
  for (const BadRowCase& c : BadRowCases()) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<Catalogue> catalogue = ParseCatalogue(c.text, c.format);
    ASSERT_THAT(catalogue, IsOk());
    EXPECT_THAT(catalogue->errors, ElementsAre(RowError(c.row, c.message)))
        << Describe(*catalogue);
    EXPECT_EQ(catalogue->BadRowCount(), 1);
    // The good row before it is still there.
    if (c.row > (c.format == CatalogueFormat::kCsv ? 2 : 1)) {
      ASSERT_FALSE(catalogue->procedures.empty());
      EXPECT_EQ(catalogue->procedures[0].code(), kCode1);
    }
  }
}

TEST(ParseCatalogueTest, CsvReportsEveryBadRowWithItsLine) {
  const std::string csv = absl::StrCat(
      "code,name,level,fees\n",                                       // line 1
      "1.001193.000.00.00.H31,Đăng ký khai sinh,TOAN_TRINH,\n",       // 2 good
      ",Không có mã,MOT_PHAN,\n",                                     // 3
      "2.000123.000.00.00.H31,\"Nhiều\ndòng\",MOT_PHAN,\n",           // 4-5
      "\n",                                                           // 6 blank
      "1.001193.000.00.00.H31,Trùng mã,fully_online,\n",              // 7
      "3.000001.000.00.00.H31,Sai mức độ,level 4,\n",                 // 8
      "3.000002.000.00.00.H31,Hỏng \xE1\xBB,fully_online,\n",         // 9
      "3.000003.000.00.00.H31,,online,\"Phí\n\"\n",                   // 10-11
      "3.000004.000.00.00.H31,Tốt,partly_online,\"50.000 đồng\"\n");  // 12
  absl::StatusOr<Catalogue> catalogue =
      ParseCatalogue(csv, CatalogueFormat::kCsv);
  ASSERT_THAT(catalogue, IsOk());
  EXPECT_THAT(
      catalogue->errors,
      ElementsAre(RowError(3, "missing code"),
                  RowError(4, "name: control character U+000A"),
                  RowError(7,
                           "duplicate code 1.001193.000.00.00.H31 (first "
                           "at row 2)"),
                  RowError(8, "wrong level \"level 4\""),
                  RowError(9, "name: invalid UTF-8"),
                  RowError(10, "missing name"),
                  RowError(10, "wrong level \"online\"")))
      << Describe(*catalogue);
  EXPECT_EQ(catalogue->rows, 8);
  EXPECT_EQ(catalogue->BadRowCount(), 6);
  ASSERT_EQ(catalogue->procedures.size(), 2u);
  EXPECT_EQ(catalogue->procedures[0].code(), kCode1);
  EXPECT_EQ(catalogue->procedures[1].code(), "3.000004.000.00.00.H31");
  EXPECT_EQ(catalogue->procedures[1].fees(), "50.000 đồng");
  EXPECT_THAT(catalogue->procedure_rows, ElementsAre(2, 12));
}

TEST(ParseCatalogueTest, JsonReportsEveryBadRowWithItsIndexAndLine) {
  constexpr char kJson[] = R"({"procedures": [
  {"code": "1.001193.000.00.00.H31", "name": "Tốt", "level": "TOAN_TRINH"},
  {"name": "Không mã", "level": "MOT_PHAN"},
  {
    "code": "1.001193.000.00.00.H31",
    "name": "Trùng",
    "level": "fully_online"
  },
  {"code": "2.000123.000.00.00.H31", "name": "", "level": "x", "y": 1},
  {"code": "2.000124.000.00.00.H31", "name": "Tốt", "level": "MOT_PHAN"}
]})";
  absl::StatusOr<Catalogue> catalogue =
      ParseCatalogue(kJson, CatalogueFormat::kJson);
  ASSERT_THAT(catalogue, IsOk());
  EXPECT_THAT(
      catalogue->errors,
      ElementsAre(RowError(2, "missing code"), RowError(3, "duplicate code"),
                  RowError(4, "unknown key \"y\""), RowError(4, "missing name"),
                  RowError(4, "wrong level \"x\"")))
      << Describe(*catalogue);
  EXPECT_EQ(catalogue->errors[0].line, 3);
  EXPECT_EQ(catalogue->errors[1].line, 4);
  EXPECT_EQ(catalogue->errors[2].line, 9);
  EXPECT_EQ(FormatCatalogueRowError(catalogue->errors[1]),
            "row 3 (line 4): duplicate code 1.001193.000.00.00.H31 (first at "
            "row 1)");
  EXPECT_THAT(catalogue->procedure_rows, ElementsAre(1, 5));
}

TEST(FormatCatalogueRowErrorTest, CsvHasNoSeparateLine) {
  EXPECT_EQ(FormatCatalogueRowError({4, 0, "missing code"}),
            "row 4: missing code");
  EXPECT_EQ(FormatCatalogueRowError({3, 25, "missing code"}),
            "row 3 (line 25): missing code");
}

// ---------------------------------------------------------------------------
// Lists: at most kMaxListEntries entries that are not empty, the same rule for
// a CSV cell (entries separated by ';') and a JSON array.

// "Giấy tờ 1" to "Giấy tờ n".
std::vector<std::string> Documents(int n) {
  std::vector<std::string> entries;
  for (int i = 1; i <= n; ++i) entries.push_back(absl::StrCat("Giấy tờ ", i));
  return entries;
}

// A CSV file of one procedure (line 2) whose required_documents cell is
// `cell`, quoted.
std::string CsvWithDocuments(const std::string& cell) {
  return absl::StrCat("code,name,level,required_documents\n", kCode1,
                      ",Tên,fully_online,\"", cell, "\"\n");
}

// A JSON file of one procedure (row 1, line 1) whose legal_basis array holds
// `items`, written as they are.
std::string JsonWithLegalBasis(const std::string& items) {
  return absl::StrCat("[{\"code\": \"", kCode1,
                      "\", \"name\": \"Tên\", \"level\": \"fully_online\",\n"
                      "  \"legal_basis\": [",
                      items, "]}]\n");
}

// `entries` as JSON strings, separated by commas.
std::string JsonStrings(const std::vector<std::string>& entries) {
  return absl::StrJoin(entries, ", ",
                       [](std::string* out, const std::string& entry) {
                         absl::StrAppend(out, "\"", entry, "\"");
                       });
}

TEST(CatalogueListTest, AtTheLimitIsReadOneMoreIsARowProblem) {
  ASSERT_EQ(kMaxListEntries, 200);
  absl::StatusOr<Catalogue> csv =
      ParseCatalogue(CsvWithDocuments(absl::StrJoin(Documents(200), ";")),
                     CatalogueFormat::kCsv);
  ASSERT_THAT(csv, IsOk());
  ASSERT_THAT(csv->errors, IsEmpty()) << Describe(*csv);
  ASSERT_EQ(csv->procedures.size(), 1u);
  EXPECT_EQ(csv->procedures[0].required_documents_size(), 200);
  EXPECT_EQ(csv->procedures[0].required_documents(199), "Giấy tờ 200");

  absl::StatusOr<Catalogue> json = ParseCatalogue(
      JsonWithLegalBasis(JsonStrings(Documents(200))), CatalogueFormat::kJson);
  ASSERT_THAT(json, IsOk());
  ASSERT_THAT(json->errors, IsEmpty()) << Describe(*json);
  ASSERT_EQ(json->procedures.size(), 1u);
  EXPECT_EQ(json->procedures[0].legal_basis_size(), 200);
  EXPECT_EQ(json->procedures[0].legal_basis(199), "Giấy tờ 200");

  csv = ParseCatalogue(CsvWithDocuments(absl::StrJoin(Documents(201), ";")),
                       CatalogueFormat::kCsv);
  ASSERT_THAT(csv, IsOk());
  EXPECT_THAT(
      csv->errors,
      ElementsAre(RowError(2, "required_documents: 201 entries (at most 200)")))
      << Describe(*csv);
  EXPECT_TRUE(csv->procedures.empty());

  json = ParseCatalogue(JsonWithLegalBasis(JsonStrings(Documents(201))),
                        CatalogueFormat::kJson);
  ASSERT_THAT(json, IsOk());
  ASSERT_THAT(json->errors, ElementsAre(RowError(
                                1, "legal_basis: 201 entries (at most 200)")))
      << Describe(*json);
  EXPECT_EQ(json->errors[0].line, 1);
  EXPECT_TRUE(json->procedures.empty());
}

// Empty entries ("a;;b", a trailing ';', "" or "  " in an array) are dropped,
// as empty values are, and do not count towards the limit; an entry's number
// in a message counts them, so that it points at the entry as written.
TEST(CatalogueListTest, EmptyEntriesAreDroppedAndNotCounted) {
  std::vector<std::string> entries = Documents(200);
  entries.insert(entries.begin() + 1, "");    // "Giấy tờ 1;;Giấy tờ 2"
  entries.insert(entries.begin() + 3, "  ");  // "Giấy tờ 2;  ;Giấy tờ 3"
  entries.push_back("");                      // a trailing ';'
  absl::StatusOr<Catalogue> csv = ParseCatalogue(
      CsvWithDocuments(absl::StrJoin(entries, ";")), CatalogueFormat::kCsv);
  ASSERT_THAT(csv, IsOk());
  ASSERT_THAT(csv->errors, IsEmpty()) << Describe(*csv);
  ASSERT_EQ(csv->procedures.size(), 1u);
  EXPECT_EQ(csv->procedures[0].required_documents_size(), 200);
  EXPECT_EQ(csv->procedures[0].required_documents(1), "Giấy tờ 2");

  absl::StatusOr<Catalogue> json = ParseCatalogue(
      JsonWithLegalBasis(JsonStrings(entries)), CatalogueFormat::kJson);
  ASSERT_THAT(json, IsOk());
  ASSERT_THAT(json->errors, IsEmpty()) << Describe(*json);
  ASSERT_EQ(json->procedures.size(), 1u);
  EXPECT_EQ(json->procedures[0].legal_basis_size(), 200);
  EXPECT_EQ(json->procedures[0].legal_basis(1), "Giấy tờ 2");

  csv = ParseCatalogue(CsvWithDocuments("Giấy tờ 1;;T\x01"),
                       CatalogueFormat::kCsv);
  ASSERT_THAT(csv, IsOk());
  EXPECT_THAT(csv->errors,
              ElementsAre(RowError(2,
                                   "required_documents entry 3: control "
                                   "character U+0001 at character 2")))
      << Describe(*csv);
  json = ParseCatalogue(JsonWithLegalBasis(R"("Luật", "", 2014)"),
                        CatalogueFormat::kJson);
  ASSERT_THAT(json, IsOk());
  EXPECT_THAT(json->errors,
              ElementsAre(RowError(
                  1, "legal_basis entry 3: expected a string, got a number")))
      << Describe(*json);
}

// A cell or an array of half a million entries (a CSV field just under its
// 1 MiB), each with a control character: one problem for the count, and
// only the first kMaxListEntries entries are kept and checked.
TEST(CatalogueListTest, AHugeListIsCountedNotKept) {
  constexpr int kEntries = 500000;
  std::string cell;
  std::string items;
  for (int i = 0; i < kEntries; ++i) {
    absl::StrAppend(&cell, i == 0 ? "" : ";", "\x01");
    absl::StrAppend(&items, i == 0 ? "" : ",", "\"\\u0001\"");
  }
  ASSERT_LT(cell.size(), size_t{1} << 20);
  struct Case {
    CatalogueFormat format;
    std::string text;
    int row;
    const char* field;
  };
  const Case kCases[] = {
      {CatalogueFormat::kCsv, CsvWithDocuments(cell), 2, "required_documents"},
      {CatalogueFormat::kJson, JsonWithLegalBasis(items), 1, "legal_basis"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.field);
    absl::StatusOr<Catalogue> catalogue = ParseCatalogue(c.text, c.format);
    ASSERT_THAT(catalogue, IsOk());
    EXPECT_TRUE(catalogue->procedures.empty());
    ASSERT_EQ(catalogue->errors.size(),
              static_cast<size_t>(kMaxListEntries) + 1);
    EXPECT_THAT(catalogue->errors.front(),
                RowError(c.row, absl::StrCat(c.field,
                                             " entry 1: control character "
                                             "U+0001 at character 1")));
    EXPECT_THAT(catalogue->errors[kMaxListEntries - 1],
                RowError(c.row, absl::StrCat(c.field, " entry 200: ")));
    EXPECT_THAT(catalogue->errors.back(),
                RowError(c.row, absl::StrCat(c.field,
                                             ": 500000 entries (at most "
                                             "200)")));
  }
}

// JSON items past the limit count whatever their type: 200 strings and five
// numbers are 205 entries, not 200 good ones and five unreported.
TEST(CatalogueListTest, JsonItemsOfAnyTypeCount) {
  absl::StatusOr<Catalogue> json =
      ParseCatalogue(JsonWithLegalBasis(absl::StrCat(
                         JsonStrings(Documents(200)), ", 1, 2, 3, 4, 5")),
                     CatalogueFormat::kJson);
  ASSERT_THAT(json, IsOk());
  EXPECT_THAT(json->errors, ElementsAre(RowError(
                                1, "legal_basis: 205 entries (at most 200)")))
      << Describe(*json);
}

// ---------------------------------------------------------------------------
// Files that cannot be read as a catalogue at all.

TEST(ParseCatalogueTest, FileProblems) {
  struct Case {
    const char* name;
    CatalogueFormat format;
    std::string text;
    const char* message;
  };
  const Case kCases[] = {
      {"json syntax", CatalogueFormat::kJson,
       "[\n  {\"code\": \"1\",\n   \"name\" \"x\"}\n]",
       "line 3, column 11: unexpected '\"'; expected ':'"},
      {"json trailing comma", CatalogueFormat::kJson, "[{\"code\": \"1\"},]",
       "line 1, column 16: unexpected ']'; expected a value"},
      {"json unterminated", CatalogueFormat::kJson, "[{\"code\": \"1",
       "unterminated string"},
      {"json raw line break in a string", CatalogueFormat::kJson,
       "[{\"name\": \"a\nb\"}]", "line 1, column 13: control character"},
      {"json bad escape", CatalogueFormat::kJson, R"([{"name": "\x41"}])",
       "expected an escape"},
      {"json text after", CatalogueFormat::kJson, "[] []",
       "unexpected text after the end"},
      {"json bytes outside strings", CatalogueFormat::kJson, "[\xC3\xA0]",
       "unexpected byte 0xC3"},
      {"json column counts characters", CatalogueFormat::kJson,
       "[{\"name\": \"Đăng\" x}]", "line 1, column 18"},
      {"json object", CatalogueFormat::kJson, "{\"code\": \"1\"}",
       "unknown top-level key \"code\""},
      {"json procedures twice", CatalogueFormat::kJson,
       "{\"procedures\": [{\"code\": \"1\"}],\n \"procedures\": []}",
       "line 2: \"procedures\" appears twice"},
      {"json procedures not an array", CatalogueFormat::kJson,
       "{\"procedures\": {}}", "\"procedures\" is an object"},
      {"json string", CatalogueFormat::kJson, "\"x\"",
       "the file holds a string"},
      {"json empty array", CatalogueFormat::kJson, "[]",
       "the file holds no procedures"},
      {"json empty file", CatalogueFormat::kJson, "", "unexpected end of file"},
      {"json too deep", CatalogueFormat::kJson, std::string(100, '['),
       "nested too deeply"},
      {"json object with too many keys", CatalogueFormat::kJson,
       absl::StrCat(
           "[{", absl::StrJoin(std::vector<std::string>(101, "\"x\":0"), ","),
           "}]"),
       "line 1, column 603: an object with more than 100 keys"},
      {"csv empty", CatalogueFormat::kCsv, "\n\n", "the file is empty"},
      {"csv header only", CatalogueFormat::kCsv, "code,name,level\n",
       "the file holds no procedures"},
      {"csv unknown column", CatalogueFormat::kCsv,
       "code,name,level,ten_tthc\n",
       "line 1 (the header): unknown column "
       "\"ten_tthc\"; known columns: code, name, field"},
      {"csv missing column", CatalogueFormat::kCsv, "code,name\n",
       "missing column \"level\""},
      {"csv repeated column", CatalogueFormat::kCsv, "code,name,level,MaTTHC\n",
       "columns \"code\" and \"MaTTHC\" are the same field"},
      {"csv nameless column", CatalogueFormat::kCsv, "code,,name,level\n",
       "column 2 has no name"},
      {"csv semicolons", CatalogueFormat::kCsv, "code;name;level\n",
       "separated by ',' (this file seems to use ';')"},
      {"csv header quote", CatalogueFormat::kCsv, "code,\"name\n",
       "line 1 (the header): the quote that opens field 2"},
      {"utf-16 LE", CatalogueFormat::kCsv,
       std::string("\xFF\xFE"
                   "c\0",
                   4),
       "the file is UTF-16"},
      {"utf-16 BE", CatalogueFormat::kJson, std::string("\xFE\xFF\0[", 4),
       "the file is UTF-16"},
  };
  for (const Case& c : kCases) {
    EXPECT_THAT(
        ParseCatalogue(c.text, c.format),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)))
        << c.name;
  }
}

// The gateway takes at most sync::kMaxCatalogueSize procedures in one
// catalogue; a file with more rows, good or bad, is refused at the first
// one too many instead of being held whole.
TEST(ParseCatalogueTest, MoreRowsThanTheGatewayTakesIsAFileProblem) {
  const int limit = sync::kMaxCatalogueSize;
  ASSERT_EQ(limit, 20000);
  std::string csv = kCsvHeader;
  std::string json = "[";
  for (int i = 1; i <= limit; ++i) {
    absl::StrAppend(&csv, absl::StrFormat("1.%06d.000.00.00.H31", i),
                    ",Tên,fully_online\n");
    absl::StrAppend(&json, i == 1 ? "" : ",", "{}");
  }
  // Blank records are not rows.
  absl::StrAppend(&csv, "\n,,\n");
  absl::StatusOr<Catalogue> full = ParseCatalogue(csv, CatalogueFormat::kCsv);
  ASSERT_THAT(full, IsOk());
  EXPECT_EQ(full->procedures.size(), static_cast<size_t>(limit))
      << Describe(*full);
  // JSON rows count whatever they hold: these are all bad.
  absl::StatusOr<Catalogue> bad_rows =
      ParseCatalogue(absl::StrCat(json, "]"), CatalogueFormat::kJson);
  ASSERT_THAT(bad_rows, IsOk());
  EXPECT_EQ(bad_rows->rows, limit);

  // The header is line 1, the rows lines 2 to 20001, then two blank lines.
  EXPECT_THAT(
      ParseCatalogue(
          absl::StrCat(csv, "2.000001.000.00.00.H31,Tên,fully_online\n"),
          CatalogueFormat::kCsv),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(StartsWith("line 20004: "),
                     HasSubstr("more than 20000 procedures"))));
  // Bad rows count too: too few fields, no code and name.
  for (const char* more : {"a\n", ",,x\n"}) {
    EXPECT_THAT(ParseCatalogue(absl::StrCat(csv, more), CatalogueFormat::kCsv),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("more than 20000 procedures")))
        << more;
  }
  for (const std::string& text :
       {absl::StrCat(json, ",{}]"), absl::StrCat(json, ",1]"),
        absl::StrCat("{\"procedures\": ", json, ",{}]}")}) {
    EXPECT_THAT(ParseCatalogue(text, CatalogueFormat::kJson),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("more than 20000 procedures")));
  }
}

TEST(ReadCatalogueFileTest, UnreadableOrUnknownFiles) {
  EXPECT_THAT(ReadCatalogueFile("/nonexistent/catalogue.json"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       StartsWith("/nonexistent/catalogue.json: cannot read")));
  EXPECT_THAT(
      ReadCatalogueFile("/etc/hostname"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(".json or .csv")));
}

// ---------------------------------------------------------------------------
// The sample catalogues in deploy/examples.

std::string SourceDir() {
  const char* dir = std::getenv("LIENTHONG_SOURCE_DIR");
  return dir != nullptr ? dir : ".";
}

TEST(SampleCatalogueTest, BothFilesParseCleanAndAgree) {
  absl::StatusOr<Catalogue> json =
      ReadCatalogueFile(SourceDir() + "/deploy/examples/catalogue.json");
  absl::StatusOr<Catalogue> csv =
      ReadCatalogueFile(SourceDir() + "/deploy/examples/catalogue.csv");
  ASSERT_THAT(json, IsOk());
  ASSERT_THAT(csv, IsOk());
  EXPECT_THAT(json->errors, IsEmpty()) << Describe(*json);
  EXPECT_THAT(csv->errors, IsEmpty()) << Describe(*csv);
  EXPECT_EQ(json->procedures.size(), 415u);
  ASSERT_EQ(csv->procedures.size(), json->procedures.size());
  int fully = 0;
  int provincial = 0;
  bool birth_registration = false;
  for (size_t i = 0; i < json->procedures.size(); ++i) {
    const Procedure& p = json->procedures[i];
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
        p, csv->procedures[i]))
        << "row " << i + 1 << " differs between the JSON and the CSV";
    EXPECT_THAT(p.code(), ::testing::EndsWith(".000.00.00.H31"));
    EXPECT_FALSE(p.field().empty());
    EXPECT_FALSE(p.implementing_agency().empty());
    EXPECT_FALSE(p.processing_time().empty());
    EXPECT_FALSE(p.fees().empty());
    EXPECT_GE(p.required_documents_size(), 2);
    EXPECT_GE(p.legal_basis_size(), 2);
    if (p.level() == lienthong::v1::SERVICE_LEVEL_FULLY_ONLINE) ++fully;
    if (p.authority_level() == "Cấp tỉnh") {
      ++provincial;
    } else {
      EXPECT_EQ(p.authority_level(), "Cấp xã");
    }
    if (p.code() == kCode1) {
      birth_registration = true;
      EXPECT_EQ(p.name(), "Đăng ký khai sinh");
      EXPECT_EQ(p.field(), "Hộ tịch");
    }
  }
  EXPECT_TRUE(birth_registration);
  // A mix of levels and authorities, as a province publishes.
  EXPECT_GT(fully, 100);
  EXPECT_LT(fully, 315);
  EXPECT_GT(provincial, 100);
  EXPECT_LT(provincial, 315);
  // JSON rows count from 1, CSV rows from line 2.
  EXPECT_EQ(json->procedure_rows.front(), 1);
  EXPECT_EQ(csv->procedure_rows.front(), 2);
  EXPECT_EQ(csv->procedure_rows.back(), 416);
}

}  // namespace
}  // namespace lienthong::cli
