#include "gateway/audit/archive.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gateway/audit/archive_internal.h"
#include "gateway/audit/audit_index.h"
#include "gateway/audit/file_util.h"
#include "gateway/audit/journal.h"
#include "gateway/audit/journal_format.h"
#include "gateway/audit/record.h"
#include "gateway/audit/verify.h"
#include "gateway/status/status_macros.h"
#include "gateway/storage/file_lock.h"
#include "google/protobuf/util/json_util.h"

namespace lienthong::audit {
namespace {

using archive_internal::AnchorMessage;
using archive_internal::ArchiveName;
using archive_internal::FileDigest;
using archive_internal::HashFile;
using archive_internal::Json;
using archive_internal::kAnchorsFile;
using archive_internal::kManifestFile;
using archive_internal::OpenAnchorsFile;
using archive_internal::ParseJson;
using ::lienthong::v1::AuditArchiveAnchor;
using ::lienthong::v1::AuditArchivedSegment;
using ::lienthong::v1::AuditArchiveManifest;

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::UnavailableError(
      absl::StrCat("audit archive: ", what, " '", path, "': ",
                   std::strerror(errno)));
}

absl::Status SyncPath(const std::string& path) {
  return audit::SyncPath(path, "audit archive");
}

absl::Status WriteSynced(const std::string& path, absl::string_view bytes,
                         bool append) {
  int fd = ::open(path.c_str(),
                  O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC),
                  0600);
  if (fd < 0) return Errno("cannot open", path);
  bool ok = true;
  while (ok && !bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) bytes.remove_prefix(static_cast<size_t>(n));
  }
  ok = ok && ::fsync(fd) == 0;
  ::close(fd);
  return ok ? absl::OkStatus() : Errno("cannot write", path);
}

// Cuts an unfinished last line of the anchor file at `path` (a write that
// failed part-way, as on a full disk), so that the next anchor starts a line
// of its own instead of joining one that no reader accepts. Streams the
// file: it holds an anchor per archive, each up to a manifest's size.
absl::Status CutUnfinishedLine(const std::string& path) {
  absl::StatusOr<std::unique_ptr<LineReader>> reader = OpenAnchorsFile(path);
  if (absl::IsNotFound(reader.status())) return absl::OkStatus();
  LIENTHONG_RETURN_IF_ERROR(reader.status());
  off_t keep = 0;  // the bytes of the lines that end
  std::string line;
  while (true) {
    LIENTHONG_ASSIGN_OR_RETURN(const bool got, (*reader)->Next(&line));
    if (!got) return absl::OkStatus();
    if (!(*reader)->finished()) break;
    keep += static_cast<off_t>(line.size() + 1);
  }
  if (::truncate(path.c_str(), keep) != 0) {
    return Errno("cannot cut the unfinished line of", path);
  }
  return absl::OkStatus();
}

// What a segment ends with, for choosing what to archive.
struct SegmentEnd {
  bool sealed = false;
  AuditRecord last_record;
  AuditCheckpoint seal;
};

absl::StatusOr<SegmentEnd> ReadSegmentEnd(const std::string& path) {
  LIENTHONG_ASSIGN_OR_RETURN(MappedSegment segment, MappedSegment::Open(path));
  SegmentEnd end;
  bool last_is_seal = false;
  const SegmentScan scan =
      segment.Scan(kSegmentHeaderSize, 0, [&](const Frame& frame) {
        const int size = static_cast<int>(frame.payload.size());
        last_is_seal = false;
        if (frame.type == FrameType::kRecord) {
          end.last_record.ParseFromArray(frame.payload.data(), size);
        } else if (end.seal.ParseFromArray(frame.payload.data(), size)) {
          last_is_seal = end.seal.reason() == AuditCheckpoint::SEGMENT_SEALED;
        }
        return true;
      });
  end.sealed = last_is_seal && scan.tail == SegmentScan::Tail::kClean;
  return end;
}

// Where the next archive goes on from: the last anchor, if any.
struct ArchiveStart {
  uint64_t after_segment = 0;  // segments up to this one are archived
  std::string prev_sha;        // the last manifest's SHA-256
  uint64_t number = 1;         // the next archive's number
};

ArchiveStart NextArchive(const std::vector<AuditArchiveAnchor>& anchors) {
  ArchiveStart start;
  start.prev_sha = GenesisHash();
  if (!anchors.empty()) {
    start.after_segment = anchors.back().manifest().last_segment();
    start.prev_sha = anchors.back().manifest_sha256();
    start.number = anchors.back().manifest().archive() + 1;
  }
  return start;
}

