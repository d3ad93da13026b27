// The "c06-population-soap" adapter: population-database lookups as SOAP 1.1
// over HTTPS through the national data-exchange platform (docs/wire-formats.md).
#ifndef LIENTHONG_ADAPTERS_C06_POPULATION_C06_ADAPTER_H_
#define LIENTHONG_ADAPTERS_C06_POPULATION_C06_ADAPTER_H_

#include <memory>

#include "adapters/adapter.h"
#include "lienthong/config/v1/config.pb.h"

namespace lienthong::adapters::c06 {

std::unique_ptr<AdapterFactory> MakeC06PopulationSoapFactory();

}  // namespace lienthong::adapters::c06

#endif  // LIENTHONG_ADAPTERS_C06_POPULATION_C06_ADAPTER_H_
