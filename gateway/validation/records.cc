#include "gateway/validation/records.h"

#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gateway/validation/codes.h"
#include "gateway/validation/officer.h"
#include "gateway/validation/text.h"
#include "re2/re2.h"

namespace lienthong::validation {
namespace {

bool IsRecordName(absl::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_')) {
      return false;
    }
  }
  return true;
}

// Checks `names` are well-formed and distinct; INVALID_ARGUMENT naming
// `what` of record type `type` otherwise.
absl::Status CheckNames(const std::vector<std::string>& names,
                        absl::string_view type, absl::string_view what) {
  if (names.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("record type '", type, "' declares no ", what));
  }
  std::set<absl::string_view> seen;
  for (const std::string& name : names) {
    if (!IsRecordName(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("record type '", type, "': ", what, " '", name,
                       "' must be 1 to 64 of a-z, 0-9 and _"));
    }
    if (!seen.insert(name).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "record type '", type, "': ", what, " '", name, "' is repeated"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateRecordName(absl::string_view name,
                                absl::string_view field) {
  if (name.empty()) return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
  if (!IsRecordName(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " must be 1 to 64 of a-z, 0-9 and _"));
  }
  return absl::OkStatus();
}

RecordSchema::RecordSchema(adapters::RecordType type)
    : type_(std::move(type)) {}
RecordSchema::~RecordSchema() = default;

absl::StatusOr<std::unique_ptr<const RecordSchema>> RecordSchema::Create(
    adapters::RecordType type) {
  if (!IsRecordName(type.name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "record type name '", type.name, "' must be 1 to 64 of a-z, 0-9 and _"));
  }
  std::vector<std::string> parameter_names;
  for (const auto& parameter : type.parameters) {
    parameter_names.push_back(parameter.name);
  }
  if (absl::Status s = CheckNames(parameter_names, type.name, "parameter");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckNames(type.fields, type.name, "field"); !s.ok()) {
    return s;
  }
  auto schema = std::unique_ptr<RecordSchema>(new RecordSchema(type));
  for (const auto& parameter : type.parameters) {
    if (parameter.pattern.empty()) {
      schema->patterns_.push_back(nullptr);
      continue;
    }
    RE2::Options options;
    options.set_log_errors(false);
    auto pattern = std::make_unique<re2::RE2>(parameter.pattern, options);
    if (!pattern->ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "record type '", type.name, "': the pattern of parameter '",
          parameter.name, "' does not compile: ", pattern->error()));
    }
    schema->patterns_.push_back(std::move(pattern));
  }
  return std::unique_ptr<const RecordSchema>(std::move(schema));
}

bool RecordSchema::HasField(absl::string_view name) const {
  for (const std::string& field : type_.fields) {
    if (field == name) return true;
  }
  return false;
}

absl::Status RecordSchema::CheckParameters(
    const google::protobuf::Map<std::string, std::string>& parameters) const {
  for (const auto& [name, value] : parameters) {
    bool declared = false;
    for (const auto& parameter : type_.parameters) {
      declared = declared || parameter.name == name;
    }
    if (!declared) {
      return absl::InvalidArgumentError(
          IsRecordName(name)
              ? absl::StrCat("parameters: '", name,
                             "' is not a parameter of record type '",
                             type_.name, "'")
              : absl::StrCat("parameters: a parameter name is malformed (",
                             "1 to 64 of a-z, 0-9 and _)"));
    }
  }
  for (size_t i = 0; i < type_.parameters.size(); ++i) {
    const adapters::RecordParameter& parameter = type_.parameters[i];
    const std::string field = absl::StrCat("parameters.", parameter.name);
    auto it = parameters.find(parameter.name);
    if (it == parameters.end() || it->second.empty()) {
      if (!parameter.required) continue;
      return absl::InvalidArgumentError(absl::StrCat(
          field, " is required by record type '", type_.name, "'"));
    }
    const std::string& value = it->second;
    // Printable UTF-8 of bounded size: the one text rule (text.h).
    if (absl::Status text = ValidateText(value, kMaxRecordParameterBytes);
        !text.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": ", text.message()));
    }
    if (patterns_[i] != nullptr && !RE2::FullMatch(value, *patterns_[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, " does not have the form the record type '",
                       type_.name, "' requires"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateGetRecord(const lienthong::v1::GetRecordRequest& request,
                               const RecordSchema& schema, absl::Time now) {
  if (absl::Status s = schema.CheckParameters(request.parameters()); !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidatePurpose(request.purpose()); !s.ok()) return s;
  if (absl::Status s = ValidateDossierId(request.dossier_id()); !s.ok()) {
    return s;
  }
  if (absl::Status s =
          ValidateOfficer(request.has_officer(), request.officer(), now);
      !s.ok()) {
    return s;
  }
  std::set<absl::string_view> seen;
  for (int i = 0; i < request.fields_size(); ++i) {
    const std::string& field = request.fields(i);
    if (!schema.HasField(field)) {
      return absl::InvalidArgumentError(
          IsRecordName(field)
              ? absl::StrCat("fields[", i, "]: '", field,
                             "' is not a field of record type '",
                             schema.type().name, "'")
              : absl::StrCat("fields[", i, "] is malformed"));
    }
    if (!seen.insert(field).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("fields[", i, "]: '", field, "' is repeated"));
    }
  }
  return absl::OkStatus();
}

}  // namespace lienthong::validation
