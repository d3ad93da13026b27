#include "adapters/c06_population/auth.h"

#include <openssl/evp.h>

#include <cstdlib>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace lienthong::adapters::c06 {

std::string SignedBasicAuthorization(absl::string_view auth_url,
                                     absl::string_view user,
                                     absl::string_view timestamp,
                                     absl::string_view secret) {
  const std::string message = absl::StrCat(auth_url, user, timestamp, secret);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  // SHA-256 over memory only fails when OpenSSL itself is broken (a
  // programmer-invariant, not input): there is no header worth sending then.
  if (EVP_Digest(message.data(), message.size(), digest, &digest_length,
                 EVP_sha256(), nullptr) != 1) {
    std::abort();
  }
  const std::string hex = absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), digest_length));
  return absl::StrCat("Basic ",
                      absl::Base64Escape(absl::StrCat(user, ":", hex)));
}

}  // namespace lienthong::adapters::c06
