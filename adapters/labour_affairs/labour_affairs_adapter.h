// The "labour-affairs-rest" adapter: the labour and social affairs system
// as it grants the funeral allowance (procedure 1.011537) in the death
// bundle (docs/wire-formats.md, "Agencies of interconnected procedures";
// assumed, no public specification was found):
//
//   grant_funeral_allowance
//     inputs  deceased_citizen_id, deceased_full_name,
//             death_certificate_number, recipient_citizen_id,
//             recipient_full_name; optional recipient_relationship
//     outputs decision_number, amount_vnd
//
// Config: lienthong.adapters.labour_affairs.LabourAffairsRestConfig.
#ifndef LIENTHONG_ADAPTERS_LABOUR_AFFAIRS_LABOUR_AFFAIRS_ADAPTER_H_
#define LIENTHONG_ADAPTERS_LABOUR_AFFAIRS_LABOUR_AFFAIRS_ADAPTER_H_

#include <memory>

#include "adapters/adapter.h"

namespace lienthong::adapters::labour_affairs {

inline constexpr char kFuneralAllowancePath[] =
    "/ldtbxh/api/v1/tro-cap-mai-tang";

// The factory of "labour-affairs-rest". Create() fails with
// INVALID_ARGUMENT when upstream.base_url is not https://, api_key is empty
// or the path does not start with "/", and INTERNAL without an HTTP client
// in the context.
std::unique_ptr<AdapterFactory> MakeLabourAffairsRestFactory();

}  // namespace lienthong::adapters::labour_affairs

#endif  // LIENTHONG_ADAPTERS_LABOUR_AFFAIRS_LABOUR_AFFAIRS_ADAPTER_H_
