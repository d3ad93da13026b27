// The "c06-population-soap" adapter: lookups (TraCuuThongTinCongDan) and
// identity checks (XacThucThongTinCongDan) in the National Population
// Database, SOAP 1.1 over HTTPS through the national data-exchange platform
// (docs/wire-formats.md). An instance offers both capabilities: a route for
// PopulationService/LookupCitizen or IdentityService/VerifyIdentity may name
// it. Creating one fails with INVALID_ARGUMENT naming a missing or bad
// config field (C06PopulationSoapConfig).
//
// Calls fail with UNAVAILABLE, not retriable, "population database sent a
// reply over <N> bytes (the HTTP client's limit)" when the reply was too
// large for the HTTP client, and "population database sent a malformed
// reply" when the reply breaks the contract (lookup_response.h,
// verify_response.h): which element did is logged at warning level, never
// told to the caller, whose grant may withhold that element.
#ifndef LIENTHONG_ADAPTERS_C06_POPULATION_C06_ADAPTER_H_
#define LIENTHONG_ADAPTERS_C06_POPULATION_C06_ADAPTER_H_

#include <memory>

#include "adapters/adapter.h"
#include "adapters/c06_population/c06_population_config.pb.h"

namespace lienthong::adapters::c06 {

// Returns the factory of "c06-population-soap". Thread-safe.
std::unique_ptr<AdapterFactory> MakeC06PopulationSoapFactory();

}  // namespace lienthong::adapters::c06

#endif  // LIENTHONG_ADAPTERS_C06_POPULATION_C06_ADAPTER_H_
