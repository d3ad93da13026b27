#include "gateway/config/config_loader.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gateway/status/status_macros.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/descriptor.h"
#include "lienthong/v1/population.pb.h"

namespace lienthong::config {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a scalar";
    default:
      return "nothing";
  }
}

class YamlToProto {
 public:
  YamlToProto(absl::string_view source, absl::string_view base_dir,
              const AdapterConfigResolver& resolver)
      : source_(source), base_dir_(base_dir), resolver_(resolver) {}

  absl::Status Message(const YAML::Node& node, Message* message,
                       const std::string& path) {
    const Descriptor* descriptor = message->GetDescriptor();
    if (!node.IsMap()) {
      return Error(node, path.empty() ? "the config" : path,
                   absl::StrCat("expected a mapping, got ", Describe(node)));
    }
    std::set<std::string> seen;
    for (const auto& entry : node) {
      const YAML::Node& key = entry.first;
      if (!key.IsScalar()) return Error(key, path, "keys must be plain names");
      const std::string name = key.Scalar();
      const FieldDescriptor* field = descriptor->FindFieldByName(name);
      if (field == nullptr) {
        std::vector<std::string> known;
        for (int i = 0; i < descriptor->field_count(); ++i) {
          known.push_back(descriptor->field(i)->name());
        }
        return Error(key, "",
                     absl::StrCat("unknown key '", name, "' in ",
                                  path.empty() ? "the top level" : path,
                                  " (known keys: ", absl::StrJoin(known, ", "),
                                  ")"));
      }
      if (!seen.insert(name).second) {
        return Error(key, "", absl::StrCat("key '", name, "' appears twice in ",
                                           path.empty() ? "the top level" : path));
      }
      std::string field_path = path.empty() ? name : absl::StrCat(path, ".", name);
      if (field->message_type() != nullptr &&
          field->message_type()->full_name() == "google.protobuf.Any") {
        LIENTHONG_RETURN_IF_ERROR(Any(node, entry.second, message, field, field_path));
        continue;
      }
      LIENTHONG_RETURN_IF_ERROR(Field(entry.second, message, field, field_path));
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Error(const YAML::Node& node, const std::string& path,
                     absl::string_view what) const {
    const YAML::Mark mark = node.Mark();
    std::string where = absl::StrCat(source_, ":", mark.line + 1, ":",
                                     mark.column + 1, ": ");
    if (mark.line < 0) where = absl::StrCat(source_, ": ");
    return absl::InvalidArgumentError(
        path.empty() ? absl::StrCat(where, what)
                     : absl::StrCat(where, path, ": ", what));
  }

  // An adapter's typed config, chosen by the sibling `type` key.
  absl::Status Any(const YAML::Node& parent, const YAML::Node& node,
                   google::protobuf::Message* message,
                   const FieldDescriptor* field, const std::string& path) {
    const YAML::Node type = parent["type"];
    if (!type || !type.IsScalar() || type.Scalar().empty()) {
      return Error(node, path, "needs a 'type' beside it naming the adapter");
    }
    std::unique_ptr<google::protobuf::Message> typed = resolver_(type.Scalar());
    if (typed == nullptr) {
      return Error(type, "", absl::StrCat("unknown adapter type '",
                                          type.Scalar(), "'"));
    }
    LIENTHONG_RETURN_IF_ERROR(Message(node, typed.get(), path));
    auto* any = static_cast<google::protobuf::Any*>(
        message->GetReflection()->MutableMessage(message, field));
    any->PackFrom(*typed);
    return absl::OkStatus();
  }

  absl::Status Field(const YAML::Node& node, google::protobuf::Message* message,
                     const FieldDescriptor* field, const std::string& path) {
    if (!field->is_repeated()) return Single(node, message, field, path);
    if (node.IsNull()) return absl::OkStatus();  // "key:" with no items
    if (!node.IsSequence()) {
      return Error(node, path, absl::StrCat("expected a list, got ", Describe(node)));
    }
    for (size_t i = 0; i < node.size(); ++i) {
      LIENTHONG_RETURN_IF_ERROR(
          Single(node[i], message, field, absl::StrCat(path, "[", i, "]")));
    }
    return absl::OkStatus();
  }

  // One value: of a singular field, or appended to a repeated one.
  absl::Status Single(const YAML::Node& node, google::protobuf::Message* message,
                      const FieldDescriptor* field, const std::string& path) {
    const Reflection* r = message->GetReflection();
    const bool repeated = field->is_repeated();
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      google::protobuf::Message* child = repeated ? r->AddMessage(message, field)
                                                  : r->MutableMessage(message, field);
      if (node.IsNull()) return absl::OkStatus();
      return Message(node, child, path);
    }
    if (!node.IsScalar()) {
      return Error(node, path, absl::StrCat("expected ", Expected(field),
                                            ", got ", Describe(node)));
    }
    const std::string& text = node.Scalar();
    auto bad = [&] {
      return Error(node, path, absl::StrCat("expected ", Expected(field)));
    };
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING: {
        LIENTHONG_ASSIGN_OR_RETURN(std::string value, Expand(node, path, text));
        if (absl::EndsWith(field->name(), "_file") && !value.empty() &&
            value[0] != '/' && !base_dir_.empty()) {
          value = absl::StrCat(base_dir_, "/", value);
        }
        repeated ? r->AddString(message, field, value)
                 : r->SetString(message, field, value);
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_BOOL: {
        bool value;
        if (text == "true") {
          value = true;
        } else if (text == "false") {
          value = false;
        } else {
          return bad();
        }
        repeated ? r->AddBool(message, field, value) : r->SetBool(message, field, value);
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_INT32:
      case FieldDescriptor::CPPTYPE_INT64: {
        int64_t value;
        if (!absl::SimpleAtoi(text, &value)) return bad();
        if (field->cpp_type() == FieldDescriptor::CPPTYPE_INT32 &&
            (value < std::numeric_limits<int32_t>::min() ||
             value > std::numeric_limits<int32_t>::max())) {
          return Error(node, path, "number out of range");
        }
        if (field->cpp_type() == FieldDescriptor::CPPTYPE_INT32) {
          repeated ? r->AddInt32(message, field, static_cast<int32_t>(value))
                   : r->SetInt32(message, field, static_cast<int32_t>(value));
        } else {
          repeated ? r->AddInt64(message, field, value)
                   : r->SetInt64(message, field, value);
        }
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_UINT32:
      case FieldDescriptor::CPPTYPE_UINT64: {
        uint64_t value;
        if (!absl::SimpleAtoi(text, &value)) return bad();
        if (field->cpp_type() == FieldDescriptor::CPPTYPE_UINT32) {
          if (value > std::numeric_limits<uint32_t>::max()) {
            return Error(node, path, "number out of range");
          }
          repeated ? r->AddUInt32(message, field, static_cast<uint32_t>(value))
                   : r->SetUInt32(message, field, static_cast<uint32_t>(value));
        } else {
          repeated ? r->AddUInt64(message, field, value)
                   : r->SetUInt64(message, field, value);
        }
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_DOUBLE:
      case FieldDescriptor::CPPTYPE_FLOAT: {
        double value;
        if (!absl::SimpleAtod(text, &value)) return bad();
        if (field->cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE) {
          repeated ? r->AddDouble(message, field, value)
                   : r->SetDouble(message, field, value);
        } else {
          repeated ? r->AddFloat(message, field, static_cast<float>(value))
                   : r->SetFloat(message, field, static_cast<float>(value));
        }
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_ENUM: {
        const auto* value = field->enum_type()->FindValueByName(text);
        if (value == nullptr) {
          std::vector<std::string> names;
          for (int i = 0; i < field->enum_type()->value_count(); ++i) {
            names.push_back(field->enum_type()->value(i)->name());
          }
          return Error(node, path, absl::StrCat("expected one of ",
                                                absl::StrJoin(names, ", ")));
        }
        repeated ? r->AddEnum(message, field, value)
                 : r->SetEnum(message, field, value);
        return absl::OkStatus();
      }
      default:
        return Error(node, path, "unsupported field type");
    }
  }

  static std::string Expected(const FieldDescriptor* field) {
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        return "a string";
      case FieldDescriptor::CPPTYPE_BOOL:
        return "true or false";
      case FieldDescriptor::CPPTYPE_INT32:
      case FieldDescriptor::CPPTYPE_INT64:
      case FieldDescriptor::CPPTYPE_UINT32:
      case FieldDescriptor::CPPTYPE_UINT64:
        return "an integer";
      case FieldDescriptor::CPPTYPE_DOUBLE:
      case FieldDescriptor::CPPTYPE_FLOAT:
        return "a number";
      case FieldDescriptor::CPPTYPE_ENUM:
        return "an enum name";
      default:
        return "a mapping";
    }
  }

  // Replaces each ${NAME} with the environment variable's value.
  absl::StatusOr<std::string> Expand(const YAML::Node& node,
                                     const std::string& path,
                                     const std::string& text) const {
    std::string out;
    size_t pos = 0;
    while (true) {
      size_t start = text.find("${", pos);
      if (start == std::string::npos) break;
      size_t end = text.find('}', start);
      if (end == std::string::npos) {
        return Error(node, path, "unterminated ${ in string");
      }
      std::string name = text.substr(start + 2, end - start - 2);
      const char* value = std::getenv(name.c_str());
      if (name.empty() || value == nullptr) {
        return Error(node, path,
                     absl::StrCat("environment variable '", name, "' is not set"));
      }
      absl::StrAppend(&out, text.substr(pos, start - pos), value);
      pos = end + 1;
    }
    absl::StrAppend(&out, text.substr(pos));
    return out;
  }

  const std::string source_;
  const std::string base_dir_;
  const AdapterConfigResolver& resolver_;
};

absl::Status Invalid(absl::string_view what) {
  return absl::InvalidArgumentError(what);
}

}  // namespace

const std::vector<std::string>& KnownMethods() {
  static const auto* const kMethods = new std::vector<std::string>{
      "lienthong.v1.IdentityService/VerifyIdentity",
      "lienthong.v1.PopulationService/LookupCitizen",
  };
  return *kMethods;
}

absl::StatusOr<lienthong::config::v1::GatewayConfig> ParseConfigYaml(
    absl::string_view yaml, absl::string_view source_name,
    absl::string_view base_dir, const AdapterConfigResolver& resolver) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        source_name, ":", e.mark.line + 1, ":", e.mark.column + 1,
        ": YAML syntax error: ", e.msg));
  }
  lienthong::config::v1::GatewayConfig config;
  try {
    YamlToProto parser(source_name, base_dir, resolver);
    LIENTHONG_RETURN_IF_ERROR(parser.Message(root, &config, ""));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        source_name, ":", e.mark.line + 1, ":", e.mark.column + 1, ": ", e.msg));
  }
  return config;
}