// The segments one archive takes, oldest first, and how the last one ends.
struct ChosenSegments {
  std::vector<SegmentFile> files;
  SegmentEnd last_end;
  // The manifest's limit stopped the choice before a segment old enough.
  bool more = false;
};

// Records in `manifest` where the archived journal ends: as `end`, in
// segment `last_segment`.
void SetManifestEnd(const SegmentEnd& end, uint64_t last_segment,
                    AuditArchiveManifest& manifest) {
  manifest.set_last_sequence(end.last_record.sequence());
  manifest.set_last_hash(end.last_record.hash());
  manifest.set_last_checkpoint_index(end.seal.index());
  manifest.set_last_checkpoint_hash(end.seal.checkpoint_hash());
  manifest.set_last_checkpoint_sequence(end.seal.sequence());
  manifest.set_last_checkpoint_every(end.seal.checkpoint_every());
  manifest.set_epoch(end.seal.epoch());
  *manifest.mutable_last_time() = end.last_record.time();
  manifest.set_last_segment(last_segment);
}

// Counts, as segments are chosen, the bytes of the MANIFEST.json that will
// list them, never fewer: every field but the segments as the archive will
// have them (the journal's ID at its fixed length), and each segment at its
// longest, its size at 20 digits (not known before it is copied). Counting
// as it goes keeps the choice linear in the segments, where serialising the
// growing manifest for each would not be.
class ManifestSize {
 public:
  explicit ManifestSize(const ArchiveStart& start) {
    head_.set_archive(start.number);
    head_.set_prev_manifest_sha256(start.prev_sha);
    head_.set_journal_id(std::string(2 * kJournalIdSize, '0'));
    // What a list adds besides its entries: its field's name and brackets.
    AuditArchiveManifest listing = head_;
    *listing.add_segments() = Longest(1);
    list_bytes_ =
        Json(listing).size() - Json(head_).size() - Json(Longest(1)).size();
  }

  // Returns the manifest's bytes with segment `number` listed after those
  // added, the archive ending as `end` does.
  size_t With(uint64_t number, const SegmentEnd& end) const {
    AuditArchiveManifest manifest = head_;
    SetManifestEnd(end, number, manifest);
    return Json(manifest).size() + list_bytes_ + entry_bytes_ +
           EntryBytes(number);
  }

  // Lists segment `number`.
  void Add(uint64_t number) {
    entry_bytes_ += EntryBytes(number);
    ++entries_;
  }

 private:
  static AuditArchivedSegment Longest(uint64_t number) {
    AuditArchivedSegment entry;
    entry.set_name(SegmentFileName(number));
    entry.set_sha256(std::string(2 * kHashSize, '0'));
    entry.set_bytes(UINT64_MAX);
    return entry;
  }
  // Segment `number`'s entry, and the comma before it but for the first.
  size_t EntryBytes(uint64_t number) const {
    return Json(Longest(number)).size() + (entries_ > 0 ? 1 : 0);
  }

  AuditArchiveManifest head_;
  size_t list_bytes_ = 0;
  size_t entry_bytes_ = 0;
  size_t entries_ = 0;
};

// Removes the segments an earlier run archived (it stopped after its anchor)
// and chooses, oldest first, the segments that are sealed and older than
// options.cutoff, never the last sealed one (until the segment after it
// holds a checkpoint, its seal is where a restarted gateway verifies from),
// and no more than a manifest of options.max_manifest_bytes lists: the rest
// wait for the next run. INVALID_ARGUMENT when not even one fits.
absl::StatusOr<ChosenSegments> ChooseSegments(const ArchiveOptions& options,
                                              const ArchiveStart& start) {
  const uint64_t after_segment = start.after_segment;
  LIENTHONG_ASSIGN_OR_RETURN(std::vector<SegmentFile> segments,
                             ListSegments(options.journal_dir));
  // Finish a run that stopped after its anchor: those files are archived.
  std::vector<SegmentFile> live;
  for (const SegmentFile& file : segments) {
    if (file.number <= after_segment) {
      ::unlink(file.path.c_str());
    } else {
      live.push_back(file);
    }
  }
  // Oldest first: sealed, old enough, and followed by a sealed segment (so
  // never the last, being written, nor one followed only by it or by one
  // prepared ahead).
  ChosenSegments chosen;
  ManifestSize manifest(start);
  std::optional<SegmentEnd> end;
  for (size_t i = 0; i + 1 < live.size(); ++i) {
    if (!end.has_value()) {
      LIENTHONG_ASSIGN_OR_RETURN(end, ReadSegmentEnd(live[i].path));
    }
    if (!end->sealed ||
        FromProtoTime(end->last_record.time()) >= options.cutoff) {
      break;
    }
    LIENTHONG_ASSIGN_OR_RETURN(SegmentEnd next,
                               ReadSegmentEnd(live[i + 1].path));
    if (!next.sealed) break;
    // A manifest over the limit would be refused by every reader: an
    // archive that could never be verified.
    if (manifest.With(live[i].number, *end) > options.max_manifest_bytes) {
      chosen.more = true;
      break;
    }
    manifest.Add(live[i].number);
    chosen.files.push_back(live[i]);
    chosen.last_end = *std::move(end);
    end = std::move(next);
  }
  if (chosen.more && chosen.files.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "an archive manifest of at most ", options.max_manifest_bytes,
        " bytes cannot list even one segment; nothing was archived"));
  }
  return chosen;
}

