// Verification of the audit log: VerifyStore walks a store's whole chain,
// VerifyExportFile an exported JSON-lines file (offline, needing only the
// public key). Both stream the records in one pass, holding only the
// checkpoints (one per thousand records) in memory, and stop at the first
// bad record, naming it and what is wrong.
//
// How a record is judged. Records are read in stored order (a store: by
// sequence; a file: by line). For each record r, with p the good record
// before it (for the first record of a store, a virtual record 0 whose hash
// is the genesis hash) and n the record after it:
//   expected  r.sequence == p.sequence + 1
//   linked    r.prev_hash == p.hash
//   self      r.hash == SHA-256(r.prev_hash || canonical(r))   (record.h)
// A record with all three is good. Then every checkpoint for its sequence is
// checked: made with the given key, its signature valid, and its hash equal
// to the record's hash.
//
// The first record that is not good is classified, in this order:
//   1. linked (so `self` or `expected` failed):
//      - the sequence number is off (r links to p, so nothing is missing):
//        EDITED at p.sequence + 1;
//      - n links to p, skipping r: r is an extra record: INSERTED at r;
//      - otherwise r's content or stored hash changed: EDITED at r.
//   2. not linked: look for the record whose hash r.prev_hash names (one
//      extra pass over the source, only on failure):
//      - it comes after r: r is a genuine record moved up (two records
//        swapped, say): REORDERED at p.sequence + 1;
//      - it comes before p: the records from there to p are not part of the
//        chain: INSERTED at that record's sequence + 1;
//      - it is nowhere, and r.sequence > p.sequence + 1: the records in the
//        gap are gone: DELETED at p.sequence + 1 (the first missing one);
//      - it is nowhere, r is numbered p.sequence + 1 and its own hash is
//        right: r is intact but p is not the record r followed; p was
//        replaced by a record whose hash was recomputed: EDITED at p (at r
//        when r is the first record);
//      - it is nowhere, and r's hash is right for a later sequence
//        r.sequence + d (d <= 1024): d records were deleted and the later
//        ones renumbered: DELETED at r.sequence;
//      - it is nowhere, and n links to p: r is an extra record: INSERTED at
//        r;
//      - otherwise r's prev_hash (or its number) was changed: EDITED at
//        p.sequence + 1.
// After the last record, any checkpoint for a later sequence means the tail
// was cut off: TRUNCATED at the last sequence + 1 (BAD_SIGNATURE if that
// checkpoint's own signature is bad). A checkpoint that does not verify, or
// whose hash differs from its record's, is BAD_SIGNATURE at its sequence:
// that is what catches a chain re-hashed after an edit by someone without the
// signing key. Every link then checks out, so the edited record itself cannot
// be named: the detail gives the range between the last good checkpoint and
// this one, where it must be.
//
// What cannot be detected: records appended, or cut off, after the last
// checkpoint whose record is still present (they are chained but not yet
// signed; VerifyReport.last_checkpoint_sequence says where that begins);
// the removal of the tail together with its checkpoints, which needs an
// outside witness such as a checkpoint kept in a SIEM export; and, in an
// export file, lines cut from the start up to before its first checkpoint
// (the file then reads as an export made with a later `since`). Any other
// change is caught; the rules above only decide its name, and a contrived
// forgery may be misnamed (a deleted record whose successor was re-hashed
// reads as EDITED), never passed.
//
// An export file that starts at sequence 1 is checked from the genesis hash;
// one that starts later (Export with `since`) takes its first record's
// prev_hash on trust, and everything from there up to its last checkpoint is
// covered by that checkpoint's signature. Its checkpoints come first, so a
// file cut at the end is TRUNCATED, and one whose first record lines were
// cut (a checkpoint for an earlier record remains) is DELETED at the
// sequence before its first record.
#ifndef LIENTHONG_GATEWAY_AUDIT_VERIFY_H_
#define LIENTHONG_GATEWAY_AUDIT_VERIFY_H_

#include <string>

#include "absl/status/statusor.h"
#include "gateway/audit/audit_store.h"
#include "gateway/audit/signing.h"
#include "lienthong/v1/audit.pb.h"

namespace lienthong::audit {

// The result: the VerifyAudit RPC's response. `intact` true, or the first
// bad sequence, the problem and a detail sentence.
using VerifyReport = ::lienthong::v1::VerifyAuditResponse;

// Verifies the whole chain in `store` against `key`. Returns the report
// (tampering is a report, not an error), or UNAVAILABLE when the store
// cannot be read. Thread-safe; runs concurrently with appends, verifying
// the records present when the scan starts.
absl::StatusOr<VerifyReport> VerifyStore(const AuditStore& store,
                                         const PublicKey& key);

// Verifies an export file written by Export / ExportToFile. A line that is
// not a valid record or checkpoint is EDITED at the sequence expected there.
// Returns the report, NOT_FOUND when the file cannot be opened, or
// UNAVAILABLE when it cannot be read. Thread-safe.
absl::StatusOr<VerifyReport> VerifyExportFile(const std::string& path,
                                              const PublicKey& key);

}  // namespace lienthong::audit

#endif  // LIENTHONG_GATEWAY_AUDIT_VERIFY_H_
