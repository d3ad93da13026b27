// The audit record's hash chain: the canonical byte encoding of a record,
// the chain hash, hex helpers, and the keys that stand in for personal data
// in the log: CitizenKey (the keyed hash and masked form of a citizen ID)
// and DigestKey (the keyed digests of requests and responses).
//
// Records are lienthong::v1::AuditRecord messages (proto/lienthong/v1/
// audit.proto). Protobuf serialization is not canonical, so the chain hashes
// this file's own encoding instead:
//
//   hash = SHA-256(prev_hash_raw || Canonical(record))
//
// where prev_hash_raw is the 32 bytes of the previous record's hash (32 zero
// bytes for the first record) and Canonical(record) is
//
//   "LTAUDIT3"                      8 bytes: format and version tag
//   then, for every field other than prev_hash and hash that is set (not
//   its default), in ascending field number:
//   number                          u32
//   value                           integers (any width, enums too): i64
//                                   strings: u32 byte length, the bytes
//                                   Timestamp: i64 seconds, i32 nanos
//                                   messages: u32 length, their own fields
//                                   encoded the same way (no tag)
//
// Integers are big-endian two's complement. Every value has a fixed width
// or an explicit length and is preceded by its field number, so two
// different records never encode to the same bytes; a field added later
// leaves the hash of every record that does not set it unchanged (a test
// checks by reflection that every field of AuditRecord is encoded).
// `prev_hash` enters only through the prefix and `hash` not at all. The
// officer's fields (19..22) are encoded like any other. ("LTAUDIT1" and
// "LTAUDIT2" were the SQLite store's fixed layouts, without and with the
// officer; that store is not read by this version.)
#ifndef LIENTHONG_GATEWAY_AUDIT_RECORD_H_
#define LIENTHONG_GATEWAY_AUDIT_RECORD_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "lienthong/v1/audit.pb.h"

namespace lienthong::audit {

using ::lienthong::v1::AuditCheckpoint;
using ::lienthong::v1::AuditRecord;

// Bytes in a SHA-256 digest; hashes travel as 2 * kHashSize hex digits.
inline constexpr size_t kHashSize = 32;

// The longest node name a record, checkpoint or anchor carries, in bytes:
// the gateway's, a new epoch's and an archive's alike, so that every line
// of the anchor file stays within what its readers accept.
inline constexpr size_t kMaxNodeBytes = 256;

// Returns the prev_hash of the first record: 64 '0' digits.
const std::string& GenesisHash();

// Returns the canonical encoding described above. Thread-safe.
std::string CanonicalEncoding(const AuditRecord& record);
// Returns the encoding of an AuditBreak's fields (as nested in a record).
std::string CanonicalEncoding(const lienthong::v1::AuditBreak& epoch_break);

// Returns the hex chain hash of `record` from its prev_hash and the other
// fields (its `hash` field is ignored). Fails with INVALID_ARGUMENT when
// prev_hash is not 64 hex digits. Thread-safe.
absl::StatusOr<std::string> ComputeRecordHash(const AuditRecord& record);

// Returns true when `record.hash()` equals ComputeRecordHash(record).
bool RecordHashMatches(const AuditRecord& record);

// Returns lowercase hex SHA-256 of `data`.
std::string Sha256Hex(absl::string_view data);

// Returns `bytes` as lowercase hex.
std::string ToHex(absl::string_view bytes);

// Decodes hex (either case) into `bytes`; returns false, leaving `bytes`
// unspecified, for odd length or a non-hex digit.
bool FromHex(absl::string_view hex, std::string* bytes);

// Converts between the proto Timestamp and absl::Time. The conversion to
// proto fails with INVALID_ARGUMENT outside the range audit records accept:
// 1970-01-01 to 2262-04-11 UTC (nanoseconds since the epoch fit an int64).
absl::Time FromProtoTime(const google::protobuf::Timestamp& time);
absl::Status ToProtoTime(absl::Time time, google::protobuf::Timestamp* out);
// Returns OK when `time` is within that range, else INVALID_ARGUMENT.
absl::Status ValidateProtoTime(const google::protobuf::Timestamp& time);

// An HMAC-SHA256 key, keyed once. Copyable; thread-safe for concurrent use.
class HmacKey {
 public:
  // Minimum key length in bytes.
  static constexpr size_t kMinKeySize = 32;

