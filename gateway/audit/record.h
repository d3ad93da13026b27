// The audit record's hash chain: the canonical byte encoding of a record,
// the chain hash, hex helpers, and CitizenKey (the keyed hash and masked form
// that stand in for a citizen ID in the log).
//
// Records are lienthong::v1::AuditRecord messages (proto/lienthong/v1/
// audit.proto). Protobuf serialization is not canonical, so the chain hashes
// this file's own encoding instead:
//
//   hash = SHA-256(prev_hash_raw || Canonical(record))
//
// where prev_hash_raw is the 32 bytes of the previous record's hash (32 zero
// bytes for the first record) and Canonical(record) is, in this order:
//
//   "LTAUDIT1"                      8 bytes: format and version tag
//   sequence                        u64
//   time.seconds                    i64
//   time.nanos                      i32
//   node                            str
//   caller                          str
//   caller_cert_sha256              str
//   method                          str
//   purpose                         str
//   dossier_id                      str
//   citizen_hmac                    str
//   citizen_masked                  str
//   national_system                 str
//   attempts                        i32
//   outcome                         str
//   latency_us                      i64
//   request_sha256                  str
//   response_sha256                 str
//
// A record that names an officer (any of the officer_* fields set) is
// tagged "LTAUDIT2" instead and appends, after response_sha256:
//
//   officer_hmac                    str
//   officer_masked                  str
//   officer_unit_code               str
//   officer_account_hmac            str
//
// so records written before officers existed keep their "LTAUDIT1" hashes,
// and removing a record's officer changes its hash like any other edit.
// A record of a record lookup (record_type or record_key_hmac set) is
// tagged "LTAUDIT3" and appends the four officer fields and then:
//
//   record_type                     str
//   record_key_hmac                 str
//
// Integers are fixed-width big-endian two's complement; str is a u32
// big-endian byte length followed by the bytes. Every field has a fixed
// width or an explicit length, so two different records never encode to the
// same bytes. `prev_hash` enters only through the prefix and `hash` not at
// all. A new field means a new tag ("LTAUDIT3"), never a silent change.
#ifndef LIENTHONG_GATEWAY_AUDIT_RECORD_H_
#define LIENTHONG_GATEWAY_AUDIT_RECORD_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

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

// Returns the prev_hash of the first record: 64 '0' digits.
const std::string& GenesisHash();

// Returns the canonical encoding described above. Thread-safe.
std::string CanonicalEncoding(const AuditRecord& record);

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

// The key that turns citizen IDs into searchable keyed hashes. Copyable;
// thread-safe for concurrent use.
class CitizenKey {
 public:
  // Minimum key length in bytes.
  static constexpr size_t kMinKeySize = 32;

  // Returns a key over `key` bytes; INVALID_ARGUMENT when it is shorter than
  // kMinKeySize.
  static absl::StatusOr<CitizenKey> FromBytes(std::string key);

  // Returns the key held in the file at `path`: its bytes with trailing
  // whitespace removed (GenerateHmacKeyFile writes 64 hex characters).
  // Fails with NOT_FOUND when the file cannot be read and INVALID_ARGUMENT
  // when the key is too short.
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
  struct MacTemplate;
  explicit CitizenKey(std::shared_ptr<const MacTemplate> mac)
      : mac_(std::move(mac)) {}

  // An HMAC-SHA256 context keyed once; each Hmac() copies it.
  std::shared_ptr<const MacTemplate> mac_;
};

// Writes a new random HMAC key (64 hex characters and a newline) to `path`
// with mode 0600. Fails with ALREADY_EXISTS when `path` exists and
// UNAVAILABLE when it cannot be written.
// Returns the text a record lookup's key parameters are hashed as (sorted
// by name): for each, name, '=', value, then a NUL byte, so that two
// different keys never give the same text (names hold no '=' and values no
// control characters: the server validated them).
std::string RecordKeyText(
    const std::vector<std::pair<std::string, std::string>>& sorted_parameters);

absl::Status GenerateHmacKeyFile(const std::string& path);

}  // namespace lienthong::audit

#endif  // LIENTHONG_GATEWAY_AUDIT_RECORD_H_
