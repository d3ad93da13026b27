// What the audit log checks when it opens a journal, before it writes or
// signs anything: RecoverJournal reads the journal's end back to the last
// checkpoint and verifies everything from there (the checkpoint's signature
// against the pinned key, the record it signs, every record after it, the
// cadence), and compares the last checkpoint with the latest anchor outside
// the store (the highest it holds). The log then either continues after
// what it verified or, for anything but a torn tail, stays not ready until
// an operator opens a new epoch (epoch.h).
#ifndef LIENTHONG_GATEWAY_AUDIT_RECOVERY_H_
#define LIENTHONG_GATEWAY_AUDIT_RECOVERY_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "gateway/audit/journal.h"
#include "gateway/audit/record.h"
#include "gateway/audit/signing.h"

namespace lienthong::audit {

// The end of both chains: the last record and the last checkpoint.
struct ChainHead {
  uint64_t sequence = 0;
  std::string hash = GenesisHash();
  uint64_t checkpoint_index = 0;
  std::string checkpoint_hash = GenesisHash();
  uint64_t checkpoint_sequence = 0;
  // The last checkpoint's cadence: the next must sign a record at most
  // this many records later (1 at the genesis: the first record is signed
  // at once).
  uint64_t checkpoint_every = 1;
  uint32_t epoch = 1;
};

struct Recovery {
  // False: the journal must not be continued; `reason` says why (for
  // /readyz and the refusal of calls; no personal data).
  bool ready = false;
  std::string reason;
  // What the verified journal ends with (ready only).
  ChainHead head;
  // Whether the last run stopped cleanly (its last entry is a CLEAN_STOP
  // checkpoint at the head).
  bool clean_stop = false;
  // Whether the segment the journal ends in ends with its seal (a
  // SEGMENT_SEALED checkpoint): nothing more is written in it.
  bool segment_sealed = false;
  // Facts for the LOG_OPENED record ("key=value; ...").
  std::string details;
};

struct RecoveryOptions {
  std::string journal_dir;
  // The key checkpoints must verify with; `pinned` when its fingerprint was
  // checked against the configured pin.
  const PublicKey* key = nullptr;
  // The anchor file to compare with; empty for none.
  std::string anchor_file;
};

// Checks the journal whose end `tail` describes (Journal::tail()). Returns
// the finding (a journal that may not be continued is a finding, not an
// error), or UNAVAILABLE when the journal cannot be read. Thread-safe.
absl::StatusOr<Recovery> RecoverJournal(const JournalTail& tail,
                                        const RecoveryOptions& options);

}  // namespace lienthong::audit

#endif  // LIENTHONG_GATEWAY_AUDIT_RECOVERY_H_
