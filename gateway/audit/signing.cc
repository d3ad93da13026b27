#include "gateway/audit/signing.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gateway/audit/file_util.h"
#include "gateway/audit/record.h"
#include "gateway/status/status_macros.h"

namespace lienthong::audit {
namespace {

constexpr char kCheckpointTag[] = "LTCHECKPOINT2";
constexpr size_t kSignatureSize = 64;

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

std::shared_ptr<EVP_PKEY> Share(EVP_PKEY* key) {
  return std::shared_ptr<EVP_PKEY>(key, PkeyFree());
}

BioPtr MemBio(absl::string_view text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

void PutBigEndian(uint64_t v, int bytes, std::string* out) {
  for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

}  // namespace

PublicKey::PublicKey(std::shared_ptr<EVP_PKEY> key) : key_(std::move(key)) {
  unsigned char raw[32];
  size_t raw_size = sizeof(raw);
  if (EVP_PKEY_get_raw_public_key(key_.get(), raw, &raw_size) == 1) {
    raw_.assign(reinterpret_cast<const char*>(raw), raw_size);
  }
  fingerprint_ = Sha256Hex(raw_);
}

absl::StatusOr<PublicKey> PublicKey::FromPemFile(const std::string& path) {
  LIENTHONG_ASSIGN_OR_RETURN(std::string pem,
                             ReadWholeFile(path, kMaxKeyFileBytes));
  return FromPem(pem);
}

absl::StatusOr<PublicKey> PublicKey::FromPem(absl::string_view pem) {
  BioPtr bio = MemBio(pem);
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  if (key == nullptr) {
    absl::StatusOr<SigningKey> signing = SigningKey::FromPem(pem);
    if (!signing.ok()) {
      return absl::InvalidArgumentError("no Ed25519 key in the PEM text");
    }
    return signing->public_key();
  }
  std::shared_ptr<EVP_PKEY> shared = Share(key);
  if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
    return absl::InvalidArgumentError("the public key is not Ed25519");
  }
  return PublicKey(std::move(shared));
}

absl::StatusOr<PublicKey> PublicKey::FromRaw(absl::string_view raw) {
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr,
      reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
  if (key == nullptr) {
    return absl::InvalidArgumentError("not a raw 32-byte Ed25519 public key");
  }
  return PublicKey(Share(key));
}

std::string PublicKey::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(bio.get(), key_.get());
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

bool PublicKey::Verify(absl::string_view message,
                       absl::string_view signature) const {
  if (signature.size() != kSignatureSize) return false;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  return ctx != nullptr &&
         EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr,
                              key_.get()) == 1 &&
         EVP_DigestVerify(
             ctx.get(),
             reinterpret_cast<const unsigned char*>(signature.data()),
             signature.size(),
             reinterpret_cast<const unsigned char*>(message.data()),
             message.size()) == 1;
}

absl::StatusOr<SigningKey> SigningKey::FromPemFile(const std::string& path) {
  LIENTHONG_ASSIGN_OR_RETURN(std::string pem,
                             ReadWholeFile(path, kMaxKeyFileBytes));
  return FromPem(pem);
}

absl::StatusOr<SigningKey> SigningKey::FromPem(absl::string_view pem) {
  BioPtr bio = MemBio(pem);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (key == nullptr) {
    return absl::InvalidArgumentError("no private key in the PEM text");
  }
  std::shared_ptr<EVP_PKEY> shared = Share(key);
  if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
    return absl::InvalidArgumentError("the signing key is not Ed25519");
  }
  unsigned char raw[32];
  size_t raw_size = sizeof(raw);
  if (EVP_PKEY_get_raw_public_key(key, raw, &raw_size) != 1) {
    return absl::InvalidArgumentError("cannot derive the public key");
  }
  LIENTHONG_ASSIGN_OR_RETURN(PublicKey public_key,
                             PublicKey::FromRaw(absl::string_view(
                                 reinterpret_cast<char*>(raw), raw_size)));
  return SigningKey(std::move(shared), std::move(public_key));
}

absl::StatusOr<std::string> SigningKey::Sign(absl::string_view message) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  std::string signature(kSignatureSize, '\0');
  size_t size = signature.size();
  if (ctx == nullptr ||
      EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) !=
          1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(&signature[0]),
                     &size,
                     reinterpret_cast<const unsigned char*>(message.data()),
                     message.size()) != 1 ||
      size != kSignatureSize) {
    return absl::InternalError("Ed25519 signing failed");
  }
  return signature;
}

