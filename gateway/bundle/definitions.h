// The rules of bundle definitions that need the adapters built: every
// step's adapter offers agency steps and the step's operation; every input
// the operation requires is mapped; every input mapped is one the operation
// takes; a "data.<key>" source names a key of the kind's data
// (bundle_data.h); a "steps.<step>.<output>" source names an output of that
// step's operation; a subject names a citizen-ID key or output. (What the
// config alone decides is config_validation.cc's.)
#ifndef LIENTHONG_GATEWAY_BUNDLE_DEFINITIONS_H_
#define LIENTHONG_GATEWAY_BUNDLE_DEFINITIONS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gateway/bundle/step_invoker.h"
#include "lienthong/config/v1/config.pb.h"
#include "lienthong/v1/bundle.pb.h"

namespace lienthong::bundle {

// Returns OK, or INVALID_ARGUMENT for the first problem, marked with its
// config field (config::AtConfigField, e.g.
// "bundles.definitions[0].steps[1].inputs.citizen_id"). REQUIRES:
// config::ValidateConfig passed. Thread-safe as `invoker` is.
absl::Status CheckDefinitions(const lienthong::config::v1::Bundles& bundles,
                              const StepInvoker& invoker);

// The definitions by kind. REQUIRES: the config was validated.
std::map<lienthong::v1::BundleKind, lienthong::config::v1::BundleDefinition>
DefinitionsByKind(const lienthong::config::v1::Bundles& bundles);

// Every step name of every definition, sorted, once each (for metrics).
std::vector<std::string> StepNames(const lienthong::config::v1::Bundles& bundles);

}  // namespace lienthong::bundle

#endif  // LIENTHONG_GATEWAY_BUNDLE_DEFINITIONS_H_
