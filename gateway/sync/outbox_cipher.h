// OutboxCipher: AES-256-GCM (OpenSSL EVP) for the personal data that waits
// in the outbox: applicants' names, e-mails, phone numbers and IDs in a
// dossier's registration, officials' names in its progress. Each record is
// sealed with a fresh random 96-bit nonce, and bound by associated data to
// its place in the outbox (database, dossier, sequence), so a record moved
// to another row does not open either.
//
// Sealed form: version byte 0x01 || nonce (12 bytes) || ciphertext ||
// tag (16 bytes).
//
// Thread-safe: every call uses its own cipher context.
#ifndef LIENTHONG_GATEWAY_SYNC_OUTBOX_CIPHER_H_
#define LIENTHONG_GATEWAY_SYNC_OUTBOX_CIPHER_H_

#include <cstddef>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace lienthong::sync {

class OutboxCipher {
 public:
  // Key size: 256 bits.
  static constexpr size_t kKeyBytes = 32;

  // Returns a cipher for `key`. INVALID_ARGUMENT unless it has kKeyBytes
  // bytes (the message gives the size found, never the key).
  static absl::StatusOr<OutboxCipher> Create(absl::string_view key);

  OutboxCipher(OutboxCipher&& other) noexcept;
  OutboxCipher& operator=(OutboxCipher&& other) noexcept;
  OutboxCipher(const OutboxCipher&) = delete;
  OutboxCipher& operator=(const OutboxCipher&) = delete;
  // Wipes the key from memory.
  ~OutboxCipher();

  // Returns `plaintext` sealed under `associated_data`. INTERNAL when
  // OpenSSL fails (no randomness, no cipher).
  absl::StatusOr<std::string> Seal(absl::string_view plaintext,
                                   absl::string_view associated_data) const;

  // Returns a keyed digest of `data` (HMAC-SHA256 under a key derived from
  // this one), as 64 hex digits: for telling whether sealed content changed
  // without storing a hash of personal data that could be guessed.
  std::string Digest(absl::string_view data) const;

  // Returns the plaintext of `sealed`. DATA_LOSS when it is not a record
  // sealed under this key and `associated_data`: tampered with, truncated,
  // moved, or sealed under another key (GCM cannot tell these apart).
  absl::StatusOr<std::string> Open(absl::string_view sealed,
                                   absl::string_view associated_data) const;

  // A store's key check: a known text sealed under this key and `place`,
  // kept with the store when it is made, so that opening it later with
  // another key is told at once (KeyCheckOpens) rather than at its first
  // record. Seal's errors.
  absl::StatusOr<std::string> SealKeyCheck(absl::string_view place) const;
  // True when `sealed` is a key check sealed under this key and `place`.
  bool KeyCheckOpens(absl::string_view sealed, absl::string_view place) const;

 private:
  explicit OutboxCipher(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

}  // namespace lienthong::sync

#endif  // LIENTHONG_GATEWAY_SYNC_OUTBOX_CIPHER_H_
