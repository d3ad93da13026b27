// Loading the gateway's YAML config into lienthong.config.v1.GatewayConfig.
//
// YAML keys map one-to-one onto the proto field names. Loading is strict: an
// unknown key, a wrong type, an out-of-range number or a duplicate key stops
// with "FILE:LINE:COL: what is wrong", naming the key, and never echoing a
// value that could be a secret. Strings may use ${ENV_NAME}; fields whose
// name ends in `_file` are paths, resolved against the config's folder.
// An adapter's `config:` is parsed into the typed message its `type:` names.
#ifndef LIENTHONG_GATEWAY_CONFIG_CONFIG_LOADER_H_
#define LIENTHONG_GATEWAY_CONFIG_CONFIG_LOADER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "lienthong/config/v1/config.pb.h"

namespace lienthong::config {

// Returns an empty instance of the config message of adapter type
// `adapter_type`, or nullptr when no such adapter exists.
using AdapterConfigResolver =
    std::function<std::unique_ptr<google::protobuf::Message>(
        absl::string_view adapter_type)>;

// Reads, parses and validates the config file at `path`. Fails with
// INVALID_ARGUMENT: "cannot read config file 'PATH': REASON", or a
// "PATH:LINE:COL: ..." message from parsing, or a validation message.
// Thread-safe.
absl::StatusOr<lienthong::config::v1::GatewayConfig> LoadConfigFile(
    const std::string& path, const AdapterConfigResolver& resolver);

// Parses `yaml` (named `source_name` in messages) without validating it;
// relative `*_file` paths are resolved against `base_dir`. Thread-safe.
absl::StatusOr<lienthong::config::v1::GatewayConfig> ParseConfigYaml(
    absl::string_view yaml, absl::string_view source_name,
    absl::string_view base_dir, const AdapterConfigResolver& resolver);

// Checks what the schema cannot: required fields, references between
// sections, known methods and citizen fields. Fails with INVALID_ARGUMENT
// naming the field. Thread-safe.
absl::Status ValidateConfig(const lienthong::config::v1::GatewayConfig& config,
                            const AdapterConfigResolver& resolver);

// The full method names routes and clients may name.
const std::vector<std::string>& KnownMethods();

}  // namespace lienthong::config

#endif  // LIENTHONG_GATEWAY_CONFIG_CONFIG_LOADER_H_
