#include "gateway/cli/args.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lienthong/v1/population.pb.h"

namespace lienthong::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

struct DateCase {
  const char* text;
  int year, month, day;
};

constexpr DateCase kValidDates[] = {
    {"1985-03-12", 1985, 3, 12},  // ISO
    {"12/03/1985", 1985, 3, 12},  // as Vietnamese documents write it
    {"1985", 1985, 0, 0},         // year only
    {"2000-02-29", 2000, 2, 29},  // leap year divisible by 400
    {"2024-02-29", 2024, 2, 29}, {"1999-12-31", 1999, 12, 31},
    {"01/01/1900", 1900, 1, 1},
};

TEST(ParseDateTest, AcceptsFullAndYearOnlyDates) {
  for (const DateCase& c : kValidDates) {
    SCOPED_TRACE(c.text);
    absl::StatusOr<google::type::Date> date = ParseDate(c.text, "--dob");
    ASSERT_TRUE(date.ok()) << date.status();
    EXPECT_EQ(date->year(), c.year);
    EXPECT_EQ(date->month(), c.month);
    EXPECT_EQ(date->day(), c.day);
  }
}

struct BadDateCase {
  const char* text;
  const char* why;  // expected in the message
};

constexpr BadDateCase kInvalidDates[] = {
    {"1985-13-40", "month 13 is not 01..12"},
    {"1985-00-10", "month 00 is not 01..12"},
    {"1985-04-31", "day 31 is not 01..30"},
    {"1985-02-29", "day 29 is not 01..28"},
    {"1900-02-29", "day 29 is not 01..28"},  // not a leap year
    {"1985-03-00", "day 00 is not 01..31"},
    {"31/02/1985", "day 31 is not 01..28"},
    {"", "expected yyyy-MM-dd, dd/MM/yyyy or yyyy"},
    {"85", "the year has 4 digits"},
    {"0000", "year 0000 does not exist"},
    {"1985-03", "expected yyyy-MM-dd"},
    {"1985-3-12", "month and day have 2 digits"},
    {"1985/03/12", "the year has 4 digits"},
    {"12-03-1985", "the year has 4 digits"},
    {"1985-03-12T00", "month and day have 2 digits"},
    {"198a", "the year has 4 digits"},
    {" 1985", "the year has 4 digits"},
};

TEST(ParseDateTest, RejectsInvalidDatesNamingOptionAndValue) {
  for (const BadDateCase& c : kInvalidDates) {
    SCOPED_TRACE(c.text);
    absl::StatusOr<google::type::Date> date = ParseDate(c.text, "--dob");
    ASSERT_FALSE(date.ok());
    EXPECT_EQ(date.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(date.status().message()), StartsWith("--dob: "));
    EXPECT_THAT(std::string(date.status().message()), HasSubstr(c.why));
  }
}

struct IdCase {
  const char* id;
  bool valid;
};

constexpr IdCase kIds[] = {
    {"033085012345", true},  {"123456789", true},      {"", false},
    {"03308501234", false},  {"0330850123456", false}, {"03308501234a", false},
    {" 33085012345", false}, {"033-085-012", false},
};

TEST(CheckCitizenIdTest, SaysWhatIsWrong) {
  EXPECT_EQ(CheckCitizenId("", "--id").message(), "--id is empty");
  EXPECT_EQ(CheckCitizenId("0330850123", "--id").message(),
            "--id: expected a 12-digit personal ID number or a 9-digit old ID "
            "card number, got 10 characters");
  EXPECT_EQ(CheckCitizenId("03308501234a", "--id").message(),
            "--id: expected a 12-digit personal ID number or a 9-digit old ID "
            "card number, got 12 characters (not all digits)");
}

TEST(CheckCitizenIdTest, AcceptsTwelveOrNineDigits) {
  for (const IdCase& c : kIds) {
    SCOPED_TRACE(c.id);
    absl::Status status = CheckCitizenId(c.id, "--id");
    EXPECT_EQ(status.ok(), c.valid) << status;
    if (!c.valid) {
      EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(std::string(status.message()), StartsWith("--id"));
      // The ID is personal data: never echoed.
      if (*c.id != '\0') {
        EXPECT_THAT(std::string(status.message()),
                    ::testing::Not(HasSubstr(c.id)));
      }
    }
  }
}

struct SplitCase {
  const char* list;
  std::vector<std::string> fields;
};

