#include "adapters/vneid_identity/jws.h"

#include <openssl/err.h>

#include <memory>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "adapters/vneid_identity/json_object.h"

namespace lienthong::adapters::vneid {
namespace {

absl::Status Malformed(absl::string_view what) {
  return absl::UnavailableError(
      absl::StrCat("VNeID sent a malformed id token: ", what));
}

bool IsBase64UrlChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_';
}

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

}  // namespace

absl::StatusOr<std::string> DecodeBase64Url(absl::string_view text) {
  for (char c : text) {
    if (!IsBase64UrlChar(c)) {
      return absl::InvalidArgumentError("not base64url without padding");
    }
  }
  // Four characters carry three bytes; one left over carries none.
  if (text.size() % 4 == 1) {
    return absl::InvalidArgumentError("not base64url without padding");
  }
  std::string bytes;
  if (!absl::WebSafeBase64Unescape(text, &bytes)) {
    return absl::InvalidArgumentError("not base64url without padding");
  }
  return bytes;
}

absl::StatusOr<Jws> ParseJwsCompact(absl::string_view token) {
  if (token.size() > kMaxIdTokenBytes) return Malformed("too long");
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3) return Malformed("not three dot-separated parts");
  if (parts[0].empty() || parts[1].empty()) return Malformed("empty part");

  Jws jws;
  absl::StatusOr<std::string> header_json = DecodeBase64Url(parts[0]);
  if (!header_json.ok()) return Malformed("header is not base64url");
  absl::StatusOr<std::string> payload = DecodeBase64Url(parts[1]);
  if (!payload.ok()) return Malformed("payload is not base64url");
  absl::StatusOr<std::string> signature = DecodeBase64Url(parts[2]);
  if (!signature.ok()) return Malformed("signature is not base64url");

  absl::StatusOr<JsonObject> header = ParseJsonObject(*header_json);
  if (!header.ok()) return Malformed("header is not a JSON object");
  absl::StatusOr<std::optional<std::string>> alg = StringMember(*header, "alg");
  if (!alg.ok() || !alg->has_value()) return Malformed("header without alg");
  absl::StatusOr<std::optional<std::string>> kid = StringMember(*header, "kid");
  if (!kid.ok()) return Malformed("kid is not a string");
  if (header->fields().count("crit") > 0) {
    return Malformed("header names critical extensions");
  }

  jws.signing_input =
      std::string(token.substr(0, parts[0].size() + 1 + parts[1].size()));
  jws.alg = **alg;
  jws.kid = kid->value_or("");
  jws.payload = *std::move(payload);
  jws.signature = *std::move(signature);
  return jws;
}

absl::Status VerifyRs256(const Jws& jws, EVP_PKEY* key) {
  // The algorithm is fixed here, never taken from the token: "none" and
  // HS256 (a MAC keyed with whatever the verifier holds) are the classic
  // ways to make a verifier accept a token nobody signed.
  if (jws.alg != "RS256") {
    return absl::UnauthenticatedError("id token alg must be RS256");
  }
  const absl::Status invalid =
      absl::UnauthenticatedError("id token signature invalid");
  if (key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
    return invalid;
  }
  // PKCS#1 v1.5 signatures are exactly as long as the modulus.
  if (static_cast<int>(jws.signature.size()) != EVP_PKEY_get_size(key)) {
    return invalid;
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  if (ctx == nullptr || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(),
                                             nullptr, key) != 1) {
    return absl::InternalError("cannot set up RS256 verification");
  }
  // RSA keys default to PKCS#1 v1.5 padding, which RS256 is.
  int verified = EVP_DigestVerify(
      ctx.get(), reinterpret_cast<const unsigned char*>(jws.signature.data()),
      jws.signature.size(),
      reinterpret_cast<const unsigned char*>(jws.signing_input.data()),
      jws.signing_input.size());
  if (verified == 1) return absl::OkStatus();
  // Leave nothing on this thread's error queue for the next TLS user.
  ERR_clear_error();
  return invalid;
}

}  // namespace lienthong::adapters::vneid
