// Verification of the audit log: VerifyJournal walks a journal (and, with
// archive_dir, every archive before it), VerifyExportFile an exported
// JSON-lines file (offline, needing only the public key). Both stream the
// records in one pass, holding only the checkpoints (one per thousand
// records) in memory, and name the first bad record or checkpoint and what
// is wrong.
//
// How a record is judged. Records are read in stored order (a journal: as
// written; a file: by line). For each record r, with p the good record
// before it (for the first record, a virtual record 0 whose hash is the
// genesis hash) and n the record after it:
//   expected  r.sequence == p.sequence + 1
//   linked    r.prev_hash == p.hash
//   self      r.hash == SHA-256(r.prev_hash || canonical(r))   (record.h)
// A record with all three is good. The first record that is not good is
// classified as EDITED, DELETED, REORDERED or INSERTED by the rules below;
// a journal frame that is damaged (not a crash's torn last write) is
// CORRUPT at the record expected there.
//   1. linked (so `self` or `expected` failed):
//      - the sequence number is off: EDITED at p.sequence + 1;
//      - n links to p, skipping r: INSERTED at r;
//      - otherwise r's content or stored hash changed: EDITED at r.
//   2. not linked: look for the record whose hash r.prev_hash names (one
//      extra pass, only on failure):
//      - it comes after r: REORDERED at p.sequence + 1;
//      - it comes before p: INSERTED at that record's sequence + 1;
//      - it is nowhere, and r.sequence > p.sequence + 1: DELETED at
//        p.sequence + 1;
//      - it is nowhere, r is numbered p.sequence + 1 and its own hash is
//        right: p was replaced and re-hashed: EDITED at p;
//      - it is nowhere, and r's hash is right for r.sequence + d (d <=
//        1024): d records were deleted and the rest renumbered: DELETED at
//        r.sequence;
//      - it is nowhere, and n links to p: INSERTED at r;
//      - otherwise: EDITED at p.sequence + 1.
//
// How checkpoints are judged, as the walk reaches the record each signs
// (in the order of their index):
//   - its signature must verify with the key (pinned by fingerprint when
//     the caller pinned it), and its hash be that record's hash: otherwise
//     BAD_SIGNATURE at the record (a chain re-hashed after an edit, by
//     someone without the key, fails here; the edited record lies between
//     the previous checkpoint and this one, which the detail names);
//   - it must be the next of the previous checkpoint (index + 1, naming its
//     hash, its range starting after it): otherwise CHECKPOINT_MISSING (one
//     was deleted: at the record it signed) or BAD_SIGNATURE (replaced);
//   - the cadence: the record `checkpoint_every` (as the previous
//     checkpoint states) after the previous checkpoint must be signed:
//     otherwise CHECKPOINT_MISSING at that record. The first record must be
//     signed by checkpoint #1 (a log writes both when it opens).
// After the last record, a checkpoint for a later sequence means the tail
// was cut off: TRUNCATED at the last sequence + 1.
//
// Anchors (anchor_file): every checkpoint in the anchor file must be in
// the journal, the same: one that signs a record past the end of its epoch
// is TRUNCATED there (the tail was cut together with its checkpoints, the
// one forgery the journal alone cannot show), one missing otherwise is
// CHECKPOINT_MISSING, one that differs BAD_SIGNATURE.
//
// Epochs. After a break an operator opens a new epoch (epoch.h): an
// EPOCH_OPENED record, signed by an EPOCH checkpoint, that names the break.
// The walk checks each epoch; a finding in an epoch that a later epoch
// record names (the same first bad sequence and problem) is acknowledged:
// reported in acknowledged_breaks, and the walk goes on from the epoch
// record. Any other finding is reported: intact is false.
//
// What cannot be detected without anchors: records appended, or cut off,
// after the last checkpoint whose record is still present (they are chained
// but not yet signed; last_checkpoint_sequence says where that begins), and
// the removal of the tail together with its checkpoints. Any other change is
// caught; the rules above only decide its name, and a contrived forgery may
// be misnamed (a deleted record whose successor was re-hashed reads as
// EDITED), never passed.
//
// An export file that starts at sequence 1 is checked from the genesis hash;
// one that starts later (Export with `since`) takes its first record's
// prev_hash on trust, and its first checkpoint's link to the previous one,
// and everything from there up to its last checkpoint is covered by that
// checkpoint's signature. Its checkpoints come first, so a file cut at the
// end is TRUNCATED, and one whose first record lines were cut (a checkpoint
// for an earlier record remains) is DELETED at the sequence before its
// first record. One that holds no good checkpoint at all proves nothing (it
// may have been stripped of them, or made up whole): CHECKPOINT_MISSING at
// its first record, unless the anchors name a missing checkpoint. (A file
// of only the records a running gateway has not signed yet reads so too:
// export from an earlier time, or after a clean stop.)
#ifndef LIENTHONG_GATEWAY_AUDIT_VERIFY_H_
#define LIENTHONG_GATEWAY_AUDIT_VERIFY_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "gateway/audit/journal.h"
#include "gateway/audit/signing.h"
#include "lienthong/v1/audit.pb.h"

