#include "gateway/policy/policy.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gateway/status/bounded_text.h"
#include "gateway/status/status_macros.h"
#include "gateway/validation/codes.h"
#include "google/protobuf/util/field_mask_util.h"
#include "lienthong/v1/population.pb.h"

namespace lienthong::policy {

using google::protobuf::FieldMask;
using google::protobuf::util::FieldMaskUtil;

absl::StatusOr<std::shared_ptr<const Policy>> Policy::FromConfig(
    const lienthong::config::v1::GatewayConfig& config) {
  auto policy = std::shared_ptr<Policy>(new Policy());
  for (const auto& client : config.clients()) {
    ClientRules rules;
    rules.methods.insert(client.methods().begin(), client.methods().end());
    rules.roles.insert(client.roles().begin(), client.roles().end());
    rules.require_dossier_id = client.require_dossier_id();
    for (const auto& grant : client.grants()) {
      rules.grants.push_back(
          Grant{{grant.purposes().begin(), grant.purposes().end()},
                {grant.fields().begin(), grant.fields().end()},
                grant.record_type()});
    }
    if (!policy->clients_.emplace(client.id(), std::move(rules)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("client '", client.id(), "' is listed twice"));
    }
  }
  return std::shared_ptr<const Policy>(std::move(policy));
}

const Policy::ClientRules* Policy::Find(absl::string_view client) const {
  auto it = clients_.find(client);
  return it == clients_.end() ? nullptr : &it->second;
}

absl::Status Policy::CheckDossier(absl::string_view client,
                                  absl::string_view dossier_id) const {
  const ClientRules* rules = Find(client);
  if (rules != nullptr && rules->require_dossier_id && dossier_id.empty()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "client '", client, "' must name the dossier (dossier_id) it serves"));
  }
  return absl::OkStatus();
}

bool Policy::HasRole(absl::string_view client, absl::string_view role) const {
  const ClientRules* rules = Find(client);
  return rules != nullptr && rules->roles.count(role) > 0;
}

absl::Status Policy::CheckMethod(absl::string_view client,
                                 absl::string_view method) const {
  const ClientRules* rules = Find(client);
  if (rules == nullptr) {
    return absl::PermissionDeniedError(
        absl::StrCat("client '", client, "' is not registered"));
  }
  if (rules->methods.count(method) == 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("client '", client, "' may not call ", method));
  }
  return absl::OkStatus();
}

std::set<std::string> Policy::Granted(const ClientRules& rules,
                                      absl::string_view purpose,
                                      absl::string_view record_type) {
  // A grant for "1.001193" covers the province's form of the same
  // procedure, "1.001193.000.00.00.H31", as well.
  const std::string exact(purpose);
  const std::string national =
      validation::NationalProcedureCode(purpose).value_or(exact);
  std::set<std::string> granted;
  for (const Grant& grant : rules.grants) {
    if (grant.record_type != record_type) continue;
    if (grant.purposes.count(exact) || grant.purposes.count(national) ||
        grant.purposes.count("*")) {
      granted.insert(grant.fields.begin(), grant.fields.end());
    }
  }
  return granted;
}

absl::StatusOr<std::set<std::string>> Policy::RecordFields(
    absl::string_view client, absl::string_view purpose,
    absl::string_view record_type,
    const std::vector<std::string>& requested) const {
  const ClientRules* rules = Find(client);
  if (rules == nullptr) {
    return absl::PermissionDeniedError(
        absl::StrCat("client '", client, "' is not registered"));
  }
  std::set<std::string> granted = Granted(*rules, purpose, record_type);
  if (granted.empty()) {
    return absl::PermissionDeniedError(
        absl::StrCat("client '", client, "' has no grant for record type '",
                     record_type, "' and purpose '", purpose, "'"));
  }
  if (requested.empty()) return granted;
  std::vector<std::string> denied;
  for (const std::string& field : requested) {
    if (granted.count(field) == 0) denied.push_back(field);
  }
  if (!denied.empty()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "client '", client, "' may not receive ", CappedList(denied),
        " of record type '", record_type, "' for purpose '", purpose, "'"));
  }
  return std::set<std::string>(requested.begin(), requested.end());
}

absl::StatusOr<FieldMask> Policy::LookupFields(
    absl::string_view client, absl::string_view purpose,
    const FieldMask& requested) const {
  const ClientRules* rules = Find(client);
  if (rules == nullptr) {
    return absl::PermissionDeniedError(
        absl::StrCat("client '", client, "' is not registered"));
  }
  const std::set<std::string> granted = Granted(*rules, purpose, "");
  if (granted.empty()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "client '", client, "' has no grant for purpose '", purpose, "'"));
  }
  LIENTHONG_RETURN_IF_ERROR(CheckFieldMaskSize(requested));
  FieldMask result;
  if (requested.paths_size() == 0) {
    for (const std::string& field : granted) result.add_paths(field);
    return result;
  }
  std::vector<std::string> denied;
  const google::protobuf::Descriptor* citizen =
      lienthong::v1::Citizen::descriptor();
  for (const std::string& path : requested.paths()) {
    const bool top_level = path.find('.') == std::string::npos;
    // FieldMaskUtil skips empty segments: it would take "name." and
    // "name..full" for "name" and "name.full", and "." for no field at all.
    const bool empty_segment =
        !top_level && (path.front() == '.' || path.back() == '.' ||
                       absl::StrContains(path, ".."));
    if (empty_segment || (top_level ? citizen->FindFieldByName(path) == nullptr
                                    : !FieldMaskUtil::GetFieldDescriptors(
                                          citizen, path, nullptr))) {
      return absl::InvalidArgumentError(
          absl::StrCat("fields: '", TruncateUtf8(path, 64),
                       path.size() > 64 ? "...' " : "' ",
                       "is not a field of Citizen"));
    }
    // A path is covered by a grant of itself or of an enclosing message.
    bool covered = false;
    for (const std::string& field : granted) {
      if (absl::StartsWith(path, field) &&
          (path.size() == field.size() || path[field.size()] == '.')) {
        covered = true;
        break;
      }
    }
    if (!covered) denied.push_back(path);
    result.add_paths(path);
  }
  if (!denied.empty()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "client '", client, "' may not receive ", CappedList(denied),
        " for purpose '", purpose, "'"));
  }
  return result;
}

absl::Status Policy::CheckFieldMaskSize(const FieldMask& requested) {
  if (requested.paths_size() > kMaxFieldMaskPaths) {
    return absl::InvalidArgumentError(
        absl::StrCat("fields: at most ", kMaxFieldMaskPaths, " paths (got ",
                     requested.paths_size(), ")"));
  }
  return absl::OkStatus();
}

}  // namespace lienthong::policy
