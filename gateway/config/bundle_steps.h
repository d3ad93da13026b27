// The checks of a bundle definition's steps: names, order (`after`),
// adapters, and where each input comes from. Part of ValidateConfig
// (config_validation.h); whether the adapters offer the operations and
// inputs named is gateway/bundle's, when it is built.
#ifndef LIENTHONG_GATEWAY_CONFIG_BUNDLE_STEPS_H_
#define LIENTHONG_GATEWAY_CONFIG_BUNDLE_STEPS_H_

#include <functional>
#include <string>
#include <vector>

#include "gateway/config/config_validation.h"
#include "lienthong/config/v1/config.pb.h"

namespace lienthong::config::internal {

// Appends to `problems` what is wrong with the steps of `definition`, found
// at `path` ("bundles.definitions[0]"); `adapter_exists` says whether an
// adapter instance of that name is configured. Thread-compatible.
void CheckBundleSteps(
    const lienthong::config::v1::BundleDefinition& definition,
    const std::string& path,
    const std::function<bool(const std::string&)>& adapter_exists,
    std::vector<ConfigProblem>& problems);

}  // namespace lienthong::config::internal

#endif  // LIENTHONG_GATEWAY_CONFIG_BUNDLE_STEPS_H_