absl::StatusOr<lienthong::config::v1::GatewayConfig> LoadConfigFile(
    const std::string& path, const AdapterConfigResolver& resolver) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot read config file '", path, "': ", std::strerror(errno)));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string base_dir = ".";
  if (size_t slash = path.rfind('/'); slash != std::string::npos) {
    base_dir = path.substr(0, slash == 0 ? 1 : slash);
  }
  LIENTHONG_ASSIGN_OR_RETURN(
      auto config, ParseConfigYaml(buffer.str(), path, base_dir, resolver));
  absl::Status valid = ValidateConfig(config, resolver);
  if (!valid.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", valid.message()));
  }
  return config;
}

absl::Status ValidateConfig(const lienthong::config::v1::GatewayConfig& config,
                            const AdapterConfigResolver& resolver) {
  const auto& listener = config.listener();
  if (listener.address().empty()) return Invalid("listener.address is required");
  size_t colon = listener.address().rfind(':');
  int port = -1;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(listener.address().substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return Invalid("listener.address must be host:port, e.g. 0.0.0.0:8443");
  }
  const auto& tls = listener.tls();
  if (tls.cert_file().empty() || tls.key_file().empty()) {
    return Invalid("listener.tls.cert_file and key_file are required");
  }
  bool require_client_cert =
      !tls.has_require_client_cert() || tls.require_client_cert();
  if (require_client_cert && tls.client_ca_file().empty()) {
    return Invalid("listener.tls.client_ca_file is required");
  }
  if (!require_client_cert && !tls.insecure_allow_no_client_cert()) {
    return Invalid(
        "listener.tls.require_client_cert: false also needs "
        "insecure_allow_no_client_cert: true (without client certificates "
        "anyone reaches the HTTP/2 parser)");
  }
  if (tls.refresh_interval_seconds() < 0) {
    return Invalid("listener.tls.refresh_interval_seconds must be >= 0");
  }
  if (listener.threads() < 0) return Invalid("listener.threads must be >= 0");

  std::set<std::string> adapters;
  for (int i = 0; i < config.adapters_size(); ++i) {
    const auto& a = config.adapters(i);
    std::string where = absl::StrCat("adapters[", i, "]");
    if (a.name().empty()) return Invalid(absl::StrCat(where, ".name is required"));
    if (!adapters.insert(a.name()).second) {
      return Invalid(absl::StrCat(where, ".name '", a.name(), "' is used twice"));
    }
    if (resolver(a.type()) == nullptr) {
      return Invalid(absl::StrCat(where, ".type: unknown adapter type '",
                                  a.type(), "'"));
    }
    if (!a.has_config()) return Invalid(absl::StrCat(where, ".config is required"));
  }
  const auto& methods = KnownMethods();
  auto known_method = [&](const std::string& m) {
    return std::find(methods.begin(), methods.end(), m) != methods.end();
  };
  std::set<std::string> routed;
  for (int i = 0; i < config.routes_size(); ++i) {
    const auto& r = config.routes(i);
    std::string where = absl::StrCat("routes[", i, "]");
    if (!known_method(r.method())) {
      return Invalid(absl::StrCat(where, ".method: unknown method '", r.method(),
                                  "' (known: ", absl::StrJoin(methods, ", "), ")"));
    }
    if (!routed.insert(r.method()).second) {
      return Invalid(absl::StrCat(where, ": ", r.method(), " is routed twice"));
    }
    if (adapters.count(r.adapter()) == 0) {
      return Invalid(absl::StrCat(where, ".adapter: no adapter named '",
                                  r.adapter(), "'"));
    }
    if (r.timeout_ms() < 0) {
      return Invalid(absl::StrCat(where, ".timeout_ms must be >= 0"));
    }
  }
  std::set<std::string> clients;
  const Descriptor* citizen = lienthong::v1::Citizen::descriptor();
  for (int i = 0; i < config.clients_size(); ++i) {
    const auto& c = config.clients(i);
    std::string where = absl::StrCat("clients[", i, "]");
    if (c.id().empty()) return Invalid(absl::StrCat(where, ".id is required"));
    if (!clients.insert(c.id()).second) {
      return Invalid(absl::StrCat(where, ".id '", c.id(), "' is listed twice"));
    }
    for (const auto& m : c.methods()) {
      if (!known_method(m)) {
        return Invalid(absl::StrCat(where, ".methods: unknown method '", m, "'"));
      }
    }
    for (int g = 0; g < c.grants_size(); ++g) {
      const auto& grant = c.grants(g);
      std::string gwhere = absl::StrCat(where, ".grants[", g, "]");
      if (grant.purposes_size() == 0) {
        return Invalid(absl::StrCat(gwhere, ".purposes must name at least one "
                                            "procedure code or \"*\""));
      }
      for (const auto& f : grant.fields()) {
        if (citizen->FindFieldByName(f) == nullptr) {
          return Invalid(absl::StrCat(gwhere, ".fields: '", f,
                                      "' is not a field of lienthong.v1.Citizen"));
        }
      }
    }
  }
  const std::string& level = config.logging().level();
  if (!level.empty() && level != "debug" && level != "info" &&
      level != "warning" && level != "error") {
    return Invalid("logging.level must be debug, info, warning or error");
  }
  return absl::OkStatus();
}

}  // namespace lienthong::config
