// What the population database's codes mean (docs/wire-formats.md,
// "Population database"): gender (GioiTinh), ethnic group (DanToc), religion
// (TonGiao), marital status (TinhTrangHonNhan), blood group (NhomMau) and
// relation to the head of household (QuanHe). Only codes a public source
// shows or a national list defines are mapped; every other code is kept as
// recorded by the caller of these functions, never refused.
//
// All functions are thread-safe and keep no state.
#ifndef LIENTHONG_ADAPTERS_C06_POPULATION_CODES_H_
#define LIENTHONG_ADAPTERS_C06_POPULATION_CODES_H_

#include "absl/strings/string_view.h"
#include "lienthong/v1/common.pb.h"
#include "lienthong/v1/population.pb.h"

namespace lienthong::adapters::c06 {

// Longest code the reply may carry in a coded element.
inline constexpr size_t kMaxCodeLength = 16;

// True when `text` can be a code: 1 to kMaxCodeLength ASCII letters and
// digits. Anything else in a coded element makes the reply malformed.
bool IsCode(absl::string_view text);

// GioiTinh: "1" male, "2" female; UNSPECIFIED otherwise.
lienthong::v1::Gender GenderOf(absl::string_view code);

// DanToc, the national list of 54 ethnic groups ("01" Kinh ... "54" Rơ Măm)
// plus "55" foreigner and "56" not determined: its name, or "" for a code
// not in the list.
absl::string_view EthnicityName(absl::string_view code);
// The enum for DanToc: its own value for "01".."10", ETHNICITY_OTHER for the
// rest of the list, UNSPECIFIED for a code not in it.
lienthong::v1::Ethnicity EthnicityOf(absl::string_view code);

// TonGiao: "Không" for "00" (none), the only religion code the public
// sources show; "" otherwise.
absl::string_view ReligionName(absl::string_view code);

// TinhTrangHonNhan "1".."4" (2 shown by the public sample, the others
// assumed; see population.proto); UNSPECIFIED otherwise.
lienthong::v1::MaritalStatus MaritalStatusOf(absl::string_view code);

// NhomMau: "00" not recorded, or the letters "O", "A", "B", "AB";
// UNSPECIFIED otherwise.
lienthong::v1::BloodGroup BloodGroupOf(absl::string_view code);

// QuanHe: "CH01" (chủ hộ, the head of household himself or herself, as in
// the public sample) is HEAD; UNSPECIFIED otherwise.
lienthong::v1::HouseholdRelation HouseholdRelationOf(absl::string_view code);

}  // namespace lienthong::adapters::c06

#endif  // LIENTHONG_ADAPTERS_C06_POPULATION_CODES_H_