TEST(SplitFieldListTest, TrimsAndDropsEmptiesAndRepeats) {
  const SplitCase kCases[] = {
      {"", {}},
      {"   ", {}},
      {",,,", {}},
      {"name", {"name"}},
      {"name,birth_date,permanent_address",
       {"name", "birth_date", "permanent_address"}},
      {" name , birth_date\t,\npermanent_address ",
       {"name", "birth_date", "permanent_address"}},
      {"name,,birth_date,", {"name", "birth_date"}},
      {"name, name ,birth_date,name", {"name", "birth_date"}},
      {"name.full", {"name.full"}},
  };
  for (const SplitCase& c : kCases) {
    SCOPED_TRACE(c.list);
    EXPECT_THAT(SplitFieldList(c.list), ElementsAreArray(c.fields));
  }
}

TEST(ParseFieldMaskTest, BuildsMaskOfKnownPaths) {
  absl::StatusOr<google::protobuf::FieldMask> mask =
      ParseFieldMask(" name, birth_date,,permanent_address.commune_code ",
                     *lienthong::v1::Citizen::descriptor(), "--fields");
  ASSERT_TRUE(mask.ok()) << mask.status();
  EXPECT_THAT(mask->paths(), ElementsAre("name", "birth_date",
                                         "permanent_address.commune_code"));
}

TEST(ParseFieldMaskTest, EmptyListIsEmptyMask) {
  absl::StatusOr<google::protobuf::FieldMask> mask =
      ParseFieldMask(" , ", *lienthong::v1::Citizen::descriptor(), "--fields");
  ASSERT_TRUE(mask.ok()) << mask.status();
  EXPECT_EQ(mask->paths_size(), 0);
}

TEST(ParseFieldMaskTest, RejectsUnknownPathNamingIt) {
  for (const char* list : {"name,nmae", "birthDate", "name.nickname"}) {
    SCOPED_TRACE(list);
    absl::StatusOr<google::protobuf::FieldMask> mask =
        ParseFieldMask(list, *lienthong::v1::Citizen::descriptor(), "--fields");
    ASSERT_FALSE(mask.ok());
    EXPECT_EQ(mask.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(mask.status().message()),
                HasSubstr("--fields: unknown field"));
    EXPECT_THAT(std::string(mask.status().message()),
                HasSubstr("known: citizen_id,"));
  }
}

// Protobuf's reasons repeat the file's values; none reaches the reason.
TEST(JsonParseReasonTest, KeepsNoValueOfTheFile) {
  struct Case {
    const char* message;
    const char* reason;
  };
  const Case kCases[] = {
      // A number for a string field (a phone number written as a number).
      {"(updates[0].registration.applicant.phone): invalid value 912345678 "
       "for type TYPE_STRING",
       "(updates[0].registration.applicant.phone): invalid value ... for "
       "type TYPE_STRING"},
      {"invalid value 145123456 for type TYPE_STRING",
       "invalid value ... for type TYPE_STRING"},
      {"(updates[1].status): invalid value \"145123456\" for type TYPE_ENUM",
       "(updates[1].status): invalid value ... for type TYPE_ENUM"},
      {"invalid value 12 Trần Thị Mai", "invalid value ..."},
      // Lines of the file after the first.
      {"Expected : between key:value pair.\n{\"id\": 033085012345,\n ^",
       "Expected : between key:value pair."},
      // Quoted text, and long runs of digits wherever they stand.
      {"unexpected \"Trần\" at 0912345678 (updates[12345])",
       "unexpected \"...\" at ... (updates[12345])"},
      {"unterminated \"0912", "unterminated \"...\""},
  };
  for (const Case& c : kCases) {
    EXPECT_EQ(JsonParseReason(c.message), c.reason) << c.message;
  }
  EXPECT_THAT(JsonParseReason("invalid value 145123456 for type TYPE_STRING"),
              Not(HasSubstr("145123456")));
}

// A syntax error's place comes from the file's text protobuf appends, found
// once in the file; the text itself never reaches the reason.
TEST(JsonParseReasonTest, PlacesASyntaxError) {
  const std::string json = "{\n  \"id\": 033085012345,\n  \"x\" 1}";
  const std::string message =
      "Expected : between key:value pair.\n085012345,\n  \"x\" 1}\n"
      "                 ^";
  EXPECT_EQ(JsonParseReason(message, json),
            "line 3, column 7: Expected : between key:value pair.");
  // Without the file, or with context the file holds twice or not at all,
  // the reason stands alone.
  EXPECT_EQ(JsonParseReason(message), "Expected : between key:value pair.");
  EXPECT_EQ(JsonParseReason(message, json + json),
            "Expected : between key:value pair.");
  EXPECT_EQ(JsonParseReason(message, "{}"),
            "Expected : between key:value pair.");
  // A marker line that is not spaces and a caret is not protobuf's.
  EXPECT_EQ(JsonParseReason("Bad.\n085012345\n  x^", json), "Bad.");
  EXPECT_EQ(JsonParseReason("Bad.\n0850\n       ^", json), "Bad.");
}

}  // namespace
}  // namespace lienthong::cli
