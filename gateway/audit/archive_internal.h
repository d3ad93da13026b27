// What the archive writer (archive.cc) and the archives' readers
// (archive_check.cc) share: the files' names, their JSON, the bounded hash of
// a segment file and the signed message of an anchor. Internal to
// gateway/audit.
#ifndef LIENTHONG_GATEWAY_AUDIT_ARCHIVE_INTERNAL_H_
#define LIENTHONG_GATEWAY_AUDIT_ARCHIVE_INTERNAL_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gateway/audit/file_util.h"
#include "google/protobuf/message.h"
#include "lienthong/v1/audit.pb.h"

namespace lienthong::audit::archive_internal {

// In the journal's folder: a signed anchor per archive, one JSON line each.
inline constexpr char kAnchorsFile[] = "ARCHIVED";
// In each archive's folder.
inline constexpr char kManifestFile[] = "MANIFEST.json";

// `message` as one line of JSON with the proto's field names.
std::string Json(const google::protobuf::Message& message);
bool ParseJson(absl::string_view json, google::protobuf::Message* message);

// An archive's folder name: its number, six digits or more.
std::string ArchiveName(uint64_t number);

// A file's SHA-256 (hex) and length.
struct FileDigest {
  std::string sha256;
  uint64_t bytes = 0;
};

// Returns the SHA-256 and length of the file at `path`; INVALID_ARGUMENT
// when it holds more than `max_bytes`, of which no more than one byte past
// `max_bytes` is read: a segment swapped for /dev/zero must not be hashed
// forever. Every caller has a bound: there is no "unbounded" value.
absl::StatusOr<FileDigest> HashFile(const std::string& path,
                                    uint64_t max_bytes);

// The bytes an archive anchor's signature covers; INVALID_ARGUMENT when its
// manifest_sha256 is not 64 hex digits.
absl::StatusOr<std::string> AnchorMessage(
    const lienthong::v1::AuditArchiveAnchor& anchor);

// Reads the anchors file `path` line by line, each within
// kMaxArchiveAnchorLineBytes.
absl::StatusOr<std::unique_ptr<LineReader>> OpenAnchorsFile(
    const std::string& path);

}  // namespace lienthong::audit::archive_internal

#endif  // LIENTHONG_GATEWAY_AUDIT_ARCHIVE_INTERNAL_H_
