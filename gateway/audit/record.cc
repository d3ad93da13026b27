#include "gateway/audit/record.h"

// HmacKey keeps SHA-256 states keyed once and copies them per MAC (below);
// OpenSSL 3 marks the plain SHA256_CTX functions deprecated in favour of
// EVP, whose per-call context copy costs more than the MAC itself.
#define OPENSSL_SUPPRESS_DEPRECATED

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gateway/audit/file_util.h"
#include "gateway/status/status_macros.h"
#include "gateway/validation/citizen_id.h"

namespace lienthong::audit {
namespace {

constexpr char kTag[] = "LTAUDIT3";
constexpr char kDigestKeyLabel[] = "lienthong audit digest key v1";
// Nanoseconds since the epoch must fit an int64: up to 2262-04-11.
constexpr int64_t kMaxSeconds = INT64_MAX / 1000000000 - 1;

void PutU64(uint64_t v, std::string* out) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((v >> shift) & 0xff));
  }
}
void PutU32(uint32_t v, std::string* out) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

// Field writers: each skips a default value.
void PutInt(uint32_t number, int64_t v, std::string* out) {
  if (v == 0) return;
  PutU32(number, out);
  PutU64(static_cast<uint64_t>(v), out);
}
void PutStr(uint32_t number, absl::string_view s, std::string* out) {
  if (s.empty()) return;
  PutU32(number, out);
  PutU32(static_cast<uint32_t>(s.size()), out);
  out->append(s.data(), s.size());
}
void PutTime(uint32_t number, bool present,
             const google::protobuf::Timestamp& t, std::string* out) {
  if (!present) return;
  PutU32(number, out);
  PutU64(static_cast<uint64_t>(t.seconds()), out);
  PutU32(static_cast<uint32_t>(t.nanos()), out);
}
void PutNested(uint32_t number, bool present, const std::string& encoded,
               std::string* out) {
  if (!present) return;
  PutU32(number, out);
  PutU32(static_cast<uint32_t>(encoded.size()), out);
  out->append(encoded);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

const std::string& GenesisHash() {
  static const std::string* const kGenesis =
      new std::string(2 * kHashSize, '0');
  return *kGenesis;
}

std::string CanonicalEncoding(const lienthong::v1::AuditBreak& b) {
  std::string out;
  PutInt(1, b.epoch(), &out);
  PutInt(2, static_cast<int64_t>(b.first_bad_sequence()), &out);
  PutInt(3, static_cast<int64_t>(b.first_bad_checkpoint()), &out);
  PutInt(4, b.problem(), &out);
  PutStr(5, b.detail(), &out);
  PutStr(6, b.opened_by(), &out);
  PutStr(7, b.reason(), &out);
  PutTime(8, b.has_time(), b.time(), &out);
  return out;
}

std::string CanonicalEncoding(const AuditRecord& r) {
  std::string out;
  out.reserve(512);
  out.append(kTag, sizeof(kTag) - 1);
  // In field-number order; prev_hash (17) and hash (18) are not encoded.
  PutInt(1, static_cast<int64_t>(r.sequence()), &out);
  PutTime(2, r.has_time(), r.time(), &out);
  PutStr(3, r.node(), &out);
  PutStr(4, r.caller(), &out);
  PutStr(5, r.caller_cert_sha256(), &out);
  PutStr(6, r.method(), &out);
  PutStr(7, r.purpose(), &out);
  PutStr(8, r.dossier_id(), &out);
  PutStr(9, r.citizen_hmac(), &out);
  PutStr(10, r.citizen_masked(), &out);
  PutStr(11, r.national_system(), &out);
  PutInt(12, r.attempts(), &out);
  PutStr(13, r.outcome(), &out);
  PutInt(14, r.latency_us(), &out);
  PutStr(15, r.request_sha256(), &out);
  PutStr(16, r.response_sha256(), &out);
  PutStr(19, r.officer_hmac(), &out);
  PutStr(20, r.officer_masked(), &out);
  PutStr(21, r.officer_unit_code(), &out);
  PutStr(22, r.officer_account_hmac(), &out);
  PutStr(23, r.record_type(), &out);
  PutStr(24, r.record_key_hmac(), &out);
  PutInt(30, r.kind(), &out);
  PutInt(31, static_cast<int64_t>(r.count()), &out);
  PutStr(32, r.details(), &out);
  PutInt(33, static_cast<int64_t>(r.records_returned()), &out);
  PutNested(34, r.has_epoch_break(),
            r.has_epoch_break() ? CanonicalEncoding(r.epoch_break()) : "",
            &out);
  return out;
}

absl::StatusOr<std::string> ComputeRecordHash(const AuditRecord& record) {
  std::string input;
  if (record.prev_hash().size() != 2 * kHashSize ||
      !FromHex(record.prev_hash(), &input)) {
    return absl::InvalidArgumentError("prev_hash is not 64 hex digits");
  }
  input += CanonicalEncoding(record);
  return Sha256Hex(input);
}

bool RecordHashMatches(const AuditRecord& record) {
  absl::StatusOr<std::string> hash = ComputeRecordHash(record);
  return hash.ok() && *hash == record.hash();
}

std::string Sha256Hex(absl::string_view data) {
  // Fetched once: OpenSSL 3's SHA256() looks the algorithm up, under a lock,
  // on every call.
  static const EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest, &size, kSha256, nullptr);
  return ToHex(absl::string_view(reinterpret_cast<const char*>(digest), size));
}

