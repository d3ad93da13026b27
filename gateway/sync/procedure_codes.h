// ProcedureCodeMap: how the province's procedure codes map to the national
// procedure database's (MaTTHC). The provincial form is the national code
// followed by the unit code, "1.001193.000.00.00.H31" -> "1.001193"; a
// code already national maps to itself; codes whose national code is not
// their prefix are mapped explicitly (portal_sync.procedure_codes, as
// VietOpenCPS keeps a ServiceInfoMapping per service code).
//
// Immutable once made: thread-safe.
#ifndef LIENTHONG_GATEWAY_SYNC_PROCEDURE_CODES_H_
#define LIENTHONG_GATEWAY_SYNC_PROCEDURE_CODES_H_

#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "lienthong/config/v1/config.pb.h"

namespace lienthong::sync {

using ProcedureCodeMappings =
    google::protobuf::RepeatedPtrField<lienthong::config::v1::ProcedureCodeMapping>;

// Returns OK when every mapping has a valid procedure code as `local` (see
// validation::ValidateProcedureCode) and a national code as `national`, and
// no local code appears twice; else INVALID_ARGUMENT
// "procedure_codes[<i>].<field>: ...". Thread-safe.
absl::Status ValidateProcedureCodeMappings(const ProcedureCodeMappings& mappings);

class ProcedureCodeMap {
 public:
  // The rule alone, no explicit mappings.
  ProcedureCodeMap() = default;

  // Fails as ValidateProcedureCodeMappings.
  static absl::StatusOr<ProcedureCodeMap> Create(
      const ProcedureCodeMappings& mappings);

  // Returns the national code of `code`: its explicit mapping, else its
  // first 8 characters (the national part of a valid procedure code).
  // REQUIRES: validation::ValidateProcedureCode(code, ...).ok().
  std::string National(absl::string_view code) const;

 private:
  absl::flat_hash_map<std::string, std::string> explicit_;
};

}  // namespace lienthong::sync

#endif  // LIENTHONG_GATEWAY_SYNC_PROCEDURE_CODES_H_
