// The "social-insurance-rest" adapter: Vietnam Social Security (BHXH) as it
// issues the health-insurance card of a child under 6 in the birth bundle
// (docs/wire-formats.md, "Agencies of interconnected procedures"; assumed,
// no public specification was found):
//
//   issue_child_health_card
//     inputs  citizen_id, full_name, birth_date (yyyy-MM-dd), gender
//             (male|female), birth_certificate_number, province_code
//             (2 digits); optional commune_code (5 digits),
//             address_detail, guardian_citizen_id, guardian_full_name
//     outputs social_insurance_number, health_card_number, valid_from,
//             valid_to (yyyyMMdd)
//
// Config: lienthong.adapters.social_insurance.SocialInsuranceRestConfig.
#ifndef LIENTHONG_ADAPTERS_SOCIAL_INSURANCE_SOCIAL_INSURANCE_ADAPTER_H_
#define LIENTHONG_ADAPTERS_SOCIAL_INSURANCE_SOCIAL_INSURANCE_ADAPTER_H_

#include <memory>

#include "adapters/adapter.h"

namespace lienthong::adapters::social_insurance {

inline constexpr char kChildCardPath[] = "/bhxh/api/v1/the-bhyt/tre-em";

// The factory of "social-insurance-rest". Create() fails with
// INVALID_ARGUMENT when upstream.base_url is not https://, api_key is empty
// or the path does not start with "/", and INTERNAL without an HTTP client
// in the context.
std::unique_ptr<AdapterFactory> MakeSocialInsuranceRestFactory();

}  // namespace lienthong::adapters::social_insurance

#endif  // LIENTHONG_ADAPTERS_SOCIAL_INSURANCE_SOCIAL_INSURANCE_ADAPTER_H_
