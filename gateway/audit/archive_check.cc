// Reading and checking archives (archive.h: ReadArchiveAnchors,
// VerifyArchiveAnchor, CheckArchives, ...), and the helpers the archive
// writer shares (archive_internal.h).
#include <openssl/evp.h>

#include <cstdint>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gateway/audit/archive.h"
#include "gateway/audit/archive_internal.h"
#include "gateway/audit/file_util.h"
#include "gateway/audit/journal.h"
#include "gateway/audit/journal_format.h"
#include "gateway/audit/record.h"
#include "gateway/audit/verify.h"
#include "gateway/status/status_macros.h"
#include "google/protobuf/util/json_util.h"

namespace lienthong::audit {
namespace archive_internal {
namespace {

constexpr char kTag[] = "LTARCHIVE1";

}  // namespace

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

absl::StatusOr<FileDigest> HashFile(const std::string& path,
                                    uint64_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  std::string buffer(1 << 20, '\0');
  uint64_t total = 0;
  while (in && total <= max_bytes) {
    // At most one byte past max_bytes: enough to tell a longer file.
    const uint64_t left = max_bytes - total;
    const size_t want =
        left < buffer.size() ? static_cast<size_t>(left) + 1 : buffer.size();
    in.read(buffer.data(), static_cast<std::streamsize>(want));
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
  FileDigest out;
  out.sha256 = ToHex(absl::string_view(reinterpret_cast<char*>(digest), size));
  out.bytes = total;
  return out;
}

absl::StatusOr<std::string> AnchorMessage(
    const lienthong::v1::AuditArchiveAnchor& anchor) {
  std::string sha;
  if (anchor.manifest_sha256().size() != 2 * kHashSize ||
      !FromHex(anchor.manifest_sha256(), &sha)) {
    return absl::InvalidArgumentError("manifest_sha256 is not 64 hex digits");
  }
  std::string out(kTag, sizeof(kTag) - 1);
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(
        static_cast<char>((anchor.manifest().archive() >> shift) & 0xff));
  }
  return out + sha;
}

absl::StatusOr<std::unique_ptr<LineReader>> OpenAnchorsFile(
    const std::string& path) {
  return LineReader::Open(path, kMaxArchiveAnchorLineBytes,
                          "archive anchors file");
}

}  // namespace archive_internal

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
using ::lienthong::v1::AuditArchiveManifest;

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
      return absl::InvalidArgumentError(absl::StrCat(
          "'", path, "' line ", number, " is not an archive anchor"));
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
    const std::string folder = absl::StrCat(archive_dir, "/", ArchiveName(n));
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
    if (!ParseJson(*bytes, &manifest))
      return fail("its manifest cannot be read");
    if (manifest.prev_manifest_sha256() != prev) {
      return fail("it does not name the archive before it");
    }
    std::set<uint64_t> listed;
    for (const auto& segment : manifest.segments()) {
      // The name is joined to the folder: only a segment's name, no path.
      uint64_t number = 0;
      if (!ParseSegmentName(segment.name(), &number)) {
        return fail("its manifest lists an entry that is not a segment file");
      }
      listed.insert(number);
      // The manifest is signed, so its size for the file bounds the read,
      // whatever it says: a segment holds at least its header, so an entry
      // saying less (0 included) is malformed, never "no bound".
      if (segment.bytes() < kSegmentHeaderSize) {
        return fail(absl::StrCat("its manifest's entry for ", segment.name(),
                                 " says ", segment.bytes(),
                                 " bytes, less than a segment's header"));
      }
      absl::StatusOr<FileDigest> digest =
          HashFile(absl::StrCat(folder, "/", segment.name()), segment.bytes());
      if (absl::IsInvalidArgument(digest.status())) {
        return fail(absl::StrCat(segment.name(),
                                 " was changed: ", digest.status().message()));
      }
      if (!digest.ok()) {
        return fail(absl::StrCat(segment.name(), " is missing"));
      }
      if (digest->bytes != segment.bytes()) {
        return fail(absl::StrCat(segment.name(), " was changed: it holds ",
                                 digest->bytes, " bytes, its manifest says ",
                                 segment.bytes()));
      }
      if (digest->sha256 != segment.sha256()) {
        return fail(absl::StrCat(segment.name(), " was changed"));
      }
    }
    // Verification then reads every segment file in the folder: one the
    // manifest does not list is unchecked (its content, its size: a FIFO
    // there would hold the walk) and has no place in the signed chain.
    absl::StatusOr<std::vector<SegmentFile>> files = ListSegments(folder);
    if (absl::IsNotFound(files.status())) return fail("its folder is missing");
    LIENTHONG_RETURN_IF_ERROR(files.status());
    for (const SegmentFile& file : *files) {
      if (listed.count(file.number) == 0) {
        return fail(absl::StrCat("it holds ", SegmentFileName(file.number),
                                 ", which its manifest does not list"));
      }
    }
    prev = anchor.manifest_sha256();
    check.dirs.push_back(folder);
  }
  return check;
}

}  // namespace lienthong::audit
