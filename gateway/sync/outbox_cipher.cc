#include "gateway/sync/outbox_cipher.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace lienthong::sync {
namespace {

constexpr unsigned char kVersion = 0x01;
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using Ctx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

absl::StatusOr<OutboxCipher> OutboxCipher::Create(absl::string_view key) {
  if (key.size() != kKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the outbox key must be ", kKeyBytes,
                     " bytes; this one has ", key.size()));
  }
  return OutboxCipher(std::string(key));
}

OutboxCipher::OutboxCipher(OutboxCipher&& other) noexcept
    : key_(std::move(other.key_)) {
  other.key_.clear();
}

OutboxCipher& OutboxCipher::operator=(OutboxCipher&& other) noexcept {
  if (this != &other) {
    OPENSSL_cleanse(key_.data(), key_.size());
    key_ = std::move(other.key_);
    other.key_.clear();
  }
  return *this;
}

OutboxCipher::~OutboxCipher() { OPENSSL_cleanse(key_.data(), key_.size()); }

absl::StatusOr<std::string> OutboxCipher::Seal(
    absl::string_view plaintext, absl::string_view associated_data) const {
  std::string sealed(1 + kNonceBytes + plaintext.size() + kTagBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(sealed.data());
  out[0] = kVersion;
  unsigned char* nonce = out + 1;
  unsigned char* body = nonce + kNonceBytes;
  if (RAND_bytes(nonce, kNonceBytes) != 1) {
    return absl::InternalError("outbox cipher: no random nonce");
  }
  Ctx ctx(EVP_CIPHER_CTX_new());
  int n = 0;
  if (ctx == nullptr ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key_),
                         nonce) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &n, Bytes(associated_data),
                        static_cast<int>(associated_data.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), body, &n, Bytes(plaintext),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), body + n, &n) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes,
                          body + plaintext.size()) != 1) {
    return absl::InternalError("outbox cipher: encryption failed");
  }
  return sealed;
}

std::string OutboxCipher::Digest(absl::string_view data) const {
  // A key of its own for digests: HMAC of a label under the cipher key.
  static constexpr absl::string_view kLabel = "lienthong outbox digest key";
  unsigned char digest_key[EVP_MAX_MD_SIZE];
  unsigned int digest_key_size = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       Bytes(kLabel), kLabel.size(), digest_key, &digest_key_size);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  HMAC(EVP_sha256(), digest_key, static_cast<int>(digest_key_size),
       Bytes(data), data.size(), mac, &mac_size);
  OPENSSL_cleanse(digest_key, sizeof(digest_key));
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(mac), mac_size));
}

absl::StatusOr<std::string> OutboxCipher::Open(
    absl::string_view sealed, absl::string_view associated_data) const {
  const absl::Status bad = absl::DataLossError(
      "the stored record failed its integrity check (tampered with, or "
      "sealed under another outbox key)");
  if (sealed.size() < 1 + kNonceBytes + kTagBytes ||
      static_cast<unsigned char>(sealed[0]) != kVersion) {
    return bad;
  }
  const unsigned char* nonce = Bytes(sealed) + 1;
  const unsigned char* body = nonce + kNonceBytes;
  const size_t body_size = sealed.size() - 1 - kNonceBytes - kTagBytes;
  // The tag is read from a copy: OpenSSL's API takes a non-const pointer.
  unsigned char tag[kTagBytes];
  std::copy(body + body_size, body + body_size + kTagBytes, tag);
  std::string plaintext(body_size, '\0');
  auto* out = reinterpret_cast<unsigned char*>(plaintext.data());
  Ctx ctx(EVP_CIPHER_CTX_new());
  int n = 0;
  if (ctx == nullptr ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key_),
                         nonce) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &n, Bytes(associated_data),
                        static_cast<int>(associated_data.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), out, &n, body,
                        static_cast<int>(body_size)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag) !=
          1 ||
      EVP_DecryptFinal_ex(ctx.get(), out + n, &n) != 1) {
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    return bad;
  }
  return plaintext;
}

absl::StatusOr<std::string> OutboxCipher::SealKeyCheck(
    absl::string_view place) const {
  // Any text would do (GCM authenticates it); the outbox's stores hold
  // this one.
  return Seal("lienthong outbox key check", place);
}

bool OutboxCipher::KeyCheckOpens(absl::string_view sealed,
                                 absl::string_view place) const {
  return Open(sealed, place).ok();
}

}  // namespace lienthong::sync
