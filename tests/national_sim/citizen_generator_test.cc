#include "tests/national_sim/citizen_generator.h"

#include <unicode/normalizer2.h>
#include <unicode/unistr.h>

#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gateway/validation/admin_units.h"
#include "gtest/gtest.h"

namespace lienthong::sim {
namespace {

bool IsNfc(const std::string& s) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  return U_SUCCESS(status) &&
         nfc->isNormalized(icu::UnicodeString::fromUTF8(s), status) &&
         U_SUCCESS(status);
}

// The digits decide gender, century and birth year.
struct DigitCase {
  const char* id;
  int gender;
  int birth_year;
};
constexpr DigitCase kDigitCases[] = {
    {"033085012345", 1, 1985}, {"001185054321", 2, 1985},
    {"079203123456", 1, 2003}, {"034310999999", 2, 2010},
    {"096099100050", 1, 1999}, {"002300777777", 2, 2000},
};

TEST(CitizenGeneratorTest, DigitsDecideGenderCenturyAndYear) {
  for (const DigitCase& c : kDigitCases) {
    SCOPED_TRACE(c.id);
    std::optional<Citizen> citizen = LookupCitizen(c.id);
    ASSERT_TRUE(citizen.has_value());
    EXPECT_EQ(citizen->id, c.id);
    EXPECT_EQ(citizen->gender, c.gender);
    EXPECT_EQ(citizen->birth_year, c.birth_year);
    EXPECT_EQ(citizen->BirthDate().substr(0, 4), absl::StrCat(c.birth_year));
    EXPECT_EQ(citizen->old_id.empty(), c.birth_year >= 2000);
    EXPECT_NE(citizen->middle_name, c.gender == 1 ? "Thị" : "Văn");
  }
}

// The gateway takes an ID from its birth year on (any day of it), and
// refuses a record whose birth date is after today: a citizen born after
// the generator's reference year must have a date no later than 1 January.
TEST(CitizenGeneratorTest, NoBirthDateAfterTheFirstDayTheIdIsTaken) {
  int checked = 0;
  for (int year : {26, 27, 30}) {
    for (int serial = 100; serial < 400; ++serial) {
      const std::string id = absl::StrFormat("0332%02d000%03d", year, serial);
      std::optional<Citizen> citizen = LookupCitizen(id);
      if (!citizen.has_value()) continue;
      SCOPED_TRACE(id);
      ++checked;
      EXPECT_LE(citizen->BirthDate(), absl::StrFormat("20%02d0101", year));
    }
  }
  EXPECT_GT(checked, 800);
}

struct NotFoundCase {
  const char* id;
  const char* why;
};
constexpr NotFoundCase kNotFound[] = {
    {"033085012000", "ending 000"},
    {"033085012049", "ending 049"},
    {"03308501234", "11 digits"},
    {"0330850123456", "13 digits"},
    {"03308501234a", "non-digit"},
    {"003085012345", "unknown province 003"},
    {"099085012345", "unknown province 099"},
    {"033485012345", "gender digit 4"},
    {"033985012345", "gender digit 9"},
    {"145123049", "CMND ending 049"},
    {"", "empty"},
};

TEST(CitizenGeneratorTest, NotFoundRule) {
  for (const NotFoundCase& c : kNotFound) {
    EXPECT_FALSE(LookupCitizen(c.id).has_value()) << c.why;
  }
  EXPECT_TRUE(LookupCitizen("033085012050").has_value());
  EXPECT_TRUE(LookupCitizen("145123050").has_value());
  EXPECT_FALSE(IsValidCitizenId("033485012345"));
  EXPECT_TRUE(IsValidCitizenId("033085012000"));  // valid, yet NOT_FOUND
}

TEST(CitizenGeneratorTest, FivePercentNotFound) {
  int missing = 0;
  for (int i = 0; i < 1000; ++i) {
    if (!LookupCitizen(absl::StrFormat("001090%06d", i * 7 + 3))) ++missing;
  }
  EXPECT_GT(missing, 30);
  EXPECT_LT(missing, 70);
}

TEST(CitizenGeneratorTest, Deterministic) {
  for (const char* id : {"033085012345", "079203123456", "145123456"}) {
    std::optional<Citizen> a = LookupCitizen(id), b = LookupCitizen(id);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->FullName(), b->FullName());
    EXPECT_EQ(a->BirthDate(), b->BirthDate());
    EXPECT_EQ(a->permanent.commune, b->permanent.commune);
    EXPECT_EQ(a->old_id, b->old_id);
    EXPECT_EQ(a->father->id, b->father->id);
  }
}

