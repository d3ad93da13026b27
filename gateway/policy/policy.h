// Access policy: which provincial system may call which method, and which
// citizen fields it may receive for which purpose. Deny by default.
#ifndef LIENTHONG_GATEWAY_POLICY_POLICY_H_
#define LIENTHONG_GATEWAY_POLICY_POLICY_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/field_mask.pb.h"
#include "lienthong/config/v1/config.pb.h"

namespace lienthong::policy {

// Immutable once built; shared by calls in flight, replaced whole on reload.
class Policy {
 public:
  // Builds the policy from the config's client list. Fails with
  // INVALID_ARGUMENT on a duplicate client id.
  static absl::StatusOr<std::shared_ptr<const Policy>> FromConfig(
      const lienthong::config::v1::GatewayConfig& config);

  // OK when `client` may call `method` (a full method name); otherwise
  // PERMISSION_DENIED naming the client and method. Thread-safe.
  absl::Status CheckMethod(absl::string_view client,
                           absl::string_view method) const;

  // OK unless `client` must name the dossier a call serves and
  // `dossier_id` is empty: then PERMISSION_DENIED saying so. Thread-safe.
  absl::Status CheckDossier(absl::string_view client,
                            absl::string_view dossier_id) const;

  // True when `client` is registered with `role` (e.g. "auditor").
  // Thread-safe.
  bool HasRole(absl::string_view client, absl::string_view role) const;

  // Most paths a request's field mask may hold; more are refused with
  // INVALID_ARGUMENT before any policy check (CheckFieldMaskSize).
  static constexpr int kMaxFieldMaskPaths = 64;

  // Returns OK, or INVALID_ARGUMENT when `requested` holds more than
  // kMaxFieldMaskPaths paths. Thread-safe.
  static absl::Status CheckFieldMaskSize(
      const google::protobuf::FieldMask& requested);

  // Decides which fields of lienthong.v1.Citizen `client` receives for
  // `purpose`: the union of its grants for `purpose` itself, for its
  // national procedure code (validation::NationalProcedureCode: a grant for
  // "1.001193" covers "1.001193.000.00.00.H31") and for "*". An empty
  // `requested` mask means every granted field. Returns
  // the mask to apply, or PERMISSION_DENIED naming the requested fields that
  // are beyond the grant (callers learn their grant; nothing is trimmed
  // silently; the first five and how many more), or INVALID_ARGUMENT for a
  // path that is not a Citizen field (an empty segment, as in "name..full"
  // or "name.", included) or a mask too large (CheckFieldMaskSize).
  // Thread-safe.
  absl::StatusOr<google::protobuf::FieldMask> LookupFields(
      absl::string_view client, absl::string_view purpose,
      const google::protobuf::FieldMask& requested) const;

  // Decides which fields of a `record_type` record (RecordService) `client`
  // receives for `purpose`: the union of its grants for that record type
  // and for `purpose`, its national procedure code or "*", as LookupFields.
  // Empty `requested` means every granted field. Returns the field names to
  // return, or PERMISSION_DENIED when nothing is granted or naming the
  // requested fields beyond the grant. REQUIRES: `requested` names fields of
  // the record type (validation::ValidateGetRecord). Thread-safe.
  absl::StatusOr<std::set<std::string>> RecordFields(
      absl::string_view client, absl::string_view purpose,
      absl::string_view record_type,
      const std::vector<std::string>& requested) const;

 private:
  struct Grant {
    std::set<std::string> purposes;  // "*" matches any
    std::set<std::string> fields;
    // Empty: fields of lienthong.v1.Citizen; else a record type's fields.
    std::string record_type;
  };
  struct ClientRules {
    std::set<std::string, std::less<>> methods;
    std::set<std::string, std::less<>> roles;
    std::vector<Grant> grants;
    bool require_dossier_id = false;
  };
  const ClientRules* Find(absl::string_view client) const;
  // The union of `rules`' grants for `record_type` ("" for citizens) that
  // cover `purpose`.
  static std::set<std::string> Granted(const ClientRules& rules,
                                       absl::string_view purpose,
                                       absl::string_view record_type);

  std::map<std::string, ClientRules, std::less<>> clients_;
};

}  // namespace lienthong::policy

#endif  // LIENTHONG_GATEWAY_POLICY_POLICY_H_
