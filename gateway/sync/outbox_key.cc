#include "gateway/sync/outbox_key.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "gateway/audit/file_util.h"
#include "gateway/log/log.h"
#include "gateway/storage/database.h"
#include "gateway/sync/outbox_cipher.h"

namespace lienthong::sync {

absl::StatusOr<std::string> ReadOutboxKeyFile(const std::string& path) {
  absl::StatusOr<std::string> key = audit::ReadWholeFile(path);
  if (!key.ok()) return key.status();
  if (key->size() != OutboxCipher::kKeyBytes) {
    const size_t size = key->size();
    OPENSSL_cleanse(key->data(), key->size());
    return absl::InvalidArgumentError(
        absl::StrCat("key file ", path, " must hold exactly ",
                     OutboxCipher::kKeyBytes, " bytes; it holds ", size));
  }
  return key;
}

absl::StatusOr<std::string> ReadOrMakeOutboxKeyFile(const std::string& path,
                                                    bool* made) {
  *made = false;
  if (::access(path.c_str(), F_OK) != 0) {
    std::string key(OutboxCipher::kKeyBytes, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()),
                   static_cast<int>(key.size())) != 1) {
      return absl::InternalError("no randomness for a key");
    }
    absl::Status written = audit::WriteNewSecretFile(path, key);
    OPENSSL_cleanse(key.data(), key.size());
    // Another process may have made it meanwhile: read whichever is there.
    if (!written.ok() && !absl::IsAlreadyExists(written)) return written;
    *made = written.ok();
  }
  return ReadOutboxKeyFile(path);
}

absl::StatusOr<std::string> ConfiguredKey(const std::string& key_file,
                                          absl::string_view field,
                                          const std::string& store_path,
                                          absl::string_view dev_file_name) {
  if (!key_file.empty()) {
    absl::StatusOr<std::string> key = ReadOutboxKeyFile(key_file);
    if (!key.ok()) {
      return absl::Status(key.status().code(),
                          absl::StrCat(field, ": ", key.status().message()));
    }
    return key;
  }
  const std::filesystem::path folder =
      std::filesystem::path(store_path).parent_path();
  // An error surfaces below, when the key file cannot be made.
  (void)storage::MakeFolders(folder.string());
  const std::string path = (folder / std::string(dev_file_name)).string();
  bool made = false;
  absl::StatusOr<std::string> key = ReadOrMakeOutboxKeyFile(path, &made);
  if (!key.ok()) {
    return absl::Status(key.status().code(),
                        absl::StrCat("development key ", dev_file_name, ": ",
                                     key.status().message()));
  }
  if (made) {
    log::Warning("made a development key; configure its setting for production",
                 {{"file", path}, {"setting", field}});
  }
  return key;
}

}  // namespace lienthong::sync
