#include "tests/national_sim/self_signed_cert.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace lienthong::sim {
namespace {

struct Deleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
  void operator()(FILE* p) const { std::fclose(p); }
};
template <typename T>
using Owned = std::unique_ptr<T, Deleter>;

bool AddExtension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  Owned<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  return ext != nullptr && X509_add_ext(cert, ext.get(), -1) == 1;
}

}  // namespace

absl::StatusOr<CertFiles> WriteSelfSignedCert(const std::string& dir) {
  Owned<EVP_PKEY> key(EVP_EC_gen("P-256"));
  Owned<X509> cert(X509_new());
  if (!key || !cert) return absl::InternalError("cannot make a key");
  unsigned char serial[8];
  RAND_bytes(serial, sizeof(serial));
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_set_version(cert.get(), 2);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(
      name, "CN", MBSTRING_ASC,
      reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key.get());
  if (!AddExtension(cert.get(), NID_basic_constraints, "critical,CA:TRUE") ||
      !AddExtension(cert.get(), NID_key_usage,
                    "critical,digitalSignature,keyCertSign") ||
      !AddExtension(cert.get(), NID_subject_alt_name,
                    "IP:127.0.0.1,DNS:localhost") ||
      X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    return absl::InternalError("cannot sign the certificate");
  }
  CertFiles files{absl::StrCat(dir, "/sim-cert.pem"),
                  absl::StrCat(dir, "/sim-key.pem")};
  Owned<FILE> cert_out(std::fopen(files.cert_file.c_str(), "w"));
  // The key is readable by its owner only.
  Owned<FILE> key_out(fdopen(
      open(files.key_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600), "w"));
  if (!cert_out || !key_out || !PEM_write_X509(cert_out.get(), cert.get()) ||
      !PEM_write_PrivateKey(key_out.get(), key.get(), nullptr, nullptr, 0,
                            nullptr, nullptr)) {
    return absl::UnavailableError(
        absl::StrCat("cannot write PEM files in ", dir));
  }
  return files;
}

}  // namespace lienthong::sim
