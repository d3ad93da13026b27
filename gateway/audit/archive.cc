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
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gateway/audit/audit_index.h"
#include "gateway/audit/file_util.h"
#include "gateway/audit/journal.h"
#include "gateway/audit/record.h"
#include "gateway/audit/verify.h"
#include "gateway/status/status_macros.h"
#include "gateway/storage/file_lock.h"
#include "google/protobuf/util/json_util.h"

namespace lienthong::audit {
namespace {

using ::lienthong::v1::AuditArchiveAnchor;
using ::lienthong::v1::AuditArchiveManifest;

constexpr char kAnchorsFile[] = "ARCHIVED";
constexpr char kManifestFile[] = "MANIFEST.json";
constexpr char kTag[] = "LTARCHIVE1";

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::UnavailableError(
      absl::StrCat("audit archive: ", what, " '", path, "': ",
                   std::strerror(errno)));
}

std::string Json(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

bool ParseJson(absl::string_view json, google::protobuf::Message* message) {
  google::protobuf::util::JsonParseOptions options;
  return google::protobuf::util::JsonStringToMessage(
             google::protobuf::StringPiece(json.data(), json.size()), message,
             options)
      .ok();
}

std::string ArchiveName(uint64_t number) {
  return absl::StrFormat("%06d", number);
}

// Returns the hex SHA-256 of the file at `path`; INVALID_ARGUMENT when it
// holds more than `max_bytes`, read no further: a segment swapped for
// /dev/zero must not be hashed forever.
absl::StatusOr<std::string> FileSha256(const std::string& path,
                                       uint64_t max_bytes = UINT64_MAX) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  std::string buffer(1 << 20, '\0');
  uint64_t total = 0;
  while (in && total <= max_bytes) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    EVP_DigestUpdate(ctx, buffer.data(), static_cast<size_t>(in.gcount()));
    total += static_cast<uint64_t>(in.gcount());
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_DigestFinal_ex(ctx, digest, &size);
  EVP_MD_CTX_free(ctx);
  if (in.bad())
    return absl::UnavailableError(absl::StrCat("cannot read ", path));
  if (total > max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' is longer than ", max_bytes, " bytes"));
  }
  return ToHex(absl::string_view(reinterpret_cast<char*>(digest), size));
}

absl::StatusOr<std::string> AnchorMessage(const AuditArchiveAnchor& anchor) {
  std::string sha;
  if (anchor.manifest_sha256().size() != 2 * kHashSize ||
      !FromHex(anchor.manifest_sha256(), &sha)) {
    return absl::InvalidArgumentError("manifest_sha256 is not 64 hex digits");
  }
  std::string out(kTag, sizeof(kTag) - 1);
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((anchor.manifest().archive() >> shift) & 0xff));
  }
  return out + sha;
}

absl::Status SyncPath(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", path);
  const int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? absl::OkStatus() : Errno("cannot sync", path);
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

absl::StatusOr<std::unique_ptr<LineReader>> OpenAnchorsFile(
    const std::string& path) {
  return LineReader::Open(path, kMaxArchiveAnchorLineBytes,
                          "archive anchors file");
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

}  // namespace

absl::StatusOr<std::vector<AuditArchiveAnchor>> ReadArchiveAnchors(
    const std::string& journal_dir) {
  const std::string path = absl::StrCat(journal_dir, "/", kAnchorsFile);
  std::vector<AuditArchiveAnchor> out;
  absl::StatusOr<std::unique_ptr<LineReader>> reader = OpenAnchorsFile(path);
  if (!reader.ok()) return out;
  std::string line;
  while (true) {
    LIENTHONG_ASSIGN_OR_RETURN(const bool got, (*reader)->Next(&line));
    // An unfinished last line is a write cut short, not an anchor.
    if (!got || !(*reader)->finished()) break;
    const uint64_t number = (*reader)->line_number();
    AuditArchiveAnchor anchor;
    if (!ParseJson(line, &anchor)) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", path, "' line ", number, " is not an archive anchor"));
    }
    // The signature covers manifest_sha256, not the manifest beside it,
    // whose end every reader takes for where the archives end: it must be
    // the manifest that digest names, serialised as MANIFEST.json was.
    if (Sha256Hex(Json(anchor.manifest())) != anchor.manifest_sha256()) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", path, "' line ", number, ": archive anchor ",
                       anchor.manifest().archive(),
                       ": its manifest does not match its signed digest"));
    }
    out.push_back(std::move(anchor));
  }
  return out;
}

ChainHead ArchiveHead(const lienthong::v1::AuditArchiveManifest& m) {
  ChainHead head;
  head.sequence = m.last_sequence();
  head.hash = m.last_hash();
  head.checkpoint_index = m.last_checkpoint_index();
  head.checkpoint_hash = m.last_checkpoint_hash();
  head.checkpoint_sequence = m.last_checkpoint_sequence();
  head.checkpoint_every = m.last_checkpoint_every();
  head.epoch = m.epoch();
  return head;
}

uint64_t FirstLiveSegment(const std::vector<AuditArchiveAnchor>& archived) {
  return archived.empty() ? 1 : archived.back().manifest().last_segment() + 1;
}

absl::Status VerifyArchiveAnchor(const AuditArchiveAnchor& anchor,
                                 const PublicKey& key) {
  if (anchor.public_key_sha256() != key.fingerprint()) {
    return absl::InvalidArgumentError("signed by another key");
  }
  LIENTHONG_ASSIGN_OR_RETURN(std::string message, AnchorMessage(anchor));
  std::string signature;
  if (!FromHex(anchor.signature(), &signature) ||
      !key.Verify(message, signature)) {
    return absl::InvalidArgumentError("the signature is invalid");
  }
  return absl::OkStatus();
}