  // Returns a key over `key` bytes; INVALID_ARGUMENT when it is shorter than
  // kMinKeySize, naming `what` (e.g. "audit HMAC key").
  static absl::StatusOr<HmacKey> FromBytes(std::string key,
                                           absl::string_view what);
  // Returns the key held in the file at `path`: its bytes with trailing
  // whitespace removed. NOT_FOUND when the file cannot be read,
  // INVALID_ARGUMENT when the key is too short or the file larger than
  // kMaxKeyFileBytes (file_util.h).
  static absl::StatusOr<HmacKey> FromFile(const std::string& path,
                                          absl::string_view what);

  // Returns hex HMAC-SHA256(key, data).
  std::string Hex(absl::string_view data) const;

 private:
  struct MacTemplate;
  explicit HmacKey(std::shared_ptr<const MacTemplate> mac)
      : mac_(std::move(mac)) {}

  // An HMAC-SHA256 context keyed once; each Hex() copies it.
  std::shared_ptr<const MacTemplate> mac_;
};

// The key that turns citizen IDs into searchable keyed hashes. Copyable;
// thread-safe for concurrent use.
class CitizenKey {
 public:
  static constexpr size_t kMinKeySize = HmacKey::kMinKeySize;

  // Returns a key over `key` bytes; INVALID_ARGUMENT when it is shorter than
  // kMinKeySize.
  static absl::StatusOr<CitizenKey> FromBytes(std::string key);

  // Returns the key held in the file at `path`: its bytes with trailing
  // whitespace removed (GenerateHmacKeyFile writes 64 hex characters).
  // Fails with NOT_FOUND when the file cannot be read and INVALID_ARGUMENT
  // when the key is too short or the file too large (HmacKey::FromFile).
  static absl::StatusOr<CitizenKey> FromFile(const std::string& path);

  // Returns hex HMAC-SHA256(key, citizen_id), or "" for an empty ID.
  std::string Hmac(absl::string_view citizen_id) const;

  // Sets record->citizen_hmac and record->citizen_masked for `citizen_id`
  // (both empty for an empty ID). The plaintext ID is not kept anywhere.
  void Fill(absl::string_view citizen_id, AuditRecord* record) const;

  // Sets record->officer_hmac and officer_masked for the officer's
  // `citizen_id` (as Fill does for citizens), officer_unit_code to
  // `unit_code` and officer_account_hmac to Hmac(`account`). Empty inputs
  // leave their fields empty. Neither the ID nor the account is kept.
  void FillOfficer(absl::string_view citizen_id, absl::string_view unit_code,
                   absl::string_view account, AuditRecord* record) const;

 private:
  explicit CitizenKey(HmacKey key) : key_(std::move(key)) {}
  HmacKey key_;
};

// The key of the request and response digests in audit records: with it
// the gateway (and whoever holds the key) can tell whether a given message
// is the one a record names; without it a digest reveals nothing, so the
// few unknown digits of a masked ID cannot be found by trying every
// candidate. Copyable; thread-safe for concurrent use.
class DigestKey {
 public:
  // As CitizenKey::FromBytes / FromFile.
  static absl::StatusOr<DigestKey> FromBytes(std::string key);
  static absl::StatusOr<DigestKey> FromFile(const std::string& path);
  // A key derived from `citizen_key` (HMAC of a fixed label), for callers
  // that were given no digest key of their own; the gateway always has one.
  static DigestKey DerivedFrom(const CitizenKey& citizen_key);

  // Returns hex HMAC-SHA256(key, bytes) / of `message`'s serialized form.
  std::string Digest(absl::string_view bytes) const { return key_.Hex(bytes); }
  std::string Digest(const google::protobuf::Message& message) const;

 private:
  explicit DigestKey(HmacKey key) : key_(std::move(key)) {}
  HmacKey key_;
};

// Returns the text a record lookup's key parameters are hashed as (sorted
// by name): for each, name, '=', value, then a NUL byte, so that two
// different keys never give the same text (names hold no '=' and values no
// control characters: the server validated them).
std::string RecordKeyText(
    const std::vector<std::pair<std::string, std::string>>& sorted_parameters);

// Writes a new random HMAC key (64 hex characters and a newline) to `path`
// with mode 0600: for citizen IDs or digests alike. Fails with
// ALREADY_EXISTS when `path` exists and UNAVAILABLE when it cannot be
// written.
absl::Status GenerateHmacKeyFile(const std::string& path);

}  // namespace lienthong::audit

#endif  // LIENTHONG_GATEWAY_AUDIT_RECORD_H_
