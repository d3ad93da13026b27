// Reading a file the user names on the command line (a catalogue, a file of
// status updates, a bundle's request, a PEM file) whole into memory, within
// a size: only what the file holds is allocated, and the reading stops as
// soon as it passes the limit.
#ifndef LIENTHONG_GATEWAY_CLI_READ_FILE_H_
#define LIENTHONG_GATEWAY_CLI_READ_FILE_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"

namespace lienthong::cli {

// Most a PEM file the tool reads may hold (--ca, --cert, --key; the audit
// keys are read by the audit library within its own limit): a system's
// whole CA bundle is about 200 KiB, a key or a certificate chain a few KiB.
inline constexpr size_t kMaxPemFileBytes = size_t{1} << 20;

// Returns the contents of the file at `path`. Fails with
// FAILED_PRECONDITION "cannot read: <the system's reason>" when it cannot be
// opened or read, or "larger than <max_bytes>" ("larger than 64 MiB") when
// it holds more than `max_bytes`. The messages do not name the file: the
// caller says which one it was (a path or an option). Thread-safe.
absl::StatusOr<std::string> ReadFileAtMost(const std::string& path,
                                           size_t max_bytes);

}  // namespace lienthong::cli

#endif  // LIENTHONG_GATEWAY_CLI_READ_FILE_H_
