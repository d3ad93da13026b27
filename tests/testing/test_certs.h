// Where tests find the development certificates that certs/make-dev-certs.sh
// makes into the build tree (target lienthong_test_certs), and a reader for
// small files such as those certificates and their keys.
//
//   grpc::SslCredentialsOptions ssl;
//   ssl.pem_root_certs = ReadFileOrEmpty(TestCert("ca.pem"));
//
// The set: ca.pem/key; gateway.pem/key and sim.pem/key (server, SAN
// DNS:localhost and IP:127.0.0.1); client certificates dossier-system,
// citizen-portal, auditor and no-rights (CN the name, SAN
// URI:spiffe://lienthong.local/<name>); rogue-ca.pem and rogue-client.pem/key,
// signed by an unrelated CA.
#ifndef LIENTHONG_TESTS_TESTING_TEST_CERTS_H_
#define LIENTHONG_TESTS_TESTING_TEST_CERTS_H_

#include <string>

namespace lienthong::testing {

// Returns the folder holding the test certificates,
// $LIENTHONG_BINARY_DIR/test-certs (lienthong_cc_test sets the variable;
// without it, ./test-certs).
std::string TestCertDir();

// Returns the path of the test certificate or key `file_name` (e.g.
// "ca.pem", "dossier-system.key") in TestCertDir(); the file is not checked.
std::string TestCert(const std::string& file_name);

// Returns the whole contents of the file at `path`, or "" when it cannot be
// read.
std::string ReadFileOrEmpty(const std::string& path);

}  // namespace lienthong::testing

#endif  // LIENTHONG_TESTS_TESTING_TEST_CERTS_H_