namespace lienthong::audit {

// The result: the VerifyAudit RPC's response.
using VerifyReport = ::lienthong::v1::VerifyAuditResponse;

// How far a verification is (journal.h): segment files for a journal,
// bytes for an export file.
using VerifyProgress = ReadProgress;

struct VerifyOptions {
  // The key checkpoints must verify with. Required.
  const PublicKey* key = nullptr;
  // Whether `key` was checked against a pinned fingerprint (reported).
  bool key_pinned = false;
  // An anchor file to cross-check (empty: none).
  std::string anchor_file;
  // The archive folder (`lienthong audit archive`): with it the walk starts
  // at the first archive and goes through every one, checking each
  // archive's digest, its link to the one before and the signed anchors the
  // live journal keeps of them. Without it the walk starts after the last
  // archive, from its signed anchor.
  std::string archive_dir;
  // Read the live journal only up to here (segment 0: to its end): a
  // running gateway's durable end.
  JournalPosition until;
  // For a journal being written (replaces `until`): asked for that end once
  // the anchor file has been read, so that every anchor read signs a
  // record the walk reaches (a gateway anchors a checkpoint once it is
  // durable). Taken before, a checkpoint anchored meanwhile would read as
  // the tail cut off with its checkpoints. Optional.
  std::function<JournalPosition()> live_end;
  // Called on the verifying thread as the walk goes: after each segment
  // file of a journal, every few MiB of an export file, and once at the
  // end. Optional.
  ReadProgressFn progress;
};

// Verifies the journal in `journal_dir`. Returns the report (tampering is a
// report, not an error: so is an ARCHIVED line that cannot be parsed, is
// longer than any anchor (archive.h) or whose manifest does not match its
// signed digest, as BAD_SIGNATURE); INVALID_ARGUMENT without a key or for
// an anchor file (a line over kMaxAnchorLineBytes included, named by its
// number) or archive folder that cannot be parsed; NOT_FOUND when the
// folder does not exist; UNAVAILABLE when it cannot be read. Thread-safe;
// runs alongside a writer, and alongside archiving: a walk that does not
// read intact while an archive was added is walked again from the new
// anchors (`progress` then starts over), at most three walks in all.
absl::StatusOr<VerifyReport> VerifyJournal(const std::string& journal_dir,
                                           const VerifyOptions& options);

// Verifies an export file written by Export / ExportToFile (archive_dir
// and until are not used). A line that is not a valid record or checkpoint
// is EDITED at the sequence expected there. Returns the report; NOT_FOUND
// when the file cannot be opened; INVALID_ARGUMENT, naming the file and the
// line, for a line longer than kMaxExportLineBytes (query.h): no export
// holds one, and reading on might never end (/dev/zero); or UNAVAILABLE
// when it cannot be read. Thread-safe.
absl::StatusOr<VerifyReport> VerifyExportFile(const std::string& path,
                                              const VerifyOptions& options);

}  // namespace lienthong::audit

#endif  // LIENTHONG_GATEWAY_AUDIT_VERIFY_H_
