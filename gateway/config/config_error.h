// Errors about a config field, found after loading by the code that builds
// from the config (the runtime, the adapters' factories, the TLS and audit
// set-up): AtConfigField marks a status with the field's path, and
// ConfigPositions::Locate (config_loader.h) puts the field's FILE:LINE:COL
// in front of it.
//
//   return AtConfigField("routes[0].adapter", absl::InvalidArgumentError(
//       "adapter 'vneid' cannot serve ...LookupCitizen"));
//   // later: "gateway.yaml:24:5: routes[0].adapter: adapter 'vneid' ..."
#ifndef LIENTHONG_GATEWAY_CONFIG_CONFIG_ERROR_H_
#define LIENTHONG_GATEWAY_CONFIG_CONFIG_ERROR_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace lienthong::config {

// Returns `status` (same code) about the field at `path`, as the loader
// names fields ("listener.tls.key_file", "adapters[1].config"): its message
// starts "path: " (unless it already does) and it carries the path as a
// payload. An OK status is returned as it is. Thread-safe.
absl::Status AtConfigField(absl::string_view path, absl::Status status);

// Returns the field path AtConfigField put on `status`, or nullopt.
std::optional<std::string> ConfigFieldOf(const absl::Status& status);

}  // namespace lienthong::config

#endif  // LIENTHONG_GATEWAY_CONFIG_CONFIG_ERROR_H_
