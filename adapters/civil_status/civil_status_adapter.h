// The "civil-status-rest" adapter: the civil-status system (hộ tịch) as it
// takes the steps of interconnected procedures (docs/wire-formats.md,
// "Agencies of interconnected procedures"; assumed, no public
// specification was found):
//
//   register_birth   inputs  child_full_name, child_birth_date (yyyy-MM-dd),
//                            child_gender (male|female),
//                            registration_province (2 digits),
//                            mother_citizen_id, mother_full_name;
//                            optional father_citizen_id, father_full_name,
//                            birth_place
//                    outputs birth_certificate_number, citizen_id (the
//                            child's new personal ID)
//   register_death   inputs  deceased_citizen_id, deceased_full_name,
//                            death_date, declarant_citizen_id,
//                            declarant_full_name; optional death_place,
//                            declarant_relationship
//                    outputs death_certificate_number
//
// Config: lienthong.adapters.civil_status.CivilStatusRestConfig.
#ifndef LIENTHONG_ADAPTERS_CIVIL_STATUS_CIVIL_STATUS_ADAPTER_H_
#define LIENTHONG_ADAPTERS_CIVIL_STATUS_CIVIL_STATUS_ADAPTER_H_

#include <memory>

#include "adapters/adapter.h"

namespace lienthong::adapters::civil_status {

inline constexpr char kBirthRegistrationPath[] = "/hotich/api/v1/khai-sinh";
inline constexpr char kDeathRegistrationPath[] = "/hotich/api/v1/khai-tu";

// The factory of "civil-status-rest". Create() fails with INVALID_ARGUMENT
// when upstream.base_url is not https://, api_key is empty or a path does
// not start with "/", and INTERNAL without an HTTP client in the context.
std::unique_ptr<AdapterFactory> MakeCivilStatusRestFactory();

}  // namespace lienthong::adapters::civil_status

#endif  // LIENTHONG_ADAPTERS_CIVIL_STATUS_CIVIL_STATUS_ADAPTER_H_
