#include "gateway/validation/vneid_sign_in.h"

#include <functional>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::validation {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::lienthong::v1::VneidSignInRequest;

VneidSignInRequest Valid() {
  VneidSignInRequest r;
  r.set_authorization_code(
      "8f0d3c1e-2b7a-4c55-9d0e-1f2a3b4c5d6e.0a1b2c3d-4e5f.6a7b8c9d");
  r.set_redirect_uri("https://dichvucong.hungyen.gov.vn/vneid/callback");
  r.set_nonce("Zm9vYmFyYmF6cXV4MTIzNDU2");
  return r;
}

TEST(VneidSignInValidationTest, EachFieldHasItsRule) {
  struct Case {
    const char* what;
    std::function<void(VneidSignInRequest&)> change;
    const char* message;  // nullptr: valid
  } const kCases[] = {
      {"valid", [](VneidSignInRequest&) {}, nullptr},
      {"with a PKCE verifier",
       [](VneidSignInRequest& r) {
         r.set_code_verifier(std::string(43, 'a') + "-._~");
       },
       nullptr},
      {"no code", [](VneidSignInRequest& r) { r.clear_authorization_code(); },
       "authorization_code is required"},
      {"code with a space",
       [](VneidSignInRequest& r) { r.set_authorization_code("a b"); },
       "authorization_code must be 1..2048 visible ASCII characters"},
      {"code too long",
       [](VneidSignInRequest& r) {
         r.set_authorization_code(std::string(2049, 'c'));
       },
       "authorization_code must be 1..2048 visible ASCII characters"},
      {"no redirect", [](VneidSignInRequest& r) { r.clear_redirect_uri(); },
       "redirect_uri is required"},
      {"redirect with a newline",
       [](VneidSignInRequest& r) { r.set_redirect_uri("https://a.vn/\ncb"); },
       "redirect_uri must be 1..2048 visible ASCII characters"},
      {"no nonce", [](VneidSignInRequest& r) { r.clear_nonce(); },
       "nonce is required"},
      {"short nonce",
       [](VneidSignInRequest& r) { r.set_nonce("123456789012345"); },
       "nonce must be 16..256 visible ASCII characters"},
      {"nonce with UTF-8",
       [](VneidSignInRequest& r) { r.set_nonce("nonce-đăng-nhập-1234"); },
       "nonce must be 16..256 visible ASCII characters"},
      {"short verifier",
       [](VneidSignInRequest& r) { r.set_code_verifier(std::string(42, 'a')); },
       "code_verifier must be 43..128 characters of A-Z a-z 0-9 - . _ ~"},
      {"verifier with '+'",
       [](VneidSignInRequest& r) {
         r.set_code_verifier(std::string(43, 'a') + "+");
       },
       "code_verifier must be 43..128 characters of A-Z a-z 0-9 - . _ ~"},
  };
  for (const Case& c : kCases) {
    VneidSignInRequest r = Valid();
    c.change(r);
    if (c.message == nullptr) {
      EXPECT_THAT(ValidateVneidSignIn(r), IsOk()) << c.what;
    } else {
      EXPECT_THAT(ValidateVneidSignIn(r),
                  StatusIs(absl::StatusCode::kInvalidArgument, c.message))
          << c.what;
    }
  }
}

}  // namespace
}  // namespace lienthong::validation