std::string ToHex(absl::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * bytes.size(), '\0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    unsigned char b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kDigits[b >> 4];
    out[2 * i + 1] = kDigits[b & 0xf];
  }
  return out;
}

bool FromHex(absl::string_view hex, std::string* bytes) {
  if (hex.size() % 2 != 0) return false;
  bytes->resize(hex.size() / 2);
  for (size_t i = 0; i < bytes->size(); ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*bytes)[i] = static_cast<char>((hi << 4) | lo);
  }
  return true;
}

absl::Time FromProtoTime(const google::protobuf::Timestamp& time) {
  return absl::FromUnixSeconds(time.seconds()) +
         absl::Nanoseconds(time.nanos());
}

absl::Status ValidateProtoTime(const google::protobuf::Timestamp& time) {
  if (time.seconds() < 0 || time.seconds() > kMaxSeconds || time.nanos() < 0 ||
      time.nanos() > 999999999) {
    return absl::InvalidArgumentError(
        "audit time must be between 1970 and 2262 with nanos in [0, 1e9)");
  }
  return absl::OkStatus();
}

absl::Status ToProtoTime(absl::Time time, google::protobuf::Timestamp* out) {
  const int64_t seconds = absl::ToUnixSeconds(time);
  if (seconds < 0 || seconds > kMaxSeconds) {
    return absl::InvalidArgumentError(
        "audit time must be between 1970 and 2262");
  }
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(time - absl::FromUnixSeconds(seconds))));
  return absl::OkStatus();
}

// HMAC-SHA256 (RFC 2104) with its two keyed states computed once: the
// inner hash after (key XOR ipad) and the outer after (key XOR opad). A MAC
// then copies each state (a plain struct: no allocation) and hashes the data
// and the inner digest. EVP_MAC_CTX_dup and _free per MAC cost 2 us a call
// on the audited path, measured with `scripts/bench.sh --perf`.
struct HmacKey::MacTemplate {
  ~MacTemplate() {
    OPENSSL_cleanse(&inner, sizeof(inner));
    OPENSSL_cleanse(&outer, sizeof(outer));
  }
  SHA256_CTX inner;
  SHA256_CTX outer;
};

absl::StatusOr<HmacKey> HmacKey::FromBytes(std::string key,
                                           absl::string_view what) {
  if (key.size() < kMinKeySize) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must be at least ", kMinKeySize, " bytes"));
  }
  unsigned char block[SHA256_CBLOCK] = {};
  if (key.size() > sizeof(block)) {
    SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(),
           block);
  } else {
    std::memcpy(block, key.data(), key.size());
  }
  OPENSSL_cleanse(key.data(), key.size());
  auto mac = std::make_shared<MacTemplate>();
  unsigned char pad[SHA256_CBLOCK];
  bool ok = SHA256_Init(&mac->inner) == 1 && SHA256_Init(&mac->outer) == 1;
  for (size_t i = 0; i < sizeof(pad); ++i) pad[i] = block[i] ^ 0x36;
  ok = ok && SHA256_Update(&mac->inner, pad, sizeof(pad)) == 1;
  for (size_t i = 0; i < sizeof(pad); ++i) pad[i] = block[i] ^ 0x5c;
  ok = ok && SHA256_Update(&mac->outer, pad, sizeof(pad)) == 1;
  OPENSSL_cleanse(block, sizeof(block));
  OPENSSL_cleanse(pad, sizeof(pad));
  if (!ok) return absl::InternalError("cannot set up HMAC-SHA256");
  return HmacKey(std::move(mac));
}