// Verifies the journal through the chosen segments: nothing unverified is
// signed. Fails with FAILED_PRECONDITION when they do not verify.
absl::Status VerifyChosen(const ArchiveOptions& options,
                          const ChosenSegments& chosen, uint64_t* verify_steps) {
  VerifyOptions verify;
  verify.key = &options.key->public_key();
  verify.key_pinned = true;
  verify.until = {chosen.files.back().number, 0};
  if (options.progress) {
    // One bar for both stages: the copies come after the verification.
    verify.progress = [&](const ReadProgress& read) {
      *verify_steps = read.total;
      ReadProgress now = read;
      now.total += chosen.files.size();
      now.stage = "verifying";
      options.progress(now);
    };
  }
  LIENTHONG_ASSIGN_OR_RETURN(VerifyReport report,
                             VerifyJournal(options.journal_dir, verify));
  if (!report.intact() ||
      report.last_checkpoint_index() != chosen.last_end.seal.index()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the segments to archive do not verify (", report.detail(),
                     "); nothing was archived: run `lienthong audit verify`"));
  }
  return absl::OkStatus();
}

// Copies one segment into the folder `tmp`, checks the copy and lists it in
// `manifest`.
absl::Status CopySegment(const SegmentFile& file, const std::string& tmp,
                         AuditArchiveManifest& manifest) {
  std::error_code error;
  const std::string name = SegmentFileName(file.number);
  const std::string copy = absl::StrCat(tmp, "/", name);
  if (!std::filesystem::copy_file(file.path, copy, error)) {
    return absl::UnavailableError(absl::StrCat(
        "audit archive: cannot copy '", file.path, "': ", error.message()));
  }
  LIENTHONG_RETURN_IF_ERROR(SyncPath(copy));
  // The copy's size bounds both reads: an original that is longer now is
  // not what was copied.
  const std::uintmax_t size = std::filesystem::file_size(copy, error);
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("audit archive: cannot read the size of '", copy,
                     "': ", error.message()));
  }
  LIENTHONG_ASSIGN_OR_RETURN(FileDigest copied,
                             HashFile(copy, static_cast<uint64_t>(size)));
  absl::StatusOr<FileDigest> original =
      HashFile(file.path, static_cast<uint64_t>(size));
  if (!original.ok() && !absl::IsInvalidArgument(original.status())) {
    return original.status();
  }
  if (!original.ok() || original->bytes != copied.bytes ||
      original->sha256 != copied.sha256) {
    return absl::UnavailableError(
        absl::StrCat("audit archive: the copy of '", file.path, "' differs"));
  }
  auto* segment = manifest.add_segments();
  segment->set_name(name);
  segment->set_sha256(copied.sha256);
  segment->set_bytes(copied.bytes);
  if (manifest.journal_id().empty()) {
    LIENTHONG_ASSIGN_OR_RETURN(MappedSegment mapped, MappedSegment::Open(copy));
    manifest.set_journal_id(ToHex(mapped.header().journal_id));
  }
  return absl::OkStatus();
}

// Returns MANIFEST.json's bytes for `manifest`; INTERNAL (our bug: the
// choice of segments counts its size) when it cannot be serialised or holds
// more than `max_bytes`, which would make an archive no reader accepts.
absl::StatusOr<std::string> ManifestJson(const AuditArchiveManifest& manifest,
                                         size_t max_bytes) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(manifest, &json, options)
           .ok()) {
    return absl::InternalError("audit archive: cannot serialise the manifest");
  }
  if (json.size() > max_bytes) {
    return absl::InternalError(absl::StrCat(
        "audit archive: the manifest holds ", json.size(),
        " bytes, over the limit of ", max_bytes, "; nothing was signed"));
  }
  return json;
}

