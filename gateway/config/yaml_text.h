// What YAML text means to the config loader, below the level of messages:
// the kind of a scalar as operators are told it, number and boolean
// spellings (YAML 1.2 core schema), UTF-8, the field paths messages name,
// and ${NAME} and ${credential:ID} substitution. Internal to gateway/config.
#ifndef LIENTHONG_GATEWAY_CONFIG_YAML_TEXT_H_
#define LIENTHONG_GATEWAY_CONFIG_YAML_TEXT_H_

#include <yaml-cpp/yaml.h>

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"

namespace lienthong::config::internal {

// Tags of the YAML core schema ("tag:yaml.org,2002:str").
inline constexpr absl::string_view kStandardTagPrefix = "tag:yaml.org,2002:";

// What a YAML node holds, as far as the messages to operators care.
enum class Kind { kNull, kMap, kList, kString, kInteger, kNumber, kBoolean };

// An optional sign and decimal digits only.
bool IsIntegerText(absl::string_view text);
// .inf or .nan, signed or not, in their three spellings.
bool IsSpecialFloatText(absl::string_view text);
// A YAML 1.2 number: [-+]? ( digits [. digits?] | . digits )
// ( [eE] [-+]? digits )?, or .inf / .nan in their three spellings.
bool IsNumberText(absl::string_view text);
// true/True/TRUE or false/False/FALSE; yes/no/on/off are strings in 1.2.
std::optional<bool> BooleanFromText(absl::string_view text);
// True for quoted and block scalars (a string whatever they spell).
bool IsQuoted(const YAML::Node& node);
Kind KindOf(const YAML::Node& node);
// "a map", "an integer", ... for messages.
absl::string_view Describe(Kind kind);
// What `field` takes, for messages: "a string", "true or false", ...
std::string Expected(const google::protobuf::FieldDescriptor* field);
// The value names of `type`, comma-separated.
std::string EnumValueNames(const google::protobuf::EnumDescriptor* type);
// The field names of `type`, comma-separated.
std::string KnownKeys(const google::protobuf::Descriptor* type);
// `relative` under `base`, with one '/' between them.
std::string JoinPath(absl::string_view base, absl::string_view relative);
// "parent.field", or "field" at the root.
std::string ChildPath(absl::string_view parent, absl::string_view field);
// `path`, or "the top level" for the root.
std::string PathName(absl::string_view path);
// getenv(name), nullopt when unset.
std::optional<std::string> GetenvLookup(const std::string& name);

// Returns `text` with each `${NAME}` replaced by `lookup(NAME)`, each
// `${credential:ID}` by the contents of the file ID in the folder
// `lookup("CREDENTIALS_DIRECTORY")` names (systemd's LoadCredential=, or a
// mounted secret), less one trailing line end, and each `$${` by a literal
// `${`. On an unset variable, a malformed reference, or a credential that
// is unnamed, missing, unreadable, not a regular file, over 64 KiB or
// holding a NUL byte, returns INVALID_ARGUMENT naming the variable or
// credential (never `text`, never a credential's contents). Thread-safe if
// `lookup` is.
absl::StatusOr<std::string> SubstituteEnvironment(
    absl::string_view text,
    const std::function<std::optional<std::string>(const std::string&)>&
        lookup);

}  // namespace lienthong::config::internal

#endif  // LIENTHONG_GATEWAY_CONFIG_YAML_TEXT_H_