absl::StatusOr<HmacKey> HmacKey::FromFile(const std::string& path,
                                          absl::string_view what) {
  LIENTHONG_ASSIGN_OR_RETURN(std::string key,
                             ReadWholeFile(path, kMaxKeyFileBytes));
  key.erase(absl::StripTrailingAsciiWhitespace(key).size());
  return FromBytes(std::move(key), what);
}

std::string HmacKey::Hex(absl::string_view data) const {
  unsigned char inner_digest[SHA256_DIGEST_LENGTH];
  unsigned char mac[SHA256_DIGEST_LENGTH];
  SHA256_CTX ctx = mac_->inner;
  SHA256_Update(&ctx, data.data(), data.size());
  SHA256_Final(inner_digest, &ctx);
  ctx = mac_->outer;
  SHA256_Update(&ctx, inner_digest, sizeof(inner_digest));
  SHA256_Final(mac, &ctx);
  OPENSSL_cleanse(&ctx, sizeof(ctx));
  return ToHex(absl::string_view(reinterpret_cast<const char*>(mac),
                                 sizeof(mac)));
}

absl::StatusOr<CitizenKey> CitizenKey::FromBytes(std::string key) {
  LIENTHONG_ASSIGN_OR_RETURN(HmacKey hmac,
                             HmacKey::FromBytes(std::move(key), "audit HMAC key"));
  return CitizenKey(std::move(hmac));
}

absl::StatusOr<CitizenKey> CitizenKey::FromFile(const std::string& path) {
  LIENTHONG_ASSIGN_OR_RETURN(HmacKey hmac,
                             HmacKey::FromFile(path, "audit HMAC key"));
  return CitizenKey(std::move(hmac));
}

std::string CitizenKey::Hmac(absl::string_view citizen_id) const {
  if (citizen_id.empty()) return "";
  return key_.Hex(citizen_id);
}

void CitizenKey::Fill(absl::string_view citizen_id, AuditRecord* record) const {
  if (citizen_id.empty()) {
    record->clear_citizen_hmac();
    record->clear_citizen_masked();
    return;
  }
  record->set_citizen_hmac(Hmac(citizen_id));
  record->set_citizen_masked(validation::MaskCitizenId(citizen_id));
}

absl::StatusOr<DigestKey> DigestKey::FromBytes(std::string key) {
  LIENTHONG_ASSIGN_OR_RETURN(
      HmacKey hmac, HmacKey::FromBytes(std::move(key), "audit digest key"));
  return DigestKey(std::move(hmac));
}

absl::StatusOr<DigestKey> DigestKey::FromFile(const std::string& path) {
  LIENTHONG_ASSIGN_OR_RETURN(HmacKey hmac,
                             HmacKey::FromFile(path, "audit digest key"));
  return DigestKey(std::move(hmac));
}

DigestKey DigestKey::DerivedFrom(const CitizenKey& citizen_key) {
  // 64 hex digits: always long enough.
  return *FromBytes(citizen_key.Hmac(kDigestKeyLabel));
}

std::string DigestKey::Digest(const google::protobuf::Message& message) const {
  return key_.Hex(message.SerializeAsString());
}

void CitizenKey::FillOfficer(absl::string_view citizen_id,
                             absl::string_view unit_code,
                             absl::string_view account,
                             AuditRecord* record) const {
  record->set_officer_hmac(Hmac(citizen_id));
  record->set_officer_masked(
      citizen_id.empty() ? "" : validation::MaskCitizenId(citizen_id));
  record->set_officer_unit_code(std::string(unit_code));
  record->set_officer_account_hmac(Hmac(account));
}

std::string RecordKeyText(
    const std::vector<std::pair<std::string, std::string>>& sorted_parameters) {
  std::string text;
  for (const auto& [name, value] : sorted_parameters) {
    absl::StrAppend(&text, name, "=", value);
    text.push_back('\0');
  }
  return text;
}

absl::Status GenerateHmacKeyFile(const std::string& path) {
  unsigned char key[32];
  if (RAND_bytes(key, sizeof(key)) != 1) {
    return absl::InternalError("no randomness for the audit HMAC key");
  }
  std::string text =
      ToHex(absl::string_view(reinterpret_cast<const char*>(key), sizeof(key)));
  text.push_back('\n');
  return WriteNewSecretFile(path, text);
}

}  // namespace lienthong::audit
