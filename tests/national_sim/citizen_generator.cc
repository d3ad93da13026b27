#include "tests/national_sim/citizen_generator.h"

#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <cstdint>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "gateway/validation/admin_units.h"

namespace lienthong::sim {

const std::array<const char*, 63> kProvinceCodes = {
    "001", "002", "004", "006", "008", "010", "011", "012", "014", "015", "017",
    "019", "020", "022", "024", "025", "026", "027", "030", "031", "033", "034",
    "035", "036", "037", "038", "040", "042", "044", "045", "046", "048", "049",
    "051", "052", "054", "056", "058", "060", "062", "064", "066", "067", "068",
    "070", "072", "074", "075", "077", "079", "080", "082", "083", "084", "086",
    "087", "089", "091", "092", "093", "094", "095", "096"};

namespace {

// Year that ages are counted from, fixed so that records never change.
constexpr int kReferenceYear = 2025;

struct Weighted {
  const char* value;
  int weight;
};
constexpr Weighted kFamilyNames[] = {
    {"Nguyễn", 38}, {"Trần", 11}, {"Lê", 10},   {"Phạm", 7},
    {"Hoàng", 5},   {"Huỳnh", 4}, {"Phan", 4},  {"Vũ", 4},
    {"Võ", 3},      {"Đặng", 2},  {"Bùi", 2},   {"Đỗ", 2},
    {"Hồ", 2},      {"Ngô", 2},   {"Dương", 1}, {"Lý", 1}};
constexpr const char* kMaleMiddle[] = {"Văn",   "Văn",  "Đức",   "Minh",
                                       "Quang", "Hữu",  "Thành", "Công",
                                       "Xuân",  "Tuấn", "Ngọc",  "Gia"};
constexpr const char* kFemaleMiddle[] = {"Thị", "Thị",   "Thị",  "Ngọc",
                                         "Thu", "Thanh", "Minh", "Phương",
                                         "Kim", "Hồng",  "Bảo",  "Diệu"};
constexpr const char* kMaleGiven[] = {
    "An",   "Bình", "Cường", "Dũng",  "Đạt",  "Hải", "Hiếu",
    "Hùng", "Huy",  "Khánh", "Long",  "Minh", "Nam", "Phong",
    "Quân", "Sơn",  "Thắng", "Trung", "Tuấn", "Việt"};
constexpr const char* kFemaleGiven[] = {
    "Anh",    "Chi",   "Dung", "Giang", "Hà",  "Hạnh", "Hoa",
    "Hương",  "Huyền", "Lan",  "Linh",  "Mai", "Ngọc", "Nhung",
    "Phương", "Quỳnh", "Thảo", "Trang", "Vân", "Yến"};
// TonGiao codes other than "00": placeholders, since the public sources give
// no other code; the gateway keeps them as recorded.
constexpr const char* kReligions[] = {"01", "02", "03", "04", "05"};
constexpr const char* kStreets[] = {"Trần Hưng Đạo", "Lê Lợi", "Nguyễn Trãi",
                                    "Hai Bà Trưng", "Quang Trung"};

// Salts that keep the independent hash streams of one ID apart.
enum Salt : uint64_t {
  kRecord = 1,
  kFather,
  kMother,
  kSpouse,
  kFamily,
  kName,
  kCmnd,
  kVneid
};

uint64_t Mix(uint64_t x) {  // splitmix64 finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A stable hash (unlike absl::Hash, the same across runs and builds).
uint64_t Hash(absl::string_view s, uint64_t salt) {
  uint64_t h = 1469598103934665603ULL ^ Mix(salt);
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return Mix(h);
}

class Rng {
 public:
  Rng(absl::string_view id, Salt salt) : state_(Hash(id, salt)) {}
  int Below(int n) { return static_cast<int>((state_ = Mix(state_)) % n); }
  template <typename T, size_t N>
  T Pick(const T (&items)[N]) {
    return items[Below(N)];
  }

 private:
  uint64_t state_;
};

int ProvinceIndex(absl::string_view code) {
  for (size_t i = 0; i < kProvinceCodes.size(); ++i) {
    if (code == kProvinceCodes[i]) return static_cast<int>(i);
  }
  return -1;
}

bool AllDigits(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

int Digit(absl::string_view id, int i) { return id[i] - '0'; }
int BirthYear(absl::string_view id) {
  return (Digit(id, 3) < 2 ? 1900 : 2000) + Digit(id, 4) * 10 + Digit(id, 5);
}
bool IsMale(absl::string_view id) { return Digit(id, 3) % 2 == 0; }

// Six trailing digits whose last three are not a NOT_FOUND ending.
std::string FoundSuffix(Rng& rng) {
  return absl::StrFormat("%03d%03d", rng.Below(1000), 50 + rng.Below(950));
}

std::string MakeId(absl::string_view province, int year, bool male, Rng& rng) {
  int digit = (year < 2000 ? 0 : 2) + (male ? 0 : 1);
  return absl::StrCat(province, digit, absl::StrFormat("%02d", year % 100),
                      FoundSuffix(rng));
}

// The ID of a relative `years_older` years older (negative: younger); nullopt
// before 1900, where IDs stop.
std::optional<std::string> RelativeId(absl::string_view id, Rng& rng,
                                      int years_older, bool male) {
  int year = BirthYear(id) - years_older;
  if (year < 1900) return std::nullopt;
  absl::string_view province =
      rng.Below(10) < 7 ? id.substr(0, 3) : kProvinceCodes[rng.Below(63)];
  return MakeId(province, year, male, rng);
}

std::optional<std::string> FatherId(absl::string_view id) {
  Rng rng(id, kFather);
  return RelativeId(id, rng, 20 + rng.Below(16), true);
}
std::optional<std::string> MotherId(absl::string_view id) {
  Rng rng(id, kMother);
  return RelativeId(id, rng, 18 + rng.Below(16), false);
}
std::optional<std::string> SpouseId(absl::string_view id) {
  Rng rng(id, kSpouse);
  int gap = rng.Below(8) - 1;  // husbands tend to be older
  int years_older = IsMale(id) ? -gap : gap;
  // Spouses are adults too.
  int latest = kReferenceYear - 18;
  if (BirthYear(id) - years_older > latest)
    years_older = BirthYear(id) - latest;
  return RelativeId(id, rng, years_older, !IsMale(id));
}

// A family name is the father's, back to the first generation with IDs.
std::string FamilyName(absl::string_view id) {
  if (auto father = FatherId(id)) return FamilyName(*father);
  Rng rng(id, kFamily);
  int total = 0;
  for (const auto& w : kFamilyNames) total += w.weight;
  int pick = rng.Below(total);
  for (const auto& w : kFamilyNames) {
    if ((pick -= w.weight) < 0) return w.value;
  }
  return kFamilyNames[0].value;
}

void SetName(absl::string_view id, Citizen& c) {
  Rng rng(id, kName);
  bool male = IsMale(id);
  c.family_name = FamilyName(id);
  c.middle_name = male ? rng.Pick(kMaleMiddle) : rng.Pick(kFemaleMiddle);
  c.given_name = male ? rng.Pick(kMaleGiven) : rng.Pick(kFemaleGiven);
}

std::string IdToCmnd(absl::string_view id);

PersonRef Ref(const std::string& id) {
  Citizen c;
  SetName(id, c);
  return PersonRef{c.FullName(), id,
                   BirthYear(id) < 2000 ? IdToCmnd(id) : std::string()};
}

// CMND <-> ID: the first three CMND digits (k) encode province, gender and
// birth year; the last six are the ID's last six. Invertible for IDs in its
// image, so a CMND and its ID yield the same record.
std::string CmndToId(absl::string_view cmnd) {
  int k = Digit(cmnd, 0) * 100 + Digit(cmnd, 1) * 10 + Digit(cmnd, 2);
  return absl::StrCat(kProvinceCodes[k % 63], (k / 63) % 2, 42 + 7 * (k / 126),
                      cmnd.substr(3));
}

std::string IdToCmnd(absl::string_view id) {
  int yy = BirthYear(id) - 1900;
  int k = ((yy - 42) / 7) * 126 + Digit(id, 3) * 63 +
          ProvinceIndex(id.substr(0, 3));
  if (yy >= 42 && (yy - 42) % 7 == 0 && k < 1000) {
    return absl::StrCat(absl::StrFormat("%03d", k), id.substr(6));
  }
  Rng rng(id, kCmnd);
  return absl::StrCat(absl::StrFormat("%03d", rng.Below(1000)),
                      FoundSuffix(rng));
}

bool NotFoundEnding(absl::string_view id) {
  int last3 = 0;
  absl::SimpleAtoi(id.substr(id.size() - 3), &last3);
  return last3 < 50;
}

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// An address in the province of ID code `province3` ("033"): in the
// 63-province scheme with a district (`legacy`), else in the 34-province
// scheme, in the province it merged into, without district.
Address MakeAddress(Rng& rng, absl::string_view province3, bool legacy) {
  Address a;
  const absl::string_view old_code = province3.substr(1);
  if (legacy) {
    a.province = std::string(old_code);
    a.district = absl::StrFormat("%03d", 1 + rng.Below(999));
  } else {
    a.province = std::string(validation::MergedInto(old_code)->code);
  }
  a.commune = absl::StrFormat("%05d", 1 + rng.Below(32000));
  int n = 1 + rng.Below(15);
  switch (rng.Below(3)) {
    case 0:
      a.detail = absl::StrCat("Thôn ", n);
      break;
    case 1:
      a.detail = absl::StrCat("Tổ dân phố ", n);
      break;
    default:
      a.detail = absl::StrCat("Số ", n * 7, ", đường ", rng.Pick(kStreets));
  }
  return a;
}

// ThoiDiemDuLieu: before 1 July 2025 for a legacy record, after otherwise.
std::string DataTime(Rng& rng, bool legacy) {
  const absl::CivilDay day = legacy
                                 ? absl::CivilDay(2024, 1, 1) + rng.Below(540)
                                 : absl::CivilDay(2025, 7, 1) + rng.Below(180);
  return absl::StrFormat("%04d-%02d-%02dT%02d:%02d:00+07:00", day.year(),
                         day.month(), day.day(), 7 + rng.Below(10),
                         rng.Below(60));
}

// Who heads the citizen's household, from their age and family.
void SetHousehold(Citizen& c, int age) {
  const PersonRef self{c.FullName(), c.id, c.old_id};
  const std::optional<PersonRef>& parent = c.father ? c.father : c.mother;
  if ((age < 18 || (c.marital_status == 1 && age < 30)) && parent) {
    c.head = *parent;
  } else if (c.marital_status == 2 && c.gender == 2 && c.spouse) {
    c.head = *c.spouse;
  } else {
    c.head = self;
  }
  c.household_head = c.head.id == c.id;
  if (age < 18 && parent) c.representative = parent;
}

Citizen Generate(const std::string& id) {
  Citizen c;
  Rng rng(id, kRecord);
  c.id = id;
  SetName(id, c);
  c.gender = IsMale(id) ? 1 : 2;
  c.birth_year = BirthYear(id);
  c.birth_month = 1 + rng.Below(12);
  c.birth_day = 1 + rng.Below(DaysInMonth(c.birth_year, c.birth_month));
  if (c.birth_year > kReferenceYear) {
    // Born after the reference year: 1 January, so that the date is never
    // after today in any year the gateway takes the ID (a register holds
    // no future birth date, and the gateway refuses a reply with one).
    c.birth_month = 1;
    c.birth_day = 1;
  }
  c.birth_year_only = c.birth_year < 1950 && rng.Below(10) < 3;
  if (c.birth_year < 2000) c.old_id = IdToCmnd(id);
  c.ethnicity = rng.Below(100) < 86
                    ? "01"
                    : absl::StrFormat("%02d", 2 + rng.Below(53));  // 02..54
  c.religion = rng.Below(100) < 80 ? "00" : rng.Pick(kReligions);
  c.name_in_ten = rng.Below(2) == 0;

  c.legacy = rng.Below(3) == 0;
  c.data_time = DataTime(rng, c.legacy);
  absl::string_view birth_province = absl::string_view(id).substr(0, 3);
  auto some_province = [&](int same_percent) -> absl::string_view {
    return rng.Below(100) < same_percent ? birth_province
                                         : kProvinceCodes[rng.Below(63)];
  };
  // Recorded before the reorganisation whatever the record's date, except
  // a birth registered in 2025 on a current record.
  c.birth_registration = MakeAddress(rng, birth_province,
                                     c.legacy || c.birth_year < kReferenceYear);
  c.hometown = MakeAddress(rng, some_province(85), true);
  c.permanent = MakeAddress(rng, some_province(80), c.legacy);
  c.current = rng.Below(100) < 85
                  ? c.permanent
                  : MakeAddress(rng, kProvinceCodes[rng.Below(63)], c.legacy);

  int age = kReferenceYear - c.birth_year;
  if (age >= 18) {
    int m = rng.Below(100);
    c.marital_status = m < 30 ? 1 : m < 88 ? 2 : m < 94 ? 3 : 4;
  }
  if (auto father = FatherId(id)) c.father = Ref(*father);
  if (auto mother = MotherId(id)) c.mother = Ref(*mother);
  if (c.marital_status == 2) {
    if (auto spouse = SpouseId(id)) c.spouse = Ref(*spouse);
  }
  SetHousehold(c, age);
  if (c.legacy) {
    c.household_book = absl::StrCat(
        c.permanent.province, absl::StrFormat("%07d", rng.Below(10000000)));
  }
  // A stream of its own, so that the record's other draws can change without
  // moving anyone's VNeID account.
  Rng vneid(id, kVneid);
  int level = vneid.Below(100);
  c.vneid_level =
      age < 14 ? vneid.Below(2) : level < 60 ? 2 : level < 85 ? 1 : 0;
  return c;
}

}  // namespace

std::string Citizen::FullName() const {
  return absl::StrCat(family_name, " ", middle_name, " ", given_name);
}

std::string Citizen::RecordedName() const {
  return name_in_ten ? UpperCase(FullName()) : FullName();
}

std::string Citizen::BirthDate() const {
  if (birth_year_only) return absl::StrFormat("%04d", birth_year);
  return absl::StrFormat("%04d%02d%02d", birth_year, birth_month, birth_day);
}

bool IsValidCitizenId(absl::string_view id) {
  return id.size() == 12 && AllDigits(id) &&
         ProvinceIndex(id.substr(0, 3)) >= 0 && Digit(id, 3) <= 3;
}

std::optional<Citizen> LookupCitizen(absl::string_view id_or_cmnd) {
  if (id_or_cmnd.size() == 9 && AllDigits(id_or_cmnd)) {
    if (NotFoundEnding(id_or_cmnd)) return std::nullopt;
    return Generate(CmndToId(id_or_cmnd));
  }
  if (!IsValidCitizenId(id_or_cmnd) || NotFoundEnding(id_or_cmnd)) {
    return std::nullopt;
  }
  return Generate(std::string(id_or_cmnd));
}

bool NameMatches(const Citizen& citizen, absl::string_view name) {
  return FoldName(name) == FoldName(citizen.FullName());
}

bool BirthDateMatches(const Citizen& citizen, absl::string_view date) {
  if ((date.size() != 4 && date.size() != 8) || !AllDigits(date)) return false;
  if (date.size() == 4 || citizen.birth_year_only) {
    return date.substr(0, 4) == absl::StrFormat("%04d", citizen.birth_year);
  }
  return date == citizen.BirthDate();
}

std::string FoldName(absl::string_view utf8) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(status);
  icu::UnicodeString text = icu::UnicodeString::fromUTF8(
      icu::StringPiece(utf8.data(), static_cast<int32_t>(utf8.size())));
  if (U_SUCCESS(status)) text = nfd->normalize(text, status);
  icu::UnicodeString folded;
  bool pending_space = false;
  for (int32_t i = 0; i < text.length(); i = text.moveIndex32(i, 1)) {
    UChar32 ch = text.char32At(i);
    if (u_charType(ch) == U_NON_SPACING_MARK) continue;
    if (u_isUWhiteSpace(ch)) {
      pending_space = !folded.isEmpty();
      continue;
    }
    if (pending_space) folded.append(UChar32{' '});
    pending_space = false;
    folded.append(ch == 0x0110 || ch == 0x0111 ? UChar32{'D'} : u_toupper(ch));
  }
  std::string out;
  folded.toUTF8String(out);
  return out;
}

std::string UpperCase(absl::string_view utf8) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  icu::UnicodeString text = icu::UnicodeString::fromUTF8(
      icu::StringPiece(utf8.data(), static_cast<int32_t>(utf8.size())));
  text.toUpper(icu::Locale("vi"));
  if (U_SUCCESS(status)) text = nfc->normalize(text, status);
  std::string out;
  text.toUTF8String(out);
  return out;
}

}  // namespace lienthong::sim
