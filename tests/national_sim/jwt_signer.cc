#include "tests/national_sim/jwt_signer.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace lienthong::sim {
namespace {

std::string SigningInput(absl::string_view header, absl::string_view payload) {
  return absl::StrCat(Base64Url(header), ".", Base64Url(payload));
}

// A BIGNUM parameter of `key` as big-endian bytes, or "" on failure.
std::string BigEndianParam(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) return "";
  std::string bytes(BN_num_bytes(bn), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
  BN_free(bn);
  return bytes;
}

}  // namespace

std::string Base64Url(absl::string_view bytes) {
  std::string out = absl::WebSafeBase64Escape(bytes);  // no padding
  return out;
}

absl::StatusOr<RsaKey> GenerateRsaKey(int bits) {
  EVP_PKEY* key = EVP_RSA_gen(static_cast<unsigned int>(bits));
  if (key == nullptr) {
    ERR_clear_error();
    return absl::InternalError("cannot generate an RSA key");
  }
  return RsaKey(key, EVP_PKEY_free);
}

absl::StatusOr<std::string> SignRs256(absl::string_view header_json,
                                      absl::string_view payload_json,
                                      EVP_PKEY* key) {
  std::string input = SigningInput(header_json, payload_json);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t length = 0;
  std::vector<unsigned char> signature;
  bool ok = ctx != nullptr &&
            EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestSign(ctx, nullptr, &length,
                           reinterpret_cast<const unsigned char*>(input.data()),
                           input.size()) == 1;
  if (ok) {
    signature.resize(length);
    ok = EVP_DigestSign(ctx, signature.data(), &length,
                        reinterpret_cast<const unsigned char*>(input.data()),
                        input.size()) == 1;
  }
  EVP_MD_CTX_free(ctx);
  if (!ok) {
    ERR_clear_error();
    return absl::InternalError("cannot sign RS256");
  }
  return absl::StrCat(
      input, ".",
      Base64Url(absl::string_view(
          reinterpret_cast<const char*>(signature.data()), length)));
}

std::string SignHs256(absl::string_view header_json,
                      absl::string_view payload_json,
                      absl::string_view secret) {
  std::string input = SigningInput(header_json, payload_json);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
       &mac_length);
  return absl::StrCat(input, ".",
                      Base64Url(absl::string_view(
                          reinterpret_cast<const char*>(mac), mac_length)));
}

std::string Unsigned(absl::string_view header_json,
                     absl::string_view payload_json) {
  return absl::StrCat(SigningInput(header_json, payload_json), ".");
}

absl::StatusOr<std::string> RsaPublicJwk(EVP_PKEY* key, absl::string_view kid) {
  std::string n = BigEndianParam(key, OSSL_PKEY_PARAM_RSA_N);
  std::string e = BigEndianParam(key, OSSL_PKEY_PARAM_RSA_E);
  if (n.empty() || e.empty()) {
    ERR_clear_error();
    return absl::InternalError("cannot export the RSA public key");
  }
  // Key ids here are plain ASCII names: quoted as they are.
  return absl::StrCat("{\"kid\":\"", kid,
                      "\",\"kty\":\"RSA\",\"alg\":\"RS256\",\"use\":\"sig\","
                      "\"n\":\"",
                      Base64Url(n), "\",\"e\":\"", Base64Url(e), "\"}");
}

}  // namespace lienthong::sim
