// Certificates and revocation lists made in the test itself, signed by the
// development CA (TestCert("ca.pem"/"ca.key")) or a CA of the test's own:
// client certificates for identities the config does not list, without a
// SAN URI, or to revoke, and CRLs that revoke them.
//
//   auto ca = DevelopmentCa();
//   ClientCertOptions options;
//   options.uri = "spiffe://lienthong.local/x";
//   auto cert = MakeClientCert(*ca, options);
//   auto crl = MakeCrl(*ca, {cert->serial_hex});
#ifndef LIENTHONG_TESTS_TESTING_CERT_FACTORY_H_
#define LIENTHONG_TESTS_TESTING_CERT_FACTORY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace lienthong::testing {

struct PemPair {
  std::string cert_pem;
  std::string key_pem;
  // The certificate's serial number, upper-case hex (for MakeCrl).
  std::string serial_hex;
};

// Returns the development CA from TestCert("ca.pem") and ("ca.key"), or
// NOT_FOUND.
absl::StatusOr<PemPair> DevelopmentCa();

// Returns a new self-signed CA (ECDSA P-256) named `common_name`.
absl::StatusOr<PemPair> MakeCa(const std::string& common_name);

// Returns a new CA (ECDSA P-256) named `common_name`, signed by `issuer`.
absl::StatusOr<PemPair> MakeIntermediateCa(const PemPair& issuer,
                                           const std::string& common_name);

struct ClientCertOptions {
  // SAN URI; empty: none.
  std::string uri;
  // Subject CN; empty: none.
  std::string common_name = "test-client";
  absl::Duration valid_for = absl::Hours(24);
};

// Returns a client certificate (ECDSA P-256 key, clientAuth) signed by `ca`,
// or INTERNAL when OpenSSL fails.
absl::StatusOr<PemPair> MakeClientCert(const PemPair& ca,
                                       const ClientCertOptions& options);

// Returns a PEM CRL of `ca` listing `revoked_serials_hex`, valid from now
// for `valid_for` (a negative duration makes one past its nextUpdate), or
// INTERNAL.
absl::StatusOr<std::string> MakeCrl(
    const PemPair& ca, const std::vector<std::string>& revoked_serials_hex,
    absl::Duration valid_for = absl::Hours(24));

// Writes `contents` to `path` by writing a temporary file beside it and
// renaming it over `path` (as an operator's deployment tool would); returns
// false on failure.
bool ReplaceFile(const std::string& path, const std::string& contents);

}  // namespace lienthong::testing

#endif  // LIENTHONG_TESTS_TESTING_CERT_FACTORY_H_
