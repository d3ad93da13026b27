// Retention: moving old, sealed journal segments to an archive folder, and
// the checks that let verification prove the whole history across archives.
//
// Layout. ARCHIVE_DIR/000001/, 000002/, ... each hold the segment files of
// one archive and its MANIFEST.json (AuditArchiveManifest: every file's
// SHA-256, where the chains stand at its end, and the previous manifest's
// SHA-256, so the archives form a chain, as X-Road's do). The live
// journal's folder keeps ARCHIVED: one AuditArchiveAnchor per archive, a
// JSON line signed with the gateway's key, naming the manifest's SHA-256.
// Verification without the archives starts from the last anchor (the chain
// continues right after it); with them it walks from the first archived
// record, checking each archive against its anchor.
//
// Archiving runs while the gateway runs: it touches only sealed segments
// (those that end with their SEGMENT_SEALED checkpoint, never the one being
// written), and never the last sealed one (a restarted gateway verifies
// from its seal until the segment after it holds a checkpoint); it verifies
// what it archives before signing anything, and is safe to run again after
// a crash at any step.
#ifndef LIENTHONG_GATEWAY_AUDIT_ARCHIVE_H_
#define LIENTHONG_GATEWAY_AUDIT_ARCHIVE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/audit/journal.h"
#include "gateway/audit/recovery.h"
#include "gateway/audit/signing.h"
#include "lienthong/v1/audit.pb.h"

namespace lienthong::audit {

// The largest MANIFEST.json a reader accepts. A manifest lists each
// archived segment in about 120 bytes, so this holds over 500,000 segments
// (over 500 GB even of the smallest, 1 MiB segments) in one archive, and
// stops a manifest that never ends (/dev/zero) before it costs memory.
inline constexpr size_t kMaxManifestBytes = 64 << 20;
// The longest ARCHIVED line a reader accepts: an anchor is its manifest and
// a few fields of its own.
inline constexpr size_t kMaxArchiveAnchorLineBytes =
    kMaxManifestBytes + (64 << 10);

// Returns the live journal's archive anchors (file ARCHIVED), in order;
// empty when there are none. Each anchor's manifest is the one its
// manifest_sha256 names (its signature is not checked here:
// VerifyArchiveAnchor). INVALID_ARGUMENT for a line that is not an anchor,
// whose manifest is not the one it names, or longer than
// kMaxArchiveAnchorLineBytes (unfinished or not), each naming the line's
// number; UNAVAILABLE when the file cannot be read. Thread-safe.
absl::StatusOr<std::vector<lienthong::v1::AuditArchiveAnchor>>
ReadArchiveAnchors(const std::string& journal_dir);

// Returns where the chains stand at the end of the archive `m` describes.
ChainHead ArchiveHead(const lienthong::v1::AuditArchiveManifest& m);

// Returns the number the live journal's segments start from, given its
// archive anchors: past the last archived one, or 1 before any archive.
uint64_t FirstLiveSegment(
    const std::vector<lienthong::v1::AuditArchiveAnchor>& archived);

// Returns OK when `anchor` is signed by `key`, else INVALID_ARGUMENT.
absl::Status VerifyArchiveAnchor(const lienthong::v1::AuditArchiveAnchor& anchor,
                                 const PublicKey& key);

// The archives' folders in order, or the first problem found with them.
struct ArchiveCheck {
  std::vector<std::string> dirs;
  std::string problem;  // empty when every archive checked out
  uint64_t problem_sequence = 0;
};

// Checks the archives in `archive_dir` against `anchors` (signatures
// already checked): each archive's folder and manifest present, the
// manifest's SHA-256 the anchor's, each manifest naming the one before,
// each segment file's SHA-256 and size the manifest's, and no segment file
// there that the manifest does not list. A problem is a finding (a manifest
// over kMaxManifestBytes, an entry whose size is less than a segment's
// header or whose name is not a segment's, a segment file longer than its
// entry says, included: no file is read past its limit, and no entry's
// value lifts it); UNAVAILABLE only when a file cannot be read.
// Thread-safe.
absl::StatusOr<ArchiveCheck> CheckArchives(
    const std::string& archive_dir,
    const std::vector<lienthong::v1::AuditArchiveAnchor>& anchors);

struct ArchiveOptions {
  std::string journal_dir;
  std::string archive_dir;
  // Sealed segments whose newest record is older than this are archived
  // (oldest first, stopping at the first that is not), all but the last
  // sealed one.
  absl::Time cutoff = absl::InfinitePast();
  // Signs the anchor; its public key (pinned) verifies what is archived.
  const SigningKey* key = nullptr;
  std::string node;
  // The query index, whose entries for archived records are removed
  // (empty: left as they are).
  std::string index_path;
  // Told as the work goes, on the calling thread: each segment file read
  // while verifying (stage "verifying", each read twice), then each one
  // copied and checked (stage "copying"). Optional.
  ReadProgressFn progress;
  // The largest MANIFEST.json to write, at most kMaxManifestBytes (what its
  // readers accept): a run takes the oldest segments whose listing fits
  // (over 500,000 at the default) and leaves the rest to the next run
  // (ArchiveResult::more_to_archive). Lowered only to test that.
  size_t max_manifest_bytes = kMaxManifestBytes;
};

struct ArchiveResult {
  uint64_t archive = 0;  // 0: nothing was old enough
  std::vector<std::string> segments;
  uint64_t last_sequence = 0;
  std::string folder;
  // True when the manifest's limit ended this archive before every segment
  // old enough was in it: run again to archive the rest.
  bool more_to_archive = false;
};

// Archives the sealed segments older than options.cutoff. Fails with
// FAILED_PRECONDITION when another archiving runs, an archive anchor is not
// signed by options.key or the segments to archive do not verify (nothing
// is moved then: run `lienthong audit verify`), INVALID_ARGUMENT for bad
// options or anchors (ReadArchiveAnchors), a max_manifest_bytes over
// kMaxManifestBytes or too small to list one segment (nothing is moved),
// UNAVAILABLE when files cannot be read or written, INTERNAL when the
// manifest would still exceed max_manifest_bytes (nothing is signed).
absl::StatusOr<ArchiveResult> ArchiveSegments(const ArchiveOptions& options);

}  // namespace lienthong::audit

#endif  // LIENTHONG_GATEWAY_AUDIT_ARCHIVE_H_
