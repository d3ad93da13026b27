// CheckConfig: the semantic checks behind ValidateConfig(), returned as a
// list of (field path, problem) so that LoadConfigYaml() can point each one
// at its line in the YAML. Internal to gateway/config; other code calls
// ValidateConfig() in config_loader.h.
#ifndef LIENTHONG_GATEWAY_CONFIG_CONFIG_VALIDATION_H_
#define LIENTHONG_GATEWAY_CONFIG_CONFIG_VALIDATION_H_

#include <string>
#include <vector>

#include "gateway/config/config_loader.h"
#include "lienthong/config/v1/config.pb.h"

namespace lienthong::config::internal {

struct ConfigProblem {
  // Field path as the loader names it: "routes[1].adapter".
  std::string path;
  // What is wrong, for operators; never holds a secret's value.
  std::string message;
};

// Returns every problem ValidateConfig() would report, in config order;
// empty when the config is valid. Thread-safe as long as `resolver` is.
std::vector<ConfigProblem> CheckConfig(
    const lienthong::config::v1::GatewayConfig& config,
    const AdapterConfigResolver& resolver);

}  // namespace lienthong::config::internal

#endif  // LIENTHONG_GATEWAY_CONFIG_CONFIG_VALIDATION_H_
