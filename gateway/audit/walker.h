// The verification walk behind verify.h: a Source of records and
// checkpoints (a journal, an export file) and the Walker that judges them
// by the rules verify.h states. Internal to the audit library.
#ifndef LIENTHONG_GATEWAY_AUDIT_WALKER_H_
#define LIENTHONG_GATEWAY_AUDIT_WALKER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gateway/audit/recovery.h"
#include "gateway/audit/verify.h"

namespace lienthong::audit {

// One record as read from a source. `ordinal` increases in stored order.
struct Row {
  uint64_t ordinal = 0;
  // False: a file line or journal frame that is not a valid record; then
  // `damage` says why (a journal's damaged frame: CORRUPT), or it is empty
  // (a line that does not parse: EDITED).
  bool parsed = true;
  std::string damage;
  std::string where;  // "line 7", "segment 3 offset 4096"
  AuditRecord record;
};

// Where records come from.
class Source {
 public:
  virtual ~Source() = default;
  // Calls `visit` for each record in stored order until it returns false.
  // `visit` may take the row's contents.
  virtual absl::Status Scan(absl::FunctionRef<bool(Row&)> visit) = 0;
  // Returns the checkpoints, in any order.
  virtual absl::StatusOr<std::vector<AuditCheckpoint>> Checkpoints() = 0;
  // Where the chains start when `first` is the first record (nullptr: there
  // is none): the genesis (a head of zeros), a trusted head (an archive's
  // signed anchor), or nullopt: the first record's own prev_hash and the
  // first checkpoint's link are taken on trust (a partial export).
  virtual std::optional<ChainHead> Start(const Row* first) const = 0;
  // Names a row's position for people ("record 12 (line 7)").
  virtual std::string Where(const Row& row) const = 0;
};

// Walks `source` and returns the report. `anchors` are the anchor file's
// checkpoints (empty for none). Fails only when the source cannot be read.
absl::StatusOr<VerifyReport> Walk(Source& source, const VerifyOptions& options,
                                  std::vector<AuditCheckpoint> anchors);

}  // namespace lienthong::audit

#endif  // LIENTHONG_GATEWAY_AUDIT_WALKER_H_
