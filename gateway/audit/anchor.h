// Anchors: copies of every checkpoint kept outside the journal, where
// someone who can rewrite the journal cannot quietly rewrite them too: an
// append-only file (O_APPEND, synced) that the operator ships off the host,
// and syslog/journald. Cutting the journal's tail together with its
// checkpoints leaves the anchors holding a checkpoint the journal lacks;
// `lienthong audit verify --anchors FILE` and the gateway's own open check
// compare them.
//
// The file holds one line per checkpoint, the export format's checkpoint
// line (query.h): {"type":"checkpoint",...}. Syslog gets the same line,
// prefixed "lienthong-audit checkpoint ", at LOG_AUTHPRIV | LOG_NOTICE.
#ifndef LIENTHONG_GATEWAY_AUDIT_ANCHOR_H_
#define LIENTHONG_GATEWAY_AUDIT_ANCHOR_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "lienthong/v1/audit.pb.h"

namespace lienthong::audit {

// The longest line an anchor file's reader accepts. A checkpoint line is a
// fixed set of fields (hashes, a signature, numbers, a time: under 1 KiB)
// and the node's name (at most 256 bytes from a gateway, each byte at most
// 6 as JSON escapes it), so this leaves room for a longer name given to
// `audit new-epoch --node` while `--anchors /dev/zero` stops here.
inline constexpr size_t kMaxAnchorLineBytes = 64 << 10;

class AnchorSink {
 public:
  struct Options {
    // The anchor file; empty for none.
    std::string file;
    // Also send each checkpoint to syslog.
    bool syslog = true;
  };

  // Opens (creating with mode 0600) the anchor file for appending.
  // UNAVAILABLE when it cannot be opened.
  static absl::StatusOr<std::unique_ptr<AnchorSink>> Open(Options options);
  ~AnchorSink();
  AnchorSink(const AnchorSink&) = delete;
  AnchorSink& operator=(const AnchorSink&) = delete;

  // Appends a line per checkpoint to the file in one write, syncs it, and
  // sends each to syslog. An unfinished last line the file was left with
  // (a crash, a failed write) is cut first. UNAVAILABLE when the file cannot be
  // written (what syslog does with a message is not known). Thread-compatible.
  absl::Status Publish(
      absl::Span<const lienthong::v1::AuditCheckpoint> checkpoints);

 private:
  AnchorSink(Options options, int fd) : options_(std::move(options)), fd_(fd) {}
  const Options options_;
  const int fd_;
  // The file is known to end with a whole line (checked at the first
  // Publish, and again after a failed one).
  bool end_checked_ = false;
};

// Returns the checkpoints in the anchor file at `path`, in file order. An
// unfinished last line (a crash during a write) is ignored; any other line
// that is not a checkpoint line, and any line (unfinished or not) longer
// than kMaxAnchorLineBytes, fails with INVALID_ARGUMENT naming its line
// number. NOT_FOUND when the file does not exist. Thread-safe.
absl::StatusOr<std::vector<lienthong::v1::AuditCheckpoint>> ReadAnchorFile(
    const std::string& path);

// Returns the latest checkpoint of the anchor file: of those ReadAnchorFile
// returns, the one with the highest index (the last of equals), wherever
// its line is, since a copy of an older line can be appended after it; or
// nullopt when the file is missing or holds none. INVALID_ARGUMENT for a
// line as ReadAnchorFile; UNAVAILABLE when the file cannot be opened or
// read. Reads the whole file, holding one line (at most
// kMaxAnchorLineBytes) at a time. Thread-safe.
absl::StatusOr<std::optional<lienthong::v1::AuditCheckpoint>> ReadLastAnchor(
    const std::string& path);

}  // namespace lienthong::audit

#endif  // LIENTHONG_GATEWAY_AUDIT_ANCHOR_H_