absl::StatusOr<ArchiveCheck> CheckArchives(
    const std::string& archive_dir,
    const std::vector<AuditArchiveAnchor>& anchors) {
  ArchiveCheck check;
  std::string prev = GenesisHash();
  for (const AuditArchiveAnchor& anchor : anchors) {
    const uint64_t n = anchor.manifest().archive();
    const std::string folder =
        absl::StrCat(archive_dir, "/", ArchiveName(n));
    auto fail = [&](std::string why) {
      check.problem = absl::StrCat("archive ", n, " (", folder, "): ", why);
      check.problem_sequence = anchor.manifest().last_sequence();
      return check;
    };
    absl::StatusOr<std::string> bytes = ReadWholeFile(
        absl::StrCat(folder, "/", kManifestFile), kMaxManifestBytes);
    if (absl::IsInvalidArgument(bytes.status())) {
      return fail(std::string(bytes.status().message()));
    }
    if (!bytes.ok()) return fail("its manifest is missing");
    if (Sha256Hex(*bytes) != anchor.manifest_sha256()) {
      return fail("its manifest is not the one its signed anchor names");
    }
    AuditArchiveManifest manifest;
    if (!ParseJson(*bytes, &manifest)) return fail("its manifest cannot be read");
    if (manifest.prev_manifest_sha256() != prev) {
      return fail("it does not name the archive before it");
    }
    for (const auto& segment : manifest.segments()) {
      // The manifest is signed, so its size for the file bounds the read
      // (0: not recorded, no bound).
      absl::StatusOr<std::string> sha =
          FileSha256(absl::StrCat(folder, "/", segment.name()),
                     segment.bytes() > 0 ? segment.bytes() : UINT64_MAX);
      if (absl::IsInvalidArgument(sha.status())) {
        return fail(absl::StrCat(segment.name(),
                                 " was changed: ", sha.status().message()));
      }
      if (!sha.ok()) return fail(absl::StrCat(segment.name(), " is missing"));
      if (*sha != segment.sha256()) {
        return fail(absl::StrCat(segment.name(), " was changed"));
      }
    }
    prev = anchor.manifest_sha256();
    check.dirs.push_back(folder);
  }
  return check;
}

namespace {

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
};

// Removes the segments an earlier run archived (it stopped after its anchor)
// and chooses, oldest first, the segments that are sealed and older than
// `cutoff`, never the last sealed one: until the segment after it holds a
// checkpoint, its seal is where a restarted gateway verifies from.
absl::StatusOr<ChosenSegments> ChooseSegments(const std::string& journal_dir,
                                              uint64_t after_segment,
                                              absl::Time cutoff) {
  LIENTHONG_ASSIGN_OR_RETURN(std::vector<SegmentFile> segments,
                             ListSegments(journal_dir));
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
  std::optional<SegmentEnd> end;
  for (size_t i = 0; i + 1 < live.size(); ++i) {
    if (!end.has_value()) {
      LIENTHONG_ASSIGN_OR_RETURN(end, ReadSegmentEnd(live[i].path));
    }
    if (!end->sealed || FromProtoTime(end->last_record.time()) >= cutoff) {
      break;
    }
    LIENTHONG_ASSIGN_OR_RETURN(SegmentEnd next,
                               ReadSegmentEnd(live[i + 1].path));
    if (!next.sealed) break;
    chosen.files.push_back(live[i]);
    chosen.last_end = *std::move(end);
    end = std::move(next);
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
  LIENTHONG_ASSIGN_OR_RETURN(std::string original, FileSha256(file.path));
  LIENTHONG_ASSIGN_OR_RETURN(std::string copied, FileSha256(copy));
  if (original != copied) {
    return absl::UnavailableError(
        absl::StrCat("audit archive: the copy of '", file.path, "' differs"));
  }
  auto* segment = manifest.add_segments();
  segment->set_name(name);
  segment->set_sha256(copied);
  segment->set_bytes(std::filesystem::file_size(copy, error));
  if (manifest.journal_id().empty()) {
    LIENTHONG_ASSIGN_OR_RETURN(MappedSegment mapped, MappedSegment::Open(copy));
    manifest.set_journal_id(ToHex(mapped.header().journal_id));
  }
  return absl::OkStatus();
}

// Records in `manifest` where the archived journal ends.
void SetManifestEnd(const ChosenSegments& chosen,
                    AuditArchiveManifest& manifest) {
  const SegmentEnd& last_end = chosen.last_end;
  manifest.set_last_sequence(last_end.last_record.sequence());
  manifest.set_last_hash(last_end.last_record.hash());
  manifest.set_last_checkpoint_index(last_end.seal.index());
  manifest.set_last_checkpoint_hash(last_end.seal.checkpoint_hash());
  manifest.set_last_checkpoint_sequence(last_end.seal.sequence());
  manifest.set_last_checkpoint_every(last_end.seal.checkpoint_every());
  manifest.set_epoch(last_end.seal.epoch());
  *manifest.mutable_last_time() = last_end.last_record.time();
  manifest.set_last_segment(chosen.files.back().number);
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
  SetManifestEnd(chosen, manifest);
  std::string manifest_bytes = Json(manifest);
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
  // (The cut is synced with the line appended after it.)
  LIENTHONG_RETURN_IF_ERROR(CutUnfinishedLine(path));
  LIENTHONG_RETURN_IF_ERROR(
      WriteSynced(path, absl::StrCat(Json(anchor), "\n"), true));
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
  LIENTHONG_ASSIGN_OR_RETURN(
      ChosenSegments chosen,
      ChooseSegments(options.journal_dir, start.after_segment, options.cutoff));
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
  return result;
}

}  // namespace lienthong::audit
