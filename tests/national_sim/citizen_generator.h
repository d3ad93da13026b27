// Deterministic synthetic citizens for the simulated population database and
// VNeID: a record derived from the digits of an ID number, so the simulated
// population is unbounded and needs no data file. All data is synthetic.
//
// Rules tests can rely on:
//  - A valid ID is 12 digits: a province-of-birth code (one of the 63 codes in
//    kProvinceCodes), a gender/century digit (0 male 1900s, 1 female 1900s,
//    2 male 2000s, 3 female 2000s), two digits of birth year, six digits.
//  - NOT_FOUND: an invalid ID, or a valid one whose last three digits are
//    000..049 (5 %). Every other valid ID yields a record.
//  - A 9-digit old ID (CMND) is NOT_FOUND when its last three digits are
//    000..049; otherwise it yields a record with SoCMND equal to it, whose
//    12-digit ID, looked up itself, yields the same record. (Other records'
//    CMNDs are hashed and may name a different synthetic person.)
//  - Name, birth year and gender always agree with the ID's digits; month and
//    day come from a hash of the ID. A child's family name is the father's,
//    and parents' and spouses' names are those their own IDs yield.
//  - About a third of records are "legacy" (data from before 1 July 2025):
//    every address is in the 63-province scheme with a 3-digit district, and
//    they have a household book. The others date from after: permanent and
//    current addresses are in the 34-province scheme (the current province
//    an earlier one merged into, validation::MergedInto), without district;
//    hometown and place of birth registration keep the earlier scheme with a
//    district (they were recorded before), except a birth registered in 2025.
//  - Half of the records keep the whole name in Ten, upper case with
//    diacritics, as the public sample does; the others split it.
//  - Household: a head of household carries QuanHe "CH01" and is their own
//    ChuHo; a child's head is the father (else the mother), a married
//    woman's her husband; others head their own household. Members other
//    than the head carry no QuanHe (their codes are not public).
#ifndef LIENTHONG_TESTS_NATIONAL_SIM_CITIZEN_GENERATOR_H_
#define LIENTHONG_TESTS_NATIONAL_SIM_CITIZEN_GENERATOR_H_

#include <array>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace lienthong::sim {

// The 63 province codes that may open a 12-digit ID.
extern const std::array<const char*, 63> kProvinceCodes;

struct Address {
  std::string province;  // MaTinhThanh, 2 digits
  std::string district;  // MaQuanHuyen, 3 digits; empty unless legacy
  std::string commune;   // MaPhuongXa, 5 digits
  std::string detail;    // ChiTiet
  std::string country = "VN";
};

struct PersonRef {
  std::string full_name;  // with diacritics, NFC
  std::string id;         // 12 digits
  std::string old_id;     // SoCMND, 9 digits; empty for those born from 2000
  std::string nationality = "VN";
};

struct Citizen {
  std::string id;      // SoDinhDanh, 12 digits
  std::string old_id;  // SoCMND, 9 digits; empty for those born from 2000
  std::string family_name, middle_name, given_name;  // UTF-8, NFC
  int gender = 1;                                    // 1 male, 2 female
  int birth_year = 0, birth_month = 0, birth_day = 0;
  bool birth_year_only = false;  // the register knows only the year
  std::string ethnicity;         // DanToc code, "01" Kinh
  // TonGiao code: "00" none; others are placeholders (the public sources
  // give only 00).
  std::string religion;
  std::string nationality = "VN";
  int marital_status = 1;         // 1 single, 2 married, 3 divorced, 4 widowed
  std::string blood_type = "00";  // NhomMau, "00" not recorded
  Address birth_registration, hometown, permanent, current;
  std::optional<PersonRef> father, mother, spouse;
  std::optional<PersonRef> representative;  // NguoiDaiDien, minors only
  bool household_head = false;              // QuanHe "CH01"
  PersonRef head;              // ChuHo: the head (themself when head)
  std::string household_book;  // SoSoHoKhau; empty if none
  int vneid_level = 0;         // 0, 1 or 2
  bool legacy = false;
  bool name_in_ten = false;  // the whole name in Ten, upper case
  // ThoiDiemDuLieu, xs:dateTime with the +07:00 offset.
  std::string data_time;

  std::string FullName() const;
  // The name as the register shows it: FullName(), upper-cased when
  // name_in_ten.
  std::string RecordedName() const;
  // "yyyyMMdd", or "yyyy" when birth_year_only.
  std::string BirthDate() const;
};

// True for a well-formed 12-digit ID (length, digits, province, gender digit),
// whether or not it is NOT_FOUND.
bool IsValidCitizenId(absl::string_view id);

// The record for a 12-digit ID or a 9-digit CMND; nullopt when NOT_FOUND
// (see the rules above). Deterministic and thread-safe.
std::optional<Citizen> LookupCitizen(absl::string_view id_or_cmnd);

// True when `name` (any case, with or without diacritics) is the citizen's
// full name once both are folded with FoldName.
bool NameMatches(const Citizen& citizen, absl::string_view name);

// True when `date` ("yyyyMMdd", or "yyyy" to compare the year only) is the
// citizen's birth date; a record that knows only the year compares the year.
bool BirthDateMatches(const Citizen& citizen, absl::string_view date);

// Upper case without diacritics, đ/Đ as D, runs of spaces collapsed and the
// ends trimmed: "Nguyễn  Văn Đạt " -> "NGUYEN VAN DAT". Thread-safe.
std::string FoldName(absl::string_view utf8);

// Upper case keeping diacritics, in NFC: "Đào Văn Tài" -> "ĐÀO VĂN TÀI".
// Thread-safe.
std::string UpperCase(absl::string_view utf8);

}  // namespace lienthong::sim

#endif  // LIENTHONG_TESTS_NATIONAL_SIM_CITIZEN_GENERATOR_H_
