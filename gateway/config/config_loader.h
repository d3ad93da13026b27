// The gateway's config loader: reads the operator's YAML into
// lienthong.config.v1.GatewayConfig and checks it, so that a bad config stops
// start-up with a message naming the file, line, column and field.
//
//   AdapterConfigResolver   adapter type name -> its empty config message
//   ParseConfigYaml()       YAML text -> GatewayConfig (structure only)
//   ValidateConfig()        semantic checks of a GatewayConfig
//   LoadConfigYaml()        ParseConfigYaml() + ValidateConfig(), positioned
//   LoadConfigFile()        reads a file, then LoadConfigYaml()
//   KnownMethods()          the method names routes and clients may name
//
// The YAML maps one-to-one onto the proto (see
// proto/lienthong/config/v1/config.proto and deploy/examples/gateway.yaml):
//   - a map is a message; its keys are the proto field names;
//   - a list is a repeated field; a scalar is a string, integer, boolean,
//     floating-point number or enum value name, as the field's type says;
//   - `optional` fields keep presence; a null value (`key:` or `key: ~`)
//     leaves a field unset;
//   - AdapterInstance.config is written inline as the adapter's own config
//     message, chosen by the sibling `type` through the resolver, and packed
//     into the google.protobuf.Any;
//   - `${NAME}` in a string value is replaced by the environment variable
//     NAME (`$${` writes a literal `${`), so that secrets need not sit in the
//     file; an unset variable is an error;
//   - a relative path in a field whose name ends in `_file` is resolved
//     against the config file's directory.
// Everything else is an error: unknown keys, duplicate keys, wrong types,
// out-of-range numbers, a scalar where a map belongs. Parse errors never
// contain the value of a string field, which may be a secret; validation
// errors quote only names (adapters, methods, client ids, citizen fields,
// roles, log level) and listen addresses, never credentials.
#ifndef LIENTHONG_GATEWAY_CONFIG_CONFIG_LOADER_H_
#define LIENTHONG_GATEWAY_CONFIG_CONFIG_LOADER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "lienthong/config/v1/config.pb.h"

namespace lienthong::config {

// Returns a new, empty instance of the config message of the adapter type
// `adapter_type` (e.g. lienthong.config.v1.C06PopulationSoapConfig for
// "c06-population-soap"), or nullptr when the type is unknown. The gateway
// builds one from the adapter registry; tests pass a fixed table. Called
// from whichever thread runs the loader.
using AdapterConfigResolver =
    std::function<std::unique_ptr<google::protobuf::Message>(
        absl::string_view adapter_type)>;

// Parses `yaml` into a GatewayConfig without the semantic checks of
// ValidateConfig(). `source_name` prefixes every message ("gateway.yaml:3:5:
// ..."); `base_dir` is what relative `*_file` paths are resolved against
// (empty leaves them relative to the working directory).
//
// Returns INVALID_ARGUMENT for a YAML syntax error, an unknown or duplicate
// key, a value of the wrong type or out of range, an unknown adapter type
// under `config`, or an unset `${NAME}` variable; the message starts with
// "SOURCE:LINE:COLUMN: " and names the field path, e.g.
// "adapters[1].config.upstream.base_url". Returns INTERNAL if the YAML
// library fails unexpectedly. Never throws.
//
// Thread-safe as long as `resolver` is and nothing modifies the environment
// (setenv) concurrently.
// REQUIRES: `resolver` is callable.
absl::StatusOr<lienthong::config::v1::GatewayConfig> ParseConfigYaml(
    absl::string_view yaml, absl::string_view source_name,
    absl::string_view base_dir, const AdapterConfigResolver& resolver);

// Checks what the schema cannot express: listener address shaped host:port;
// TLS certificate, key and client CA files named, client certificates
// required unless explicitly and insecurely waived; adapter names non-empty
// and unique, types known and configs of the type's message; routes naming
// known methods (KnownMethods()) and existing adapters, no method routed
// twice, timeouts not negative; client ids non-empty and unique, methods
// known, grants with purposes and with fields that are top-level fields of
// lienthong.v1.Citizen, roles known, rate limits positive; logging.level
// one of debug, info, warning, error or empty; admin.address host:port when
// set; counts, sizes and durations (limits, breaker, retry, in-flight cap,
// checkpoint interval) not negative; ratios between 0 and 1.
//
// Returns OK, or INVALID_ARGUMENT listing every problem found, one per line,
// each as "field.path: what is wrong". Thread-safe as long as `resolver` is.
// REQUIRES: `resolver` is callable.
absl::Status ValidateConfig(const lienthong::config::v1::GatewayConfig& config,
                            const AdapterConfigResolver& resolver);

// ParseConfigYaml(), then ValidateConfig(); validation problems carry the
// position of the offending (or nearest enclosing) key:
// "SOURCE:LINE:COLUMN: routes[0].adapter: no adapter named 'pop'".
// Errors and thread-safety as for those two functions.
absl::StatusOr<lienthong::config::v1::GatewayConfig> LoadConfigYaml(
    absl::string_view yaml, absl::string_view source_name,
    absl::string_view base_dir, const AdapterConfigResolver& resolver);

// Reads the YAML file at `path` and loads it with LoadConfigYaml(), with
// `path` as the source name and the file's directory (made absolute) as the
// base of relative `*_file` paths.
//
// Returns the errors of LoadConfigYaml(); an unreadable or missing file
// gives "cannot read config file 'PATH': <strerror>" with the code matching
// the errno (NOT_FOUND, PERMISSION_DENIED, ...), and a file over 4 MiB
// INVALID_ARGUMENT. Thread-safety as for ParseConfigYaml().
// REQUIRES: `resolver` is callable.
absl::StatusOr<lienthong::config::v1::GatewayConfig> LoadConfigFile(
    const std::string& path, const AdapterConfigResolver& resolver);

// The full method names ("package.Service/Method") of the lienthong.v1 API
// that routes and clients may name: the one list to extend when the API
// gains a method. Thread-safe; the vector lives for the whole program.
const std::vector<std::string>& KnownMethods();

}  // namespace lienthong::config

#endif  // LIENTHONG_GATEWAY_CONFIG_CONFIG_LOADER_H_
