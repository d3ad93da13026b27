// The population database's signed Basic authorization header (see
// docs/wire-formats.md, "Population database").
#ifndef LIENTHONG_ADAPTERS_C06_POPULATION_AUTH_H_
#define LIENTHONG_ADAPTERS_C06_POPULATION_AUTH_H_

#include <string>

#include "absl/strings/string_view.h"

namespace lienthong::adapters::c06 {

// Returns the Authorization header value
//   "Basic " + base64(user + ":" + hex(sha256(auth_url + user + timestamp +
//   secret)))
// with lower-case hex and padded standard base64. `auth_url` is the string
// the data-exchange platform gave for the hash (config `auth_url`: not
// necessarily the URL called); `timestamp` the Unix time in milliseconds in
// decimal, exactly as in the Timestamp header. Thread-safe.
// REQUIRES: `user` contains no ':'.
std::string SignedBasicAuthorization(absl::string_view auth_url,
                                     absl::string_view user,
                                     absl::string_view timestamp,
                                     absl::string_view secret);

}  // namespace lienthong::adapters::c06

#endif  // LIENTHONG_ADAPTERS_C06_POPULATION_AUTH_H_
