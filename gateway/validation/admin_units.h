// Vietnam's administrative units at the province level, before and since the
// reorganisation of 1 July 2025, and the rule that checks an address's codes
// in the scheme of its date. The one home of this table.
//
//  - Since 1 July 2025 (Resolution 202/2025/QH15; codes: Decision
//    19/2025/QĐ-TTg): 34 provinces and centrally-run cities, 3,321 communes
//    with 5-digit codes, no districts.
//  - Before: 63 provinces (codes of Decision 124/2004/QĐ-TTg), districts with
//    3-digit codes, communes with 5-digit codes.
//
// Each of the 63 earlier provinces merged into exactly one of the 34 (or
// stayed as it was). Citizen IDs keep the earlier codes (see citizen_id.h).
// There is no public list of the 3,321 commune codes available offline, so
// commune codes are checked for their form (00001..99999) only.
//
// All functions are thread-safe; the tables are immutable.
#ifndef LIENTHONG_GATEWAY_VALIDATION_ADMIN_UNITS_H_
#define LIENTHONG_GATEWAY_VALIDATION_ADMIN_UNITS_H_

#include <optional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace lienthong::validation {

// A province or centrally-run city.
struct Province {
  absl::string_view code;  // two digits, "33"
  absl::string_view name;  // Vietnamese, "Hưng Yên"
};

// The 34 provinces since 1 July 2025, in code order.
absl::Span<const Province> CurrentProvinces();

// The 63 provinces before 1 July 2025, in code order.
absl::Span<const Province> LegacyProvinces();

// Returns the province with `code` in that list, or null.
const Province* FindCurrentProvince(absl::string_view code);
const Province* FindLegacyProvince(absl::string_view code);

// Returns the current province that the earlier province `legacy_code` is
// part of since 1 July 2025 (Thái Bình "34" -> Hưng Yên "33"; an unmerged
// province -> itself), or null for a code that was not one of the 63.
const Province* MergedInto(absl::string_view legacy_code);

// 1 July 2025, 00:00 in Vietnam (UTC+7): when the two-level scheme began.
absl::Time TwoLevelSchemeStart();

enum class AddressScheme {
  kLegacy,   // 63 provinces; a 3-digit district may be present
  kCurrent,  // 34 provinces, no district
};

// The scheme an address is written in: kLegacy when it has a district or
// when the record it belongs to dates from before TwoLevelSchemeStart();
// otherwise (no district, and a later or unknown date) kCurrent.
AddressScheme SchemeOf(bool has_district,
                       std::optional<absl::Time> recorded_at);

// The part of an address a code check found wrong.
enum class AddressPart { kProvince, kDistrict, kCommune };

// Returns the first part of an address whose code is wrong in `scheme`, or
// nullopt when all are right. An empty part is absent and not checked (the
// national systems treat every element as optional); a present one must be:
//  - province: one of the 63 (kLegacy) or of the 34 (kCurrent);
//  - district: 3 digits other than "000", and only in kLegacy;
//  - commune: 5 digits, 00001..99999 (its form only: no public list of the
//    3,321 communes is available offline).
std::optional<AddressPart> FindBadAddressPart(AddressScheme scheme,
                                              absl::string_view province,
                                              absl::string_view district,
                                              absl::string_view commune);

}  // namespace lienthong::validation

#endif  // LIENTHONG_GATEWAY_VALIDATION_ADMIN_UNITS_H_