absl::Status GenerateSigningKeyFile(const std::string& path) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (key == nullptr) return absl::InternalError("Ed25519 keygen failed");
  std::shared_ptr<EVP_PKEY> shared = Share(key);
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr,
                               nullptr) != 1) {
    return absl::InternalError("cannot encode the Ed25519 key");
  }
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return WriteNewSecretFile(path,
                            absl::string_view(data, static_cast<size_t>(size)));
}

absl::StatusOr<std::string> CheckpointMessage(
    const lienthong::v1::AuditCheckpoint& checkpoint) {
  std::string hash, prev, fingerprint;
  if (checkpoint.hash().size() != 2 * kHashSize ||
      !FromHex(checkpoint.hash(), &hash)) {
    return absl::InvalidArgumentError("checkpoint hash is not 64 hex digits");
  }
  if (checkpoint.prev_checkpoint_hash().size() != 2 * kHashSize ||
      !FromHex(checkpoint.prev_checkpoint_hash(), &prev)) {
    return absl::InvalidArgumentError(
        "checkpoint prev_checkpoint_hash is not 64 hex digits");
  }
  if (checkpoint.public_key_sha256().size() != 2 * kHashSize ||
      !FromHex(checkpoint.public_key_sha256(), &fingerprint)) {
    return absl::InvalidArgumentError(
        "checkpoint public_key_sha256 is not 64 hex digits");
  }
  std::string out(kCheckpointTag, sizeof(kCheckpointTag) - 1);
  PutBigEndian(checkpoint.index(), 8, &out);
  PutBigEndian(checkpoint.first_sequence(), 8, &out);
  PutBigEndian(checkpoint.sequence(), 8, &out);
  out += hash;
  out += prev;
  PutBigEndian(static_cast<uint32_t>(checkpoint.reason()), 4, &out);
  PutBigEndian(checkpoint.checkpoint_every(), 4, &out);
  PutBigEndian(checkpoint.epoch(), 4, &out);
  PutBigEndian(static_cast<uint64_t>(checkpoint.time().seconds()), 8, &out);
  PutBigEndian(static_cast<uint32_t>(checkpoint.time().nanos()), 4, &out);
  PutBigEndian(checkpoint.node().size(), 4, &out);
  out += checkpoint.node();
  out += fingerprint;
  return out;
}

absl::StatusOr<std::string> CheckpointHash(
    const lienthong::v1::AuditCheckpoint& checkpoint) {
  LIENTHONG_ASSIGN_OR_RETURN(std::string message,
                             CheckpointMessage(checkpoint));
  return Sha256Hex(message);
}

absl::StatusOr<lienthong::v1::AuditCheckpoint> SignCheckpoint(
    const SigningKey& key, lienthong::v1::AuditCheckpoint checkpoint) {
  LIENTHONG_RETURN_IF_ERROR(ValidateProtoTime(checkpoint.time()));
  checkpoint.set_public_key_sha256(key.public_key().fingerprint());
  LIENTHONG_ASSIGN_OR_RETURN(std::string message,
                             CheckpointMessage(checkpoint));
  LIENTHONG_ASSIGN_OR_RETURN(std::string signature, key.Sign(message));
  checkpoint.set_signature(ToHex(signature));
  checkpoint.set_checkpoint_hash(Sha256Hex(message));
  return checkpoint;
}

absl::Status VerifyCheckpoint(const lienthong::v1::AuditCheckpoint& checkpoint,
                              const PublicKey& key) {
  if (checkpoint.public_key_sha256() != key.fingerprint()) {
    return absl::InvalidArgumentError(
        absl::StrCat("signed by another key (fingerprint ",
                     checkpoint.public_key_sha256().substr(0, 16), "...)"));
  }
  LIENTHONG_ASSIGN_OR_RETURN(std::string message,
                             CheckpointMessage(checkpoint));
  std::string signature;
  if (!FromHex(checkpoint.signature(), &signature) ||
      !key.Verify(message, signature)) {
    return absl::InvalidArgumentError("the signature is invalid");
  }
  if (checkpoint.checkpoint_hash() != Sha256Hex(message)) {
    return absl::InvalidArgumentError(
        "its stored checkpoint_hash is not the hash of what it signs");
  }
  return absl::OkStatus();
}

absl::Status CheckPin(const PublicKey& key, absl::string_view pin) {
  if (absl::AsciiStrToLower(pin) != key.fingerprint()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the audit signing key's fingerprint is ", key.fingerprint(),
        ", not the pinned ", pin));
  }
  return absl::OkStatus();
}

}  // namespace lienthong::audit
