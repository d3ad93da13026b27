#include "adapters/c06_population/auth.h"

#include "gtest/gtest.h"

namespace lienthong::adapters::c06 {
namespace {

struct AuthCase {
  const char* auth_url;
  const char* user;
  const char* timestamp;
  const char* secret;
  const char* header;
};

// Expected values computed independently with coreutils:
//   H=$(printf '%s' "$auth_url$user$timestamp$secret" | sha256sum | cut -d' '
//   -f1) printf '%s' "$user:$H" | base64 -w0
constexpr AuthCase kCases[] = {
    // The simulator's development values, timestamp in milliseconds.
    // H = 55c39f83c0d43b2a86a449f2ed671feba1747e0e608307d531d804ee2d69a424
    {"https://c06.sim.lienthong.local/xacthuc", "lienthong-dev",
     "1764201600123", "dev-population-secret",
     "Basic bGllbnRob25nLWRldjo1NWMzOWY4M2MwZDQzYjJhODZhNDQ5ZjJlZDY3MWZlYmEx"
     "NzQ3ZTBlNjA4MzA3ZDUzMWQ4MDRlZTJkNjlhNDI0"},
    // H = 7d0ce05f52ea3c8010cde45f0d9f67c04488fde3a7776b30df375e7c6dede08d
    {"https://127.0.0.1:9443/c06/soap", "lienthong", "1764201600", "s3cr3t",
     "Basic bGllbnRob25nOjdkMGNlMDVmNTJlYTNjODAxMGNkZTQ1ZjBkOWY2N2MwNDQ4OGZkZT"
     "NhNzc3NmIzMGRmMzc1ZTdjNmRlZGUwOGQ="},
    // H = 075fc288b1dbe6346f89c5de3ff223eb244c5bbb6518c73cad00e762a77cfab1
    {"https://sim.example:8443/c06/soap", "donvi.h31@hy", "1700000000",
     "p&ss:w0rd",
     "Basic ZG9udmkuaDMxQGh5OjA3NWZjMjg4YjFkYmU2MzQ2Zjg5YzVkZTNmZjIyM2ViMjQ0Yz"
     "ViYmI2NTE4YzczY2FkMDBlNzYyYTc3Y2ZhYjE="},
    // All empty: H = sha256("") = e3b0c442...b855.
    {"", "", "", "",
     "Basic OmUzYjBjNDQyOThmYzFjMTQ5YWZiZjRjODk5NmZiOTI0MjdhZTQxZTQ2NDliOTM0Y2"
     "E0OTU5OTFiNzg1MmI4NTU="},
};

TEST(SignedBasicAuthorizationTest, MatchesIndependentComputation) {
  for (const AuthCase& c : kCases) {
    EXPECT_EQ(
        SignedBasicAuthorization(c.auth_url, c.user, c.timestamp, c.secret),
        c.header)
        << c.auth_url << " " << c.user;
  }
}

TEST(SignedBasicAuthorizationTest, EveryInputIsSigned) {
  const std::string base =
      SignedBasicAuthorization("https://h/p", "u", "1", "s");
  EXPECT_NE(base, SignedBasicAuthorization("https://h/q", "u", "1", "s"));
  EXPECT_NE(base, SignedBasicAuthorization("https://h/p", "v", "1", "s"));
  EXPECT_NE(base, SignedBasicAuthorization("https://h/p", "u", "2", "s"));
  EXPECT_NE(base, SignedBasicAuthorization("https://h/p", "u", "1", "t"));
}

}  // namespace
}  // namespace lienthong::adapters::c06
