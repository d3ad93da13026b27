// The gateway's config loader: reads the operator's YAML into
// lienthong.config.v1.GatewayConfig and checks it, so that a bad config stops
// start-up with a message naming the file, line, column and field.
//
//   AdapterConfigResolver   adapter type name -> its empty config message
//   ParseConfigYaml()       YAML text -> GatewayConfig (structure only)
//   ValidateConfig()        semantic checks of a GatewayConfig
//   LoadConfigYaml()        ParseConfigYaml() + ValidateConfig(), positioned
//   LoadConfigFile()        reads a file, then LoadConfigYaml()
//   ConfigPositions         where each field was written, to place errors
//                           found later (config_error.h)
//   KnownMethods()          the method names clients may be granted
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
//   - `${credential:ID}` in a string value is replaced by the contents of
//     the file ID in $CREDENTIALS_DIRECTORY (systemd's LoadCredential=, or
//     a secret mounted there), less one trailing line end; a missing or
//     unreadable credential is an error that names it, never its contents;
//   - a relative path in a field whose name ends in `_file` is resolved
//     against the config file's directory.
// Everything else is an error: unknown keys, duplicate keys, wrong types,
// out-of-range numbers, a scalar where a map belongs. Parse errors never
// contain the value of a string field, which may be a secret; validation
// errors quote only names (adapters, methods, client ids, citizen fields,
// roles, log level) and listen addresses, never credentials.
//
// Where each rule is checked (once):
//   - the YAML's shape (keys, types, ranges): yaml_to_proto.cc, at parse;
//   - what the config alone decides (required fields, addresses, names
//     unique and references resolved, grants, roles, log level, numbers
//     not negative): config_validation.cc, ValidateConfig();
//   - what needs building, by the code that builds it, with the field's
//     path (AtConfigField) so that the loader's positions place it: an
//     adapter's own settings by its factory; which methods can be routed
//     to which adapters, and the retry, breaker and budget settings, by
//     the runtime (gateway/server/runtime.cc) through the resilience
//     validators; the listener's files by gateway/tls; the audit keys and
//     store by gateway/audit; portal synchronisation by gateway/sync; the
//     bundles' operations, inputs, outputs, store and holiday file by
//     gateway/bundle.
// `lienthong-gateway --check` runs all of them (gateway/server/
// startup_check.h), so a config it passes starts.
#ifndef LIENTHONG_GATEWAY_CONFIG_CONFIG_LOADER_H_
#define LIENTHONG_GATEWAY_CONFIG_CONFIG_LOADER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gateway/config/config_error.h"
#include "google/protobuf/message.h"
#include "lienthong/config/v1/config.pb.h"

namespace lienthong::config {

// Returns a new, empty instance of the config message of the adapter type
// `adapter_type` (e.g. lienthong.adapters.c06.C06PopulationSoapConfig for
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
// under `config`, an unset `${NAME}` variable, or a `${credential:ID}`
// that cannot be read; the message starts with
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

// Checks what the schema cannot express and needs nothing built: listener
// address shaped host:port; TLS certificate, key and client CA files named,
// client certificates required unless explicitly and insecurely waived;
// adapter names non-empty and unique, types known and configs of the
// type's message; routes naming existing adapters, timeouts not negative;
// client ids non-empty and unique, methods known, grants with purposes and
// with fields that are top-level fields of lienthong.v1.Citizen, roles
// known, rate limits positive; logging.level one of debug, info, warning,
// error or empty; admin.address host:port when set; counts, sizes and
// durations (limits, breaker, retry, in-flight cap, checkpoint interval)
// not negative; resilience.retry_budget_ratio between 0 and 1; bundle
// definitions with a known kind once each, a procedure code, deadlines in
// order, steps with unique names, existing adapters, an agency, and inputs
// taken from the bundle's data or from steps they follow. (Route methods
// and the retry and breaker settings are the runtime's to check; which
// operations and inputs a bundle's adapters offer, gateway/bundle's.)
//
// Returns OK, or INVALID_ARGUMENT listing every problem found, one per line,
// each as "field.path: what is wrong". Thread-safe as long as `resolver` is.
// REQUIRES: `resolver` is callable.
absl::Status ValidateConfig(const lienthong::config::v1::GatewayConfig& config,
                            const AdapterConfigResolver& resolver);

// Where each field of a loaded config was written, so that an error about a
// field found after loading (AtConfigField, config_error.h) can name the
// line. Immutable once loaded; thread-safe.
class ConfigPositions {
 public:
  // Line and column (1-based) by field path, as the loader names fields.
  using Map = std::map<std::string, std::pair<int, int>, std::less<>>;

  ConfigPositions() = default;
  ConfigPositions(std::string source, Map positions)
      : source_(std::move(source)), positions_(std::move(positions)) {}

  // Returns `status` with "SOURCE:LINE:COLUMN: " in front of its message
  // when it names a field (AtConfigField) written in the file, or the
  // nearest enclosing one that was ("routes[0].retry.max_backoff_ms" ->
  // "routes[0].retry" -> "routes[0]"); "SOURCE: " when it names a field
  // the file does not hold; unchanged otherwise (and when OK).
  absl::Status Locate(const absl::Status& status) const;

  // The position of `path` or of its nearest enclosing field written in
  // the file, as "SOURCE:LINE:COLUMN"; "SOURCE" when there is none.
  std::string Where(std::string path) const;

 private:
  std::string source_;
  Map positions_;
};

// ParseConfigYaml(), then ValidateConfig(); validation problems carry the
// position of the offending (or nearest enclosing) key:
// "SOURCE:LINE:COLUMN: routes[0].adapter: no adapter named 'pop'".
// Fills `positions` (when not null) on success. Errors and thread-safety as
// for those two functions.
absl::StatusOr<lienthong::config::v1::GatewayConfig> LoadConfigYaml(
    absl::string_view yaml, absl::string_view source_name,
    absl::string_view base_dir, const AdapterConfigResolver& resolver,
    ConfigPositions* positions = nullptr);

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
    const std::string& path, const AdapterConfigResolver& resolver,
    ConfigPositions* positions = nullptr);

// The full method names ("package.Service/Method") of the lienthong.v1 API,
// which clients may be granted, read from the services' descriptors. Thread-safe; the vector lives for the whole program.
const std::vector<std::string>& KnownMethods();

}  // namespace lienthong::config

#endif  // LIENTHONG_GATEWAY_CONFIG_CONFIG_LOADER_H_
