#include "adapters/vneid_identity/jwk.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "adapters/vneid_identity/jws.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/national_sim/jwt_signer.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::adapters::vneid {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// The value of member `name` in a flat JSON object of strings.
std::string Member(const std::string& json, const std::string& name) {
  const std::string key = absl::StrCat("\"", name, "\":\"");
  size_t start = json.find(key);
  if (start == std::string::npos) return "";
  start += key.size();
  return json.substr(start, json.find('"', start) - start);
}

class JwkTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    key_ = new sim::RsaKey(*sim::GenerateRsaKey(2048));
    weak_ = new sim::RsaKey(*sim::GenerateRsaKey(1024));
    jwk_ = new std::string(*sim::RsaPublicJwk(key_->get(), "k1"));
  }
  static void TearDownTestSuite() {
    delete key_;
    delete weak_;
    delete jwk_;
  }
  // A JWK for the test key with `extra` members (and kid `kid`).
  static std::string Jwk(const std::string& kid, const std::string& extra,
                         const std::string& n = "", const std::string& e = "") {
    return absl::StrCat("{\"kid\":\"", kid, "\",\"n\":\"",
                        n.empty() ? Member(*jwk_, "n") : n, "\",\"e\":\"",
                        e.empty() ? Member(*jwk_, "e") : e, "\"", extra, "}");
  }
  static std::string Set(const std::vector<std::string>& keys) {
    return absl::StrCat("{\"keys\":[", absl::StrJoin(keys, ","), "]}");
  }
  static std::vector<std::string> Kids(const KeySet& keys) {
    std::vector<std::string> kids;
    for (const auto& [kid, key] : keys) kids.push_back(kid);
    return kids;
  }
  static sim::RsaKey* key_;
  static sim::RsaKey* weak_;
  static std::string* jwk_;
};
sim::RsaKey* JwkTest::key_ = nullptr;
sim::RsaKey* JwkTest::weak_ = nullptr;
std::string* JwkTest::jwk_ = nullptr;

TEST_F(JwkTest, APublishedKeyVerifiesTheSignersTokens) {
  absl::StatusOr<KeySet> keys = ParseJwkSet(Set({*jwk_}));
  ASSERT_THAT(keys, IsOk());
  ASSERT_EQ(keys->count("k1"), 1u);
  std::string token = *sim::SignRs256(R"({"alg":"RS256","kid":"k1"})",
                                      R"({"sub":"x"})", key_->get());
  absl::StatusOr<Jws> jws = ParseJwsCompact(token);
  ASSERT_THAT(jws, IsOk());
  EXPECT_THAT(VerifyRs256(*jws, keys->at("k1").get()), IsOk());
}

TEST_F(JwkTest, OnlyRs256SigningKeysAreKept) {
  const std::string weak_jwk = *sim::RsaPublicJwk(weak_->get(), "weak");
  struct Case {
    const char* what;
    std::string jwk;
    bool kept;
  } const kCases[] = {
      {"kty RSA, nothing else said", Jwk("a", ",\"kty\":\"RSA\""), true},
      {"use sig, alg RS256",
       Jwk("a", ",\"kty\":\"RSA\",\"use\":\"sig\",\"alg\":\"RS256\""), true},
      {"key_ops verify", Jwk("a", ",\"kty\":\"RSA\",\"key_ops\":[\"verify\"]"),
       true},
      {"unknown members such as x5c",
       Jwk("a", ",\"kty\":\"RSA\",\"x5c\":[\"MIIB\"],\"x5t\":\"abc\""), true},
      {"encryption key (Keycloak's RSA-OAEP)",
       Jwk("a", ",\"kty\":\"RSA\",\"use\":\"enc\",\"alg\":\"RSA-OAEP\""),
       false},
      {"another alg", Jwk("a", ",\"kty\":\"RSA\",\"alg\":\"RS512\""), false},
      {"key_ops without verify",
       Jwk("a", ",\"kty\":\"RSA\",\"key_ops\":[\"encrypt\"]"), false},
      {"EC key", R"({"kid":"a","kty":"EC","crv":"P-256","x":"AA","y":"AA"})",
       false},
      {"no kid", Jwk("", ",\"kty\":\"RSA\""), false},
      {"n not base64url", Jwk("a", ",\"kty\":\"RSA\"", "AB+C"), false},
      {"1024-bit modulus", weak_jwk, false},
      {"even exponent", Jwk("a", ",\"kty\":\"RSA\"", "", "AQAA"), false},
      {"exponent 1", Jwk("a", ",\"kty\":\"RSA\"", "", "AQ"), false},
  };
  for (const Case& c : kCases) {
    absl::StatusOr<KeySet> keys = ParseJwkSet(Set({c.jwk}));
    ASSERT_THAT(keys, IsOk()) << c.what;
    EXPECT_EQ(keys->size(), c.kept ? 1u : 0u) << c.what;
  }
}

TEST_F(JwkTest, SeveralKeysAreFoundByKid) {
  const std::string weak_jwk = *sim::RsaPublicJwk(weak_->get(), "weak");
  absl::StatusOr<KeySet> keys =
      ParseJwkSet(Set({Jwk("old", ",\"kty\":\"RSA\""), weak_jwk,
                       Jwk("enc", ",\"kty\":\"RSA\",\"use\":\"enc\""),
                       Jwk("new", ",\"kty\":\"RSA\"")}));
  ASSERT_THAT(keys, IsOk());
  EXPECT_THAT(Kids(*keys), ElementsAre("new", "old"));
}

TEST_F(JwkTest, MalformedSetsAreRefused) {
  std::vector<std::string> many;
  for (int i = 0; i <= kMaxJwksKeys; ++i) {
    many.push_back(R"({"kid":"x","kty":"oct"})");
  }
  struct Case {
    const char* what;
    std::string json;
    const char* message;
  } const kCases[] = {
      {"not JSON", "<html>", "not a JWK Set"},
      {"empty", "", "not a JWK Set"},
      {"keys not an array", R"({"keys":{}})", "not a JWK Set"},
      {"n a number", R"({"keys":[{"kty":"RSA","kid":"a","n":1,"e":"AQAB"}]})",
       "not a JWK Set"},
      {"too many keys", Set(many), "too many keys"},
      {"two keys with one kid",
       Set({Jwk("same", ",\"kty\":\"RSA\""), Jwk("same", ",\"kty\":\"RSA\"")}),
       "two signing keys share a kid"},
      {"too large", std::string(kMaxJwksBytes + 1, ' '), "document too large"},
  };
  for (const Case& c : kCases) {
    EXPECT_THAT(ParseJwkSet(c.json),
                StatusIs(absl::StatusCode::kUnavailable,
                         absl::StrCat("VNeID sent malformed signing keys: ",
                                      c.message)))
        << c.what;
  }
  // A set with no usable key is not malformed: no token will verify.
  absl::StatusOr<KeySet> none = ParseJwkSet(R"({"keys":[]})");
  ASSERT_THAT(none, IsOk());
  EXPECT_THAT(*none, IsEmpty());
}

}  // namespace
}  // namespace lienthong::adapters::vneid
