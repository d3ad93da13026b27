// YamlToProto: strict, generic YAML -> protobuf message conversion by
// reflection, the engine under config_loader.h. Internal to
// gateway/config; other code uses config_loader.h.
//
// Rules (config_loader.h explains them for operators): maps are messages
// keyed by proto field names, lists are repeated fields, proto maps are YAML
// maps, scalars convert by the field's type, `${NAME}` in strings comes from
// the environment, relative `*_file` paths are resolved against a base
// directory, and a google.protobuf.Any field is parsed as the message that
// the resolver returns for the sibling `type` field, then packed.
#ifndef LIENTHONG_GATEWAY_CONFIG_YAML_TO_PROTO_H_
#define LIENTHONG_GATEWAY_CONFIG_YAML_TO_PROTO_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gateway/config/yaml_text.h"  // SubstituteEnvironment
#include "google/protobuf/message.h"

namespace lienthong::config::internal {

// A 1-based line and column in the YAML text.
struct SourcePosition {
  int line = 0;
  int column = 0;
};

// Where each field and list element was written, by path
// ("listener.tls.cert_file", "clients[0]", "adapters[1].config.path"):
// the position of its key, or of the list item. Lets later checks point at
// the line of a value they refuse.
using PositionMap = std::map<std::string, SourcePosition, std::less<>>;

struct YamlToProtoOptions {
  // Prefixes messages: "SOURCE:LINE:COLUMN: ...".
  std::string source_name;
  // Relative values of string fields named `*_file` are joined to this;
  // empty leaves them as written.
  std::string base_dir;
  // For google.protobuf.Any fields: returns the empty message to parse into
  // for the value of the sibling `type` field, or nullptr when the type is
  // unknown. REQUIRES: set when the target has Any fields.
  std::function<std::unique_ptr<google::protobuf::Message>(absl::string_view)>
      any_resolver;
  // Looks up `${NAME}`; nullopt when unset. Defaults to getenv().
  std::function<std::optional<std::string>(const std::string&)> getenv;
};

// Parses the single YAML document `yaml` into `message` (which it first
// clears), recording positions in `positions` when that is not null. An
// empty document leaves `message` empty.
//
// Returns INVALID_ARGUMENT with "SOURCE:LINE:COLUMN: ..." for a syntax error
// or any value that does not fit the schema, INTERNAL when yaml-cpp fails in
// an unexpected way. Never throws; string values never appear in messages.
// Thread-safe for distinct `message`s, given thread-safe option functions.
absl::Status ParseYamlIntoMessage(absl::string_view yaml,
                                  const YamlToProtoOptions& options,
                                  google::protobuf::Message* message,
                                  PositionMap* positions);

}  // namespace lienthong::config::internal

#endif  // LIENTHONG_GATEWAY_CONFIG_YAML_TO_PROTO_H_