// Makes way for the archive `folder` of the journal whose first chosen
// segment is `first`: a folder already there is removed only when it is
// this journal's, left by a run that stopped before its anchor; another
// journal's archive (two journals given one archive folder) is never
// touched: FAILED_PRECONDITION.
absl::Status ClearUnanchored(const std::string& folder,
                             const SegmentFile& first) {
  std::error_code error;
  if (!std::filesystem::exists(folder, error)) return absl::OkStatus();
  LIENTHONG_ASSIGN_OR_RETURN(MappedSegment segment,
                             MappedSegment::Open(first.path));
  absl::StatusOr<std::string> bytes = ReadWholeFile(
      absl::StrCat(folder, "/", kManifestFile), kMaxManifestBytes);
  AuditArchiveManifest manifest;
  if (!bytes.ok() || !ParseJson(*bytes, &manifest) ||
      manifest.journal_id() != ToHex(segment.header().journal_id)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "audit archive: '", folder,
        "' exists and is not an unfinished "
        "archive of this journal (another journal's?); nothing was archived: "
        "give each journal an archive folder of its own"));
  }
  if (std::filesystem::remove_all(folder, error); error) {
    return absl::UnavailableError(absl::StrCat("audit archive: cannot remove '",
                                               folder, "': ", error.message()));
  }
  return absl::OkStatus();
}

// Writes the archive `folder`: copies of the chosen segments and the manifest,
// built in `folder`.tmp and renamed into place. Returns the manifest's bytes.
absl::StatusOr<std::string> WriteArchive(const ArchiveOptions& options,
                                         const std::string& folder,
                                         const ChosenSegments& chosen,
                                         uint64_t verify_steps,
                                         AuditArchiveManifest& manifest) {
  const std::string& archive_dir = options.archive_dir;
  const std::string tmp = absl::StrCat(folder, ".tmp");
  std::error_code error;
  if (std::filesystem::create_directories(archive_dir, error)) {
    // A new folder's own entry, so that a crash cannot lose the archive.
    std::filesystem::path made =
        std::filesystem::absolute(archive_dir).lexically_normal();
    if (!made.has_filename()) made = made.parent_path();  // a trailing '/'
    LIENTHONG_RETURN_IF_ERROR(SyncPath(made.parent_path().string()));
  }
  LIENTHONG_RETURN_IF_ERROR(ClearUnanchored(folder, chosen.files.front()));
  std::filesystem::remove_all(tmp, error);
  if (::mkdir(tmp.c_str(), 0700) != 0) return Errno("cannot create", tmp);
  ReadProgress copied;
  copied.done = verify_steps;
  copied.total = verify_steps + chosen.files.size();
  copied.stage = "copying";
  for (const SegmentFile& file : chosen.files) {
    LIENTHONG_RETURN_IF_ERROR(CopySegment(file, tmp, manifest));
    ++copied.done;
    if (options.progress) options.progress(copied);
  }
  SetManifestEnd(chosen.last_end, chosen.files.back().number, manifest);
  LIENTHONG_ASSIGN_OR_RETURN(
      std::string manifest_bytes,
      ManifestJson(manifest, options.max_manifest_bytes));
  LIENTHONG_RETURN_IF_ERROR(WriteSynced(absl::StrCat(tmp, "/", kManifestFile),
                                        manifest_bytes, false));
  LIENTHONG_RETURN_IF_ERROR(SyncPath(tmp));
  if (::rename(tmp.c_str(), folder.c_str()) != 0) {
    return Errno("cannot rename", tmp);
  }
  LIENTHONG_RETURN_IF_ERROR(SyncPath(archive_dir));
  return manifest_bytes;
}

