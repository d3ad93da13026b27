// WriteSelfSignedCert: a throwaway TLS certificate for tests and demos of
// the simulator, made with OpenSSL's C API (no openssl binary needed).
#ifndef LIENTHONG_TESTS_NATIONAL_SIM_SELF_SIGNED_CERT_H_
#define LIENTHONG_TESTS_NATIONAL_SIM_SELF_SIGNED_CERT_H_

#include <string>

#include "absl/status/statusor.h"

namespace lienthong::sim {

struct CertFiles {
  std::string cert_file;  // PEM certificate; also the CA file for clients
  std::string key_file;   // PEM private key
};

// Writes a fresh self-signed certificate (EC P-256, valid one day, CA:TRUE,
// subjectAltName IP:127.0.0.1 and DNS:localhost) and its unencrypted key as
// `dir`/sim-cert.pem and `dir`/sim-key.pem. Fails with INTERNAL when OpenSSL
// does, UNAVAILABLE when a file cannot be written. Thread-safe.
absl::StatusOr<CertFiles> WriteSelfSignedCert(const std::string& dir);

}  // namespace lienthong::sim

#endif  // LIENTHONG_TESTS_NATIONAL_SIM_SELF_SIGNED_CERT_H_
