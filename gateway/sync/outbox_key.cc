#include "gateway/sync/outbox_key.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "gateway/audit/file_util.h"
#include "gateway/sync/outbox_cipher.h"

namespace lienthong::sync {

absl::StatusOr<std::string> ReadOutboxKeyFile(const std::string& path) {
  absl::StatusOr<std::string> key = audit::ReadWholeFile(path);
  if (!key.ok()) return key.status();
  if (key->size() != OutboxCipher::kKeyBytes) {
    const size_t size = key->size();
    OPENSSL_cleanse(key->data(), key->size());
    return absl::InvalidArgumentError(
        absl::StrCat("outbox key file ", path, " must hold exactly ",
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
      return absl::InternalError("no randomness for the outbox key");
    }
    absl::Status written = audit::WriteNewSecretFile(path, key);
    OPENSSL_cleanse(key.data(), key.size());
    // Another process may have made it meanwhile: read whichever is there.
    if (!written.ok() && !absl::IsAlreadyExists(written)) return written;
    *made = written.ok();
  }
  return ReadOutboxKeyFile(path);
}

}  // namespace lienthong::sync
