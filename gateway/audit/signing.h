// Ed25519 keys for the audit log's signed checkpoints (OpenSSL EVP): the
// gateway's SigningKey, the PublicKey auditors verify with, key pinning by
// fingerprint, key-file generation, and making and checking
// AuditCheckpoints.
//
// A checkpoint's signature covers CheckpointMessage(checkpoint):
//
//   "LTCHECKPOINT2"        13 bytes: format and version tag
//   index                  u64  its place in the chain of checkpoints
//   first_sequence         u64  the first record it covers
//   sequence               u64  the record it signs (the head)
//   hash                   32 bytes: that record's hash
//   prev_checkpoint_hash   32 bytes: the previous checkpoint's hash
//   reason                 u32
//   checkpoint_every       u32
//   epoch                  u32
//   time.seconds           i64
//   time.nanos             i32
//   node                   u32 length, then the bytes
//   public_key_sha256      32 bytes: the signing key's fingerprint
//
// all integers big-endian. The signature is Ed25519 (pure, RFC 8032) over
// those bytes, and checkpoint_hash is their SHA-256: what the next
// checkpoint names as prev_checkpoint_hash, so the checkpoints form a chain
// that a deleted, reordered or replaced checkpoint breaks.
#ifndef LIENTHONG_GATEWAY_AUDIT_SIGNING_H_
#define LIENTHONG_GATEWAY_AUDIT_SIGNING_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "lienthong/v1/audit.pb.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace lienthong::audit {

// An Ed25519 public key. Cheap to copy; thread-safe for concurrent use.
class PublicKey {
 public:
  // Returns the key in a PEM file holding either a public key
  // ("BEGIN PUBLIC KEY") or an Ed25519 private key, whose public half is
  // taken. NOT_FOUND when the file cannot be read, INVALID_ARGUMENT when it
  // holds no Ed25519 key or is larger than kMaxKeyFileBytes (file_util.h).
  static absl::StatusOr<PublicKey> FromPemFile(const std::string& path);
  // As FromPemFile, from PEM text.
  static absl::StatusOr<PublicKey> FromPem(absl::string_view pem);
  // Returns the key from its raw 32 bytes; INVALID_ARGUMENT otherwise.
  static absl::StatusOr<PublicKey> FromRaw(absl::string_view raw);

  // The raw 32-byte key.
  const std::string& raw() const { return raw_; }
  // Hex SHA-256 of raw(): what AuditCheckpoint.public_key_sha256 holds.
  const std::string& fingerprint() const { return fingerprint_; }
  // The key as "BEGIN PUBLIC KEY" PEM, for handing to auditors.
  std::string ToPem() const;

  // Returns true when `signature` is a valid Ed25519 signature of
  // `message` by this key.
  bool Verify(absl::string_view message, absl::string_view signature) const;

 private:
  explicit PublicKey(std::shared_ptr<EVP_PKEY> key);

  std::shared_ptr<EVP_PKEY> key_;
  std::string raw_;
  std::string fingerprint_;
};

// An Ed25519 private key. Cheap to copy; thread-safe for concurrent use.
class SigningKey {
 public:
  // Returns the key in a PEM file (PKCS#8 "BEGIN PRIVATE KEY", as
  // GenerateSigningKeyFile and `openssl genpkey -algorithm ed25519` write).
  // NOT_FOUND when the file cannot be read, INVALID_ARGUMENT when it holds no
  // Ed25519 private key or is larger than kMaxKeyFileBytes (file_util.h).
  static absl::StatusOr<SigningKey> FromPemFile(const std::string& path);
  // As FromPemFile, from PEM text.
  static absl::StatusOr<SigningKey> FromPem(absl::string_view pem);

  const PublicKey& public_key() const { return public_key_; }

  // Returns the 64-byte signature of `message`; INTERNAL if OpenSSL fails.
  absl::StatusOr<std::string> Sign(absl::string_view message) const;

 private:
  SigningKey(std::shared_ptr<EVP_PKEY> key, PublicKey public_key)
      : key_(std::move(key)), public_key_(std::move(public_key)) {}

  std::shared_ptr<EVP_PKEY> key_;
  PublicKey public_key_;
};

// Writes a new Ed25519 private key as PKCS#8 PEM to `path` with mode 0600.
// Fails with ALREADY_EXISTS when `path` exists, UNAVAILABLE when it cannot
// be written.
absl::Status GenerateSigningKeyFile(const std::string& path);

// Returns the bytes a checkpoint's signature covers (see the top of this
// file), or INVALID_ARGUMENT when a hash or the fingerprint is not 64 hex
// digits.
absl::StatusOr<std::string> CheckpointMessage(
    const lienthong::v1::AuditCheckpoint& checkpoint);

// Returns hex SHA-256 of CheckpointMessage(checkpoint); errors as that.
absl::StatusOr<std::string> CheckpointHash(
    const lienthong::v1::AuditCheckpoint& checkpoint);

// Returns `checkpoint` (every field but public_key_sha256, checkpoint_hash
// and signature filled in by the caller) signed by `key`, with those three
// set. INVALID_ARGUMENT for a malformed hash or a time outside 1970..2262;
// INTERNAL if signing fails.
absl::StatusOr<lienthong::v1::AuditCheckpoint> SignCheckpoint(
    const SigningKey& key, lienthong::v1::AuditCheckpoint checkpoint);

// Returns OK when `checkpoint` names `key` by fingerprint, carries a valid
// signature by it and its stored checkpoint_hash is right; otherwise
// INVALID_ARGUMENT saying which check failed.
absl::Status VerifyCheckpoint(const lienthong::v1::AuditCheckpoint& checkpoint,
                              const PublicKey& key);

// Returns OK when `pin` (hex SHA-256 of a raw Ed25519 public key, either
// case) is `key`'s fingerprint, else FAILED_PRECONDITION saying so (both
// fingerprints shown: they are not secret).
absl::Status CheckPin(const PublicKey& key, absl::string_view pin);

}  // namespace lienthong::audit

#endif  // LIENTHONG_GATEWAY_AUDIT_SIGNING_H_