// Signs the archive's anchor and appends it to the journal's anchor file.
absl::Status RecordAnchor(const ArchiveOptions& options,
                          const AuditArchiveManifest& manifest,
                          absl::string_view manifest_bytes) {
  AuditArchiveAnchor anchor;
  *anchor.mutable_manifest() = manifest;
  anchor.set_manifest_sha256(Sha256Hex(manifest_bytes));
  LIENTHONG_RETURN_IF_ERROR(ToProtoTime(absl::Now(), anchor.mutable_time()));
  anchor.set_node(options.node);
  anchor.set_public_key_sha256(options.key->public_key().fingerprint());
  LIENTHONG_ASSIGN_OR_RETURN(std::string message, AnchorMessage(anchor));
  LIENTHONG_ASSIGN_OR_RETURN(std::string signature, options.key->Sign(message));
  anchor.set_signature(ToHex(signature));
  const std::string path = absl::StrCat(options.journal_dir, "/", kAnchorsFile);
  const std::string line = Json(anchor);
  // Its manifest within its limit and a node name within kMaxNodeBytes
  // keep the line within what ReadArchiveAnchors accepts.
  if (line.empty() || line.size() > kMaxArchiveAnchorLineBytes) {
    return absl::InternalError(absl::StrCat(
        "audit archive: an anchor line of ", line.size(),
        " bytes, which its readers would refuse; nothing was recorded"));
  }
  // (The cut is synced with the line appended after it.)
  LIENTHONG_RETURN_IF_ERROR(CutUnfinishedLine(path));
  LIENTHONG_RETURN_IF_ERROR(WriteSynced(path, absl::StrCat(line, "\n"), true));
  return SyncPath(options.journal_dir);
}

// Removes the archived segments from the journal (listing them in `result`)
// and their entries from the query index, if there is one.
absl::Status RemoveArchived(const ArchiveOptions& options,
                            const ChosenSegments& chosen,
                            uint64_t last_sequence, ArchiveResult& result) {
  for (const SegmentFile& file : chosen.files) {
    ::unlink(file.path.c_str());
    result.segments.push_back(SegmentFileName(file.number));
  }
  LIENTHONG_RETURN_IF_ERROR(SyncPath(options.journal_dir));
  if (!options.index_path.empty()) {
    LIENTHONG_ASSIGN_OR_RETURN(
        std::unique_ptr<SqliteAuditIndex> index,
        SqliteAuditIndex::Open(options.index_path, {options.journal_dir}));
    LIENTHONG_RETURN_IF_ERROR(index->RemoveThrough(last_sequence));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ArchiveResult> ArchiveSegments(const ArchiveOptions& options) {
  if (options.journal_dir.empty() || options.archive_dir.empty() ||
      options.key == nullptr) {
    return absl::InvalidArgumentError(
        "archiving needs the journal, the archive folder and the signing key");
  }
  if (options.node.size() > kMaxNodeBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "an archive's node name is at most ", kMaxNodeBytes, " bytes"));
  }
  if (options.max_manifest_bytes > kMaxManifestBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("an archive's manifest is at most ", kMaxManifestBytes,
                     " bytes, what its readers accept"));
  }
  // One archiving at a time.
  LIENTHONG_ASSIGN_OR_RETURN(
      storage::FileLock lock,
      storage::FileLock::Take(
          absl::StrCat(options.journal_dir, "/ARCHIVE.lock"),
          "another `lienthong audit archive` is running on this journal"));
  LIENTHONG_ASSIGN_OR_RETURN(std::vector<AuditArchiveAnchor> anchors,
                             ReadArchiveAnchors(options.journal_dir));
  // The anchors say which segments are archived, and those are removed:
  // only signed ones are believed.
  for (const AuditArchiveAnchor& anchor : anchors) {
    if (absl::Status sig =
            VerifyArchiveAnchor(anchor, options.key->public_key());
        !sig.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the anchor of archive ", anchor.manifest().archive(),
          " does not verify (", sig.message(),
          "); nothing was archived: run `lienthong audit verify`"));
    }
  }
  const ArchiveStart start = NextArchive(anchors);
  LIENTHONG_ASSIGN_OR_RETURN(ChosenSegments chosen,
                             ChooseSegments(options, start));
  ArchiveResult result;
  if (chosen.files.empty()) return result;
  uint64_t verify_steps = 0;
  LIENTHONG_RETURN_IF_ERROR(VerifyChosen(options, chosen, &verify_steps));

  AuditArchiveManifest manifest;
  manifest.set_archive(start.number);
  manifest.set_prev_manifest_sha256(start.prev_sha);
  const std::string folder =
      absl::StrCat(options.archive_dir, "/", ArchiveName(start.number));
  LIENTHONG_ASSIGN_OR_RETURN(
      std::string manifest_bytes,
      WriteArchive(options, folder, chosen, verify_steps, manifest));
  LIENTHONG_RETURN_IF_ERROR(RecordAnchor(options, manifest, manifest_bytes));
  LIENTHONG_RETURN_IF_ERROR(
      RemoveArchived(options, chosen, manifest.last_sequence(), result));
  result.archive = start.number;
  result.last_sequence = manifest.last_sequence();
  result.folder = folder;
  result.more_to_archive = chosen.more;
  return result;
}

}  // namespace lienthong::audit
