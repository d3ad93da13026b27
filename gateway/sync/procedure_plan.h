// The catalogue side of portal synchronisation, as pure functions:
// validating a whole catalogue (every bad procedure named), the content hash
// of a procedure, and the plan of a catalogue against what the portal holds
// (create, update, unchanged, withdraw). The outbox keeps the state these
// are computed against.
#ifndef LIENTHONG_GATEWAY_SYNC_PROCEDURE_PLAN_H_
#define LIENTHONG_GATEWAY_SYNC_PROCEDURE_PLAN_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "lienthong/v1/portal.pb.h"

namespace lienthong::sync {

// Most procedures one SyncProcedures call may carry.
inline constexpr int kMaxCatalogueSize = 20000;

// Returns OK when every procedure of `request` is valid (ValidateProcedure)
// and no code appears twice; otherwise INVALID_ARGUMENT listing every bad
// procedure, one per line, as "procedures[<index>] (<code>): <reason>"
// (procedure codes are public). Also INVALID_ARGUMENT for more than
// kMaxCatalogueSize procedures. Thread-safe.
absl::Status ValidateCatalogue(const lienthong::v1::SyncProceduresRequest& request);

// Returns the lower-case hex SHA-256 of the procedure's deterministic
// serialization: equal content, equal hash. Thread-safe.
std::string ProcedureContentHash(const lienthong::v1::Procedure& procedure);

// One procedure of the catalogue with its content hash.
struct CatalogueEntry {
  std::string code;
  std::string hash;
};

// Returns the plan of `catalogue` against `current` (code -> content hash
// the portal holds or will hold once the changes already queued are
// delivered; codes it does not hold are absent): CREATE for a code not
// held, UPDATE for a different hash, UNCHANGED for the same, in catalogue
// order; then, with `withdraw_missing`, WITHDRAW for each held code not in
// the catalogue, in code order. Thread-safe.
// REQUIRES: codes in `catalogue` are distinct.
std::vector<lienthong::v1::ProcedurePlan> ComputePlan(
    const std::vector<CatalogueEntry>& catalogue,
    const absl::flat_hash_map<std::string, std::string>& current,
    bool withdraw_missing);

}  // namespace lienthong::sync

#endif  // LIENTHONG_GATEWAY_SYNC_PROCEDURE_PLAN_H_
