#include "adapters/vneid_identity/jwk.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "adapters/vneid_identity/json_object.h"
#include "adapters/vneid_identity/jws.h"
#include "adapters/vneid_identity/vneid_wire.pb.h"

namespace lienthong::adapters::vneid {
namespace {

struct Free {
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
template <typename T>
using Owned = std::unique_ptr<T, Free>;

absl::Status Malformed(absl::string_view what) {
  return absl::UnavailableError(
      absl::StrCat("VNeID sent malformed signing keys: ", what));
}

Owned<BIGNUM> ToBignum(absl::string_view bytes) {
  return Owned<BIGNUM>(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                static_cast<int>(bytes.size()), nullptr));
}

// Whether a JWK is meant for RS256 signatures.
bool IsRs256SigningKey(const wire::Jwk& jwk) {
  if (jwk.kty() != "RSA" || jwk.kid().empty()) return false;
  if (!jwk.use().empty() && jwk.use() != "sig") return false;
  if (!jwk.alg().empty() && jwk.alg() != "RS256") return false;
  const auto& ops = jwk.key_ops();
  return ops.empty() ||
         std::find(ops.begin(), ops.end(), "verify") != ops.end();
}

}  // namespace

absl::StatusOr<PublicKey> RsaPublicKeyFromComponents(absl::string_view n,
                                                     absl::string_view e) {
  Owned<BIGNUM> modulus = ToBignum(n);
  Owned<BIGNUM> exponent = ToBignum(e);
  if (modulus == nullptr || exponent == nullptr) {
    return absl::InternalError("cannot read the RSA key components");
  }
  const int bits = BN_num_bits(modulus.get());
  if (bits < 2048 || bits > 8192) {
    return absl::InvalidArgumentError("RSA modulus not 2048..8192 bits");
  }
  if (!BN_is_odd(exponent.get()) || BN_num_bits(exponent.get()) < 2 ||
      BN_num_bits(exponent.get()) > 33) {
    return absl::InvalidArgumentError("RSA exponent not odd in 3..2^32+1");
  }
  Owned<OSSL_PARAM_BLD> builder(OSSL_PARAM_BLD_new());
  if (builder == nullptr ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N,
                             modulus.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E,
                             exponent.get()) != 1) {
    return absl::InternalError("cannot build the RSA key parameters");
  }
  Owned<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(builder.get()));
  Owned<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* key = nullptr;
  if (params == nullptr || ctx == nullptr ||
      EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) !=
          1) {
    ERR_clear_error();
    return absl::InternalError("OpenSSL refused the RSA public key");
  }
  return PublicKey(key, EVP_PKEY_free);
}

absl::StatusOr<KeySet> ParseJwkSet(absl::string_view json) {
  if (json.size() > kMaxJwksBytes) return Malformed("document too large");
  // The shape first (protobuf's parser is lenient about "keys" that is not
  // an array), then the members.
  absl::StatusOr<JsonObject> document = ParseJsonObject(json);
  if (!document.ok()) return Malformed("not a JWK Set");
  auto keys_member = document->fields().find("keys");
  if (keys_member == document->fields().end() ||
      keys_member->second.kind_case() != google::protobuf::Value::kListValue) {
    return Malformed("not a JWK Set");
  }
  wire::JwkSet set;
  if (!ParseJsonInto(json, &set)) return Malformed("not a JWK Set");
  if (set.keys_size() > kMaxJwksKeys) return Malformed("too many keys");
  KeySet keys;
  for (const wire::Jwk& jwk : set.keys()) {
    if (!IsRs256SigningKey(jwk)) continue;
    absl::StatusOr<std::string> n = DecodeBase64Url(jwk.n());
    absl::StatusOr<std::string> e = DecodeBase64Url(jwk.e());
    if (!n.ok() || !e.ok()) continue;
    absl::StatusOr<PublicKey> key = RsaPublicKeyFromComponents(*n, *e);
    if (!key.ok()) continue;
    if (!keys.emplace(jwk.kid(), *std::move(key)).second) {
      return Malformed("two signing keys share a kid");
    }
  }
  return keys;
}

}  // namespace lienthong::adapters::vneid
