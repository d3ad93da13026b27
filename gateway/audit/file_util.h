// Small file helpers for the audit library: whole-file reads and creating
// files that hold secrets (mode 0600, never overwriting).
#ifndef LIENTHONG_GATEWAY_AUDIT_FILE_UTIL_H_
#define LIENTHONG_GATEWAY_AUDIT_FILE_UTIL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace lienthong::audit {

// Returns the whole content of `path`; NOT_FOUND when it cannot be opened,
// UNAVAILABLE when reading fails. Thread-safe.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path);

// Creates `path` with mode 0600 and writes `contents` to it, synced.
// Fails with ALREADY_EXISTS when `path` exists and UNAVAILABLE on any other
// I/O error (a partly written file is removed). Thread-safe.
absl::Status WriteNewSecretFile(const std::string& path,
                                absl::string_view contents);

}  // namespace lienthong::audit

#endif  // LIENTHONG_GATEWAY_AUDIT_FILE_UTIL_H_
