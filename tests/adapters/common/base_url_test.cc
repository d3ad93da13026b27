#include "adapters/common/http/base_url.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::adapters {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::testing::HasSubstr;

TEST(CheckBaseUrlTest, Table) {
  const struct {
    const char* url;
    const char* problem;  // empty: none
  } kCases[] = {
      {"https://dichvucong.gov.vn", ""},
      {"https://10.0.0.5:8443/api/v1", ""},
      {"https://[::1]:8443", ""},
      {"http://x", "must start with https://"},
      {"HTTPS://x", "must start with https://"},
      {"https://", "must name a host"},
      {"https:///api", "must name a host"},
      {"https://:8443/api", "must name a host"},
      {"https://h/api#", "no query or fragment"},
      {"https://h/api?key=1", "no query or fragment"},
      {"https://user:pw@h/api", "no user part"},
      {"https://h/a b", "spaces or control characters"},
      {"https://h/a\r\nX: 1", "spaces or control characters"},
  };
  for (const auto& c : kCases) {
    if (*c.problem == '\0') {
      EXPECT_THAT(CheckBaseUrl(c.url), IsOk()) << c.url;
    } else {
      EXPECT_THAT(
          CheckBaseUrl(c.url),
          StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.problem)))
          << c.url;
    }
  }
}

}  // namespace
}  // namespace lienthong::adapters
