// The "residence-rest" adapter: the residence database (cư trú) as it takes
// the steps of interconnected procedures (docs/wire-formats.md, "Agencies
// of interconnected procedures"; assumed, no public specification was
// found):
//
//   register_permanent_residence
//     inputs  citizen_id, full_name, birth_certificate_number,
//             province_code (2 digits), commune_code (5 digits),
//             address_detail; optional household_head_citizen_id,
//             household_relationship
//     outputs residence_registration_number
//   remove_permanent_residence
//     inputs  citizen_id, full_name, death_certificate_number; optional
//             reason
//     outputs removal_number
//
// Config: lienthong.adapters.residence.ResidenceRestConfig.
#ifndef LIENTHONG_ADAPTERS_RESIDENCE_RESIDENCE_ADAPTER_H_
#define LIENTHONG_ADAPTERS_RESIDENCE_RESIDENCE_ADAPTER_H_

#include <memory>

#include "adapters/adapter.h"

namespace lienthong::adapters::residence {

inline constexpr char kRegistrationPath[] = "/cutru/api/v1/thuong-tru/dang-ky";
inline constexpr char kRemovalPath[] = "/cutru/api/v1/thuong-tru/xoa";

// The factory of "residence-rest". Create() fails with INVALID_ARGUMENT
// when upstream.base_url is not https://, api_key is empty or a path does
// not start with "/", and INTERNAL without an HTTP client in the context.
std::unique_ptr<AdapterFactory> MakeResidenceRestFactory();

}  // namespace lienthong::adapters::residence

#endif  // LIENTHONG_ADAPTERS_RESIDENCE_RESIDENCE_ADAPTER_H_
