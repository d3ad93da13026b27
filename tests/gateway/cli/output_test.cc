#include "gateway/cli/output.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lienthong/v1/population.pb.h"

namespace lienthong::cli {
namespace {

google::type::Date Date(int year, int month, int day) {
  google::type::Date date;
  date.set_year(year);
  date.set_month(month);
  date.set_day(day);
  return date;
}

TEST(FormatDateTest, PrintsDayMonthYear) {
  struct Case {
    int year, month, day;
    const char* text;
  };
  const Case kCases[] = {
      {1985, 3, 12, "12/03/1985"}, {2003, 11, 1, "01/11/2003"},
      {1985, 0, 0, "1985"},        {1985, 7, 0, "07/1985"},
      {0, 7, 15, "15/07"},         {0, 0, 0, ""},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(FormatDate(Date(c.year, c.month, c.day)), c.text);
  }
}

TEST(FormatPersonNameTest, PrefersFullElseJoinsParts) {
  lienthong::v1::PersonName name;
  EXPECT_EQ(FormatPersonName(name), "");
  name.set_family("Nguyễn");
  name.set_given("An");
  EXPECT_EQ(FormatPersonName(name), "Nguyễn An");
  name.set_middle("Văn");
  EXPECT_EQ(FormatPersonName(name), "Nguyễn Văn An");
  name.set_full("Nguyễn Văn An (full)");
  EXPECT_EQ(FormatPersonName(name), "Nguyễn Văn An (full)");
}

TEST(FormatAddressTest, OneLineOfPresentParts) {
  struct Case {
    const char* detail;
    const char* commune;
    const char* district;
    const char* province;
    const char* country;
    const char* text;
  };
  const Case kCases[] = {
      {"Số 5, thôn Đông", "12103", "", "33", "VN",
       "Số 5, thôn Đông, commune 12103, province 33"},
      {"Thôn Nam", "12103", "323", "33", "",
       "Thôn Nam, commune 12103, legacy district 323, province 33"},
      {"", "", "", "33", "", "province 33"},
      {"12 Rue de Rivoli, Paris", "", "", "", "FR",
       "12 Rue de Rivoli, Paris, FR"},
      {"", "", "", "", "", ""},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.text);
    lienthong::v1::Address address;
    address.set_detail(c.detail);
    address.set_commune_code(c.commune);
    address.set_legacy_district_code(c.district);
    address.set_province_code(c.province);
    address.set_country(c.country);
    EXPECT_EQ(FormatAddress(address), c.text);
  }
}

TEST(KeyValueListTest, AlignsValuesAndSkipsEmptyOnes) {
  KeyValueList list;
  EXPECT_TRUE(list.empty());
  list.Add("Name", "Nguyễn Văn An");
  list.Add("Religion", "");
  list.Add("Permanent address", "Thôn Đông, province 33");
  EXPECT_EQ(list.ToString(),
            "Name:               Nguyễn Văn An\n"
            "Permanent address:  Thôn Đông, province 33\n");
}

// A national system's field names and values reach the operator's
// terminal: each line stays one line, with no escape sequence in it.
TEST(KeyValueListTest, KeysAndValuesAreOneLineEach) {
  KeyValueList list;
  list.Add("a\nb", "x\x1b[2Jy");
  list.Add("Tên", "z\xe2\x80\xaeq\x1b]52;c;bad\x07");
  const std::string text = list.ToString();
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << text;
  EXPECT_EQ(text.find('\x07'), std::string::npos) << text;
  EXPECT_EQ(text.find("\xe2\x80\xae"), std::string::npos) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << text;
  EXPECT_EQ(text.substr(0, text.find('\n')), "a b:  x\xEF\xBF\xBD[2Jy");
}

TEST(ToJsonTest, OneLineWithProtoNamesAndUtf8) {
  lienthong::v1::Citizen citizen;
  citizen.set_citizen_id("033085012345");
  citizen.mutable_name()->set_full("Nguyễn Văn An");
  citizen.set_gender(lienthong::v1::GENDER_MALE);
  *citizen.mutable_birth_date() = Date(1985, 3, 12);
  absl::StatusOr<std::string> json = ToJson(citizen);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(*json,
            "{\"citizen_id\":\"033085012345\",\"name\":{\"full\":\"Nguyễn Văn "
            "An\"},\"birth_date\":{\"year\":1985,\"month\":3,\"day\":12},"
            "\"gender\":\"GENDER_MALE\"}");
}

TEST(OneLineTest, LineBreaksAndTabsBecomeSpaces) {
  EXPECT_EQ(OneLine("a\nb\r\nc\td"), "a b  c d");
  EXPECT_EQ(OneLine("Đã nhận"), "Đã nhận");
  EXPECT_EQ(OneLine(""), "");
}

// Text from the server (a national system's reference, an agency's output)
// reaches the operator's terminal: nothing in it may act on the terminal.
TEST(OneLineTest, WhatATerminalWouldActOnIsReplaced) {
  const std::string kBox = "\xEF\xBF\xBD";  // U+FFFD
  // ESC (a colour, a title, a cursor move), BEL, DEL.
  EXPECT_EQ(OneLine("KS\x1b[31mX\x07\x7f"),
            "KS" + kBox + "[31mX" + kBox + kBox);
  // C1: CSI (U+009B) and NEL (U+0085).
  EXPECT_EQ(OneLine("KS\xc2\x9b"
                    "31m\xc2\x85"),
            "KS" + kBox + "31m" + kBox);
  // Bidirectional override and isolate, which reorder what is read.
  EXPECT_EQ(OneLine("A\xe2\x80\xae"
                    "B\xe2\x81\xa6"
                    "C"),
            "A" + kBox + "B" + kBox + "C");
  // What is not: Vietnamese letters, U+00A0, U+2019, a lone lead byte.
  EXPECT_EQ(OneLine("Nguyễn\xc2\xa0Văn\xe2\x80\x99s"),
            "Nguyễn\xc2\xa0Văn\xe2\x80\x99s");
  EXPECT_EQ(OneLine("x\xc2"), "x\xc2");
}

TEST(FormatTableTest, CellsAreMadeOneLine) {
  EXPECT_EQ(FormatTable({{"a\x1b[2J", "b"}, {"cc", "d\ne"}}),
            "a\xEF\xBF\xBD[2J  b\ncc     d e\n");
}

TEST(PluralTest, OneOrMany) {
  EXPECT_EQ(Plural(1, "change", "changes"), "1 change");
  EXPECT_EQ(Plural(0, "change", "changes"), "0 changes");
  EXPECT_EQ(Plural(415, "row", "rows"), "415 rows");
}

}  // namespace
}  // namespace lienthong::cli
