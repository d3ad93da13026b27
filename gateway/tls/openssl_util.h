// Small OpenSSL helpers shared by the TLS code: owning pointers, reading a
// PEM file, parsing every certificate of a PEM bundle, certificate
// fingerprints, and ASN.1 times as absl::Time.
#ifndef LIENTHONG_GATEWAY_TLS_OPENSSL_UTIL_H_
#define LIENTHONG_GATEWAY_TLS_OPENSSL_UTIL_H_

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace lienthong::tls {

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct X509CrlDeleter {
  void operator()(X509_CRL* c) const { X509_CRL_free(c); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;

// Returns the contents of the file at `path` (at most 16 MiB), or
// INVALID_ARGUMENT "cannot read <what> '<path>'" (also when `path` is
// empty: "<what> is not set"). Thread-safe.
absl::StatusOr<std::string> ReadPemFile(absl::string_view what,
                                        const std::string& path);

// Returns a read-only memory BIO over `pem` (which must outlive it).
std::unique_ptr<BIO, BioDeleter> MemoryBio(absl::string_view pem);

// Returns the first certificate in `pem`, or null. Thread-safe.
X509Ptr ParseFirstCertificate(absl::string_view pem);

// Returns every certificate in `pem` in order, "TRUSTED CERTIFICATE" blocks
// included (empty when there is none).
// Thread-safe.
std::vector<X509Ptr> ParseCertificates(absl::string_view pem);

// Returns the lower-case hex SHA-256 of `cert`'s DER encoding, or INTERNAL.
// Thread-safe.
absl::StatusOr<std::string> Sha256Fingerprint(X509* cert);

// True when one of `cert`'s SAN URIs or subject CNs holds a NUL byte (or a
// CN cannot be read as UTF-8). gRPC gives a handshake's verifier these names
// as C strings, cut at the first NUL, and a call's auth context whole: such
// a certificate would be admitted as one identity and call as another.
// Thread-safe.
bool IdentityHasNul(X509* cert);

// Returns `time` (a certificate's or CRL's) as absl::Time; InfiniteFuture()
// when it is null or unreadable. Thread-safe.
absl::Time Asn1TimeToTime(const ASN1_TIME* time);

}  // namespace lienthong::tls

#endif  // LIENTHONG_GATEWAY_TLS_OPENSSL_UTIL_H_
