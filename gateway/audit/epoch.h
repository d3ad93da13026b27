// Opening a new epoch: what an operator does after inspecting a journal the
// gateway would not continue (a damaged frame, a rewritten chain, missing
// checkpoints, anchors the journal lacks). `lienthong audit new-epoch` runs
// it on the journal while the gateway is stopped. It verifies the journal,
// records the break it finds and who acknowledged it why, in an
// EPOCH_OPENED record that continues from the last record found (the
// damaged part is left as it is, as evidence), signs that record with an
// EPOCH checkpoint that names the last checkpoint found, and anchors the
// checkpoint. The gateway then opens the journal ready again, and
// verification reports the break as acknowledged (verify.h).
#ifndef LIENTHONG_GATEWAY_AUDIT_EPOCH_H_
#define LIENTHONG_GATEWAY_AUDIT_EPOCH_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "gateway/audit/signing.h"
#include "lienthong/v1/audit.pb.h"

namespace lienthong::audit {

// The longest node name, `opened_by` or `reason` a new epoch takes.
inline constexpr size_t kMaxEpochTextBytes = 4096;

struct NewEpochOptions {
  std::string journal_dir;
  // The anchor file: compared as the gateway does, and it receives the
  // epoch's checkpoint. Empty: none.
  std::string anchor_file;
  // Signs the epoch; its public key verifies the journal. Required.
  const SigningKey* key = nullptr;
  bool key_pinned = false;
  std::string node;
  // Who opens the epoch and why. Required; no personal data; text
  // (validation::ValidateText) of at most kMaxEpochTextBytes each.
  std::string opened_by;
  std::string reason;
  uint32_t checkpoint_every = 1000;
  uint64_t segment_bytes = 64ull << 20;
};

struct NewEpochResult {
  lienthong::v1::AuditBreak epoch_break;
  uint64_t sequence = 0;          // of the EPOCH_OPENED record
  uint64_t checkpoint_index = 0;  // of its checkpoint
};

// Opens a new epoch. Fails with INVALID_ARGUMENT for missing options or
// text that is not text (invalid UTF-8, control characters, too long),
// FAILED_PRECONDITION when the journal is in use (the gateway runs) or
// there is no break to acknowledge (it verifies and the gateway would open
// it), UNAVAILABLE when it cannot be read or written.
absl::StatusOr<NewEpochResult> OpenNewEpoch(const NewEpochOptions& options);

}  // namespace lienthong::audit

#endif  // LIENTHONG_GATEWAY_AUDIT_EPOCH_H_
