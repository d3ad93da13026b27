// Small file helpers for the audit library: reads of files an operator
// names (whole, or a line at a time) that stop at a limit the file's format
// sets, and creating files that hold secrets (mode 0600, never overwriting).
#ifndef LIENTHONG_GATEWAY_AUDIT_FILE_UTIL_H_
#define LIENTHONG_GATEWAY_AUDIT_FILE_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace lienthong::audit {

// The most a key file holds: PEM of an Ed25519 key is ~120 bytes and an
// HMAC key file 64 hex digits, so this leaves ample room while a path such
// as /dev/zero costs no more than this.
inline constexpr size_t kMaxKeyFileBytes = 64 << 10;

// Returns the whole content of `path`; NOT_FOUND when it cannot be opened,
// INVALID_ARGUMENT (naming `path`) when it holds more than `max_bytes`, of
// which no more than one byte past `max_bytes` is read; UNAVAILABLE when
// reading fails. The default suits the key files read with it (gateway/sync
// reads its outbox key so). Thread-safe.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path,
                                          size_t max_bytes = kMaxKeyFileBytes);

// Reads a file a line at a time, holding no more of a line than its format
// allows: a longer line is refused as soon as it passes the limit, so a file
// that never ends its line (/dev/zero, a pipe fed forever) costs neither
// unbounded memory nor an endless read. Lines end at '\n' (not returned);
// the last may lack it. Thread-compatible.
class LineReader {
 public:
  // Opens `path`, called `what` in errors (e.g. "anchor file"), for lines of
  // at most `max_line_bytes`. NOT_FOUND when it does not exist, UNAVAILABLE
  // when it cannot be opened otherwise. (Opening a FIFO waits for a writer,
  // as with any reader of one.)
  static absl::StatusOr<std::unique_ptr<LineReader>> Open(
      const std::string& path, size_t max_line_bytes, absl::string_view what);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Reads the next line into `*line`: true for a line, false at the end of
  // the file. INVALID_ARGUMENT for a line over the limit, naming the file
  // and the line's number, never its content; UNAVAILABLE when reading
  // fails. After an error the reader is not to be used again.
  absl::StatusOr<bool> Next(std::string* line);

  // The number of the line Next last returned, from 1.
  uint64_t line_number() const { return line_number_; }
  // Whether that line ended with '\n': false only for a last line left
  // unfinished (a crash in the middle of its write).
  bool finished() const { return finished_; }

 private:
  LineReader(std::string path, size_t max_line_bytes, std::string what, int fd);
  // Refills the buffer; returns the bytes read, 0 at the end of the file.
  absl::StatusOr<size_t> Fill();

  const std::string path_;
  const size_t max_line_bytes_;
  const std::string what_;
  const int fd_;
  std::string buffer_;
  size_t begin_ = 0;  // buffer_[begin_, end_) is read and not yet returned
  size_t end_ = 0;
  uint64_t line_number_ = 0;
  bool finished_ = true;
};

// fsyncs `path`, a file or a folder (after a file in it was made or
// renamed: the name is durable only then). UNAVAILABLE "<what>: cannot
// sync '<path>': <reason>" when it cannot be opened or synced. Thread-safe.
absl::Status SyncPath(const std::string& path, absl::string_view what);

// Creates `path` with mode 0600 and writes `contents` to it, synced, and
// its folder synced. Fails with ALREADY_EXISTS when `path` exists and
// UNAVAILABLE on any other I/O error (a partly written file is removed).
// Thread-safe.
absl::Status WriteNewSecretFile(const std::string& path,
                                absl::string_view contents);

}  // namespace lienthong::audit

#endif  // LIENTHONG_GATEWAY_AUDIT_FILE_UTIL_H_