// Every address is valid in the scheme of its date, as the gateway checks.
void ExpectAddressesInTheirScheme(const Citizen& c) {
  const absl::Time as_of =
      c.legacy ? validation::TwoLevelSchemeStart() - absl::Hours(1)
               : validation::TwoLevelSchemeStart();
  EXPECT_EQ(c.data_time < "2025-07-01", c.legacy) << c.data_time;
  for (const Address* a :
       {&c.birth_registration, &c.hometown, &c.permanent, &c.current}) {
    const auto scheme = validation::SchemeOf(!a->district.empty(), as_of);
    EXPECT_EQ(validation::FindBadAddressPart(scheme, a->province, a->district,
                                             a->commune),
              std::nullopt)
        << a->province << "/" << a->district << "/" << a->commune;
  }
  EXPECT_FALSE(c.hometown.district.empty());  // recorded before
  // The birth was registered in the ID's province (its later form, when the
  // registration is in the current scheme).
  const std::string id_province = c.id.substr(1, 2);
  EXPECT_EQ(c.birth_registration.province,
            c.birth_registration.district.empty()
                ? std::string(validation::MergedInto(id_province)->code)
                : id_province);
}

void ExpectHousehold(const Citizen& c) {
  EXPECT_FALSE(c.head.id.empty());
  EXPECT_EQ(c.household_head, c.head.id == c.id);
  if (c.household_head) {
    EXPECT_EQ(c.head.full_name, c.FullName());
  }
  const int age = 2025 - c.birth_year;
  if (age < 18 && (c.father || c.mother)) {
    EXPECT_FALSE(c.household_head);
    ASSERT_TRUE(c.representative.has_value());
    EXPECT_EQ(c.representative->id, c.head.id);
  }
  if (age >= 18) {
    EXPECT_FALSE(c.representative.has_value());
  }
  for (const auto* relative : {&c.father, &c.mother, &c.spouse}) {
    if (!relative->has_value()) continue;
    std::optional<Citizen> record = LookupCitizen((*relative)->id);
    ASSERT_TRUE(record.has_value());
    EXPECT_EQ((*relative)->old_id, record->old_id);
    EXPECT_EQ((*relative)->nationality, "VN");
  }
}

TEST(CitizenGeneratorTest, CurrentAddressesCoverEveryProvinceSinceTheMerger) {
  std::set<std::string> current;
  for (const char* province : kProvinceCodes) {
    bool seen = false;
    for (int i = 0; i < 200 && !seen; ++i) {
      std::optional<Citizen> c = LookupCitizen(
          absl::StrFormat("%s0%02d%06d", province, 60 + i % 30, 100050 + i));
      if (!c || c->legacy ||
          c->permanent.province !=
              validation::MergedInto(absl::string_view(province).substr(1))
                  ->code) {
        continue;
      }
      EXPECT_TRUE(c->permanent.district.empty());
      current.insert(c->permanent.province);
      seen = true;
    }
    EXPECT_TRUE(seen) << province;
  }
  EXPECT_EQ(current.size(), 34u);
}

TEST(CitizenGeneratorTest, NamesInTenAreUpperCaseWithDiacritics) {
  int in_ten = 0;
  for (int i = 0; i < 100; ++i) {
    std::optional<Citizen> c =
        LookupCitizen(absl::StrFormat("033085%06d", 100050 + i * 13));
    if (!c) continue;
    if (!c->name_in_ten) {
      EXPECT_EQ(c->RecordedName(), c->FullName());
      continue;
    }
    ++in_ten;
    EXPECT_EQ(c->RecordedName(), UpperCase(c->FullName()));
    EXPECT_EQ(FoldName(c->RecordedName()), FoldName(c->FullName()));
    EXPECT_TRUE(IsNfc(c->RecordedName()));
  }
  EXPECT_GT(in_ten, 20);
  EXPECT_LT(in_ten, 80);
  EXPECT_EQ(UpperCase("Đào Văn Tài"), "ĐÀO VĂN TÀI");
}

