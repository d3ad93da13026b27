// Key files of the stores sealed with OutboxCipher (the outbox:
// portal_sync.outbox_key_file; the bundle store: bundles.key_file): exactly
// 32 raw bytes, the AES-256 key. Made on first start in development, like
// the audit keys; in production an operator makes and keeps it.
#ifndef LIENTHONG_GATEWAY_SYNC_OUTBOX_KEY_H_
#define LIENTHONG_GATEWAY_SYNC_OUTBOX_KEY_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace lienthong::sync {

// Returns the key in `path`. Fails with NOT_FOUND when the file cannot be
// opened, UNAVAILABLE when it cannot be read, and INVALID_ARGUMENT when it
// does not hold exactly 32 bytes (the message gives the size, never the
// content). Thread-safe.
absl::StatusOr<std::string> ReadOutboxKeyFile(const std::string& path);

// Returns the key in `path`, first making the file (mode 0600, 32 random
// bytes) when it does not exist; sets `*made` when it did so. Fails as
// ReadOutboxKeyFile, or with UNAVAILABLE / INTERNAL when the file cannot be
// made. For development only. Thread-safe.
absl::StatusOr<std::string> ReadOrMakeOutboxKeyFile(const std::string& path,
                                                    bool* made);

// Returns the key in `key_file` when it is set (errors start with `field`,
// e.g. "portal_sync.outbox_key_file: "), or else the development key in the
// file `dev_file_name` beside `store_path` (its folder made when missing),
// made on first use with a warning that names `field` for production.
// Fails as ReadOrMakeOutboxKeyFile.
absl::StatusOr<std::string> ConfiguredKey(const std::string& key_file,
                                          absl::string_view field,
                                          const std::string& store_path,
                                          absl::string_view dev_file_name);

}  // namespace lienthong::sync

#endif  // LIENTHONG_GATEWAY_SYNC_OUTBOX_KEY_H_