TEST(CitizenGeneratorTest, WellFormedAcrossManyIds) {
  std::set<std::string> family_names;
  int legacy = 0, total = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string id = absl::StrFormat("%s%d%02d%06d", kProvinceCodes[i % 63],
                                     i % 4, (i * 37) % 26, 100050 + i * 811);
    std::optional<Citizen> c = LookupCitizen(id);
    if (!c) continue;
    SCOPED_TRACE(id);
    ++total;
    legacy += c->legacy;
    family_names.insert(c->family_name);
    EXPECT_TRUE(IsNfc(c->FullName()));
    EXPECT_GE(c->birth_month, 1);
    EXPECT_LE(c->birth_month, 12);
    EXPECT_GE(c->birth_day, 1);
    EXPECT_LE(c->birth_day, 31);
    EXPECT_EQ(c->permanent.province.size(), 2u);
    EXPECT_EQ(c->permanent.commune.size(), 5u);
    EXPECT_EQ(c->permanent.district.empty(), !c->legacy);
    EXPECT_EQ(c->household_book.empty(), !c->legacy);
    EXPECT_GE(c->vneid_level, 0);
    EXPECT_LE(c->vneid_level, 2);
    EXPECT_EQ(c->spouse.has_value() && c->marital_status != 2, false);
    EXPECT_EQ(c->old_id.size(), c->birth_year < 2000 ? 9u : 0u);
    ExpectAddressesInTheirScheme(*c);
    ExpectHousehold(*c);
    // Relatives are real records whose names agree with their own IDs.
    if (c->father) {
      std::optional<Citizen> father = LookupCitizen(c->father->id);
      ASSERT_TRUE(father.has_value());
      EXPECT_EQ(father->FullName(), c->father->full_name);
      EXPECT_EQ(father->family_name, c->family_name);
      EXPECT_EQ(father->gender, 1);
      EXPECT_LT(father->birth_year, c->birth_year);
    }
    if (c->mother) {
      std::optional<Citizen> mother = LookupCitizen(c->mother->id);
      ASSERT_TRUE(mother.has_value());
      EXPECT_EQ(mother->FullName(), c->mother->full_name);
      EXPECT_EQ(mother->gender, 2);
    }
    if (c->spouse) {
      std::optional<Citizen> spouse = LookupCitizen(c->spouse->id);
      ASSERT_TRUE(spouse.has_value());
      EXPECT_NE(spouse->gender, c->gender);
      EXPECT_LE(spouse->birth_year, 2007);
    }
  }
  EXPECT_GT(family_names.size(), 8u);
  EXPECT_GT(legacy, total / 5);
  EXPECT_LT(legacy, total / 2);
}

TEST(CitizenGeneratorTest, CmndMapsToARecordThatKeepsIt) {
  for (const char* cmnd :
       {"145123456", "001000050", "999999999", "012345678"}) {
    SCOPED_TRACE(cmnd);
    std::optional<Citizen> c = LookupCitizen(cmnd);
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->old_id, cmnd);
    EXPECT_TRUE(IsValidCitizenId(c->id));
    EXPECT_LT(c->birth_year, 2000);
    std::optional<Citizen> by_id = LookupCitizen(c->id);
    ASSERT_TRUE(by_id.has_value());
    EXPECT_EQ(by_id->old_id, cmnd);
    EXPECT_EQ(by_id->FullName(), c->FullName());
  }
}

TEST(CitizenGeneratorTest, FoldName) {
  EXPECT_EQ(FoldName("Nguyễn  Văn Đạt "), "NGUYEN VAN DAT");
  EXPECT_EQ(FoldName("đặng thị hương"), "DANG THI HUONG");
  EXPECT_EQ(FoldName("Huỳnh Ngọc Quỳnh"), "HUYNH NGOC QUYNH");
  // Decomposed input folds the same as precomposed.
  EXPECT_EQ(FoldName("Le\xcc\x82"), "LE");
  EXPECT_EQ(FoldName("NGUYEN VAN AN"), "NGUYEN VAN AN");
}

TEST(CitizenGeneratorTest, Matching) {
  std::optional<Citizen> c = LookupCitizen("033085012345");
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(NameMatches(*c, FoldName(c->FullName())));
  EXPECT_TRUE(NameMatches(*c, c->FullName()));
  EXPECT_FALSE(NameMatches(*c, "KHONG PHAI TEN NAY"));
  EXPECT_TRUE(BirthDateMatches(*c, c->BirthDate()));
  EXPECT_TRUE(BirthDateMatches(*c, "1985"));
  EXPECT_FALSE(BirthDateMatches(*c, "1986"));
  EXPECT_FALSE(BirthDateMatches(*c, "19850230"));
  EXPECT_FALSE(BirthDateMatches(*c, "85"));
}

}  // namespace
}  // namespace lienthong::sim
