#include "tests/testing/cert_factory.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <fstream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "tests/testing/test_certs.h"

namespace lienthong::testing {
namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using CrlPtr = std::unique_ptr<X509_CRL, Deleter<X509_CRL, X509_CRL_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(size));
}

std::string KeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  return BioText(bio.get());
}

std::string CertPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  return BioText(bio.get());
}

CertPtr ReadCert(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return CertPtr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

KeyPtr ReadKey(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return KeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

std::string SerialHex(X509* cert) {
  BnPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  char* hex = BN_bn2hex(bn.get());
  std::string result(hex);
  OPENSSL_free(hex);
  return result;
}

bool AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// Adds a subjectAltName of one URI, byte for byte (a NUL in it included,
// which the text form of X509V3_EXT_conf_nid would cut off).
bool AddUriSan(X509* cert, const std::string& uri) {
  GENERAL_NAMES* names = GENERAL_NAMES_new();
  GENERAL_NAME* name = GENERAL_NAME_new();
  ASN1_IA5STRING* value = ASN1_IA5STRING_new();
  bool ok =
      names != nullptr && name != nullptr && value != nullptr &&
      ASN1_STRING_set(value, uri.data(), static_cast<int>(uri.size())) == 1;
  if (ok) {
    GENERAL_NAME_set0_value(name, GEN_URI, value);
    value = nullptr;
    ok = sk_GENERAL_NAME_push(names, name) > 0;
    if (ok) name = nullptr;
  }
  ok = ok && X509_add1_ext_i2d(cert, NID_subject_alt_name, names, 0,
                               X509V3_ADD_DEFAULT) == 1;
  ASN1_IA5STRING_free(value);
  GENERAL_NAME_free(name);
  GENERAL_NAMES_free(names);
  return ok;
}

// A certificate for `key` named `common_name` (none when empty), valid from
// an hour ago for `valid_for`, with a random serial, not yet signed.
CertPtr NewCert(EVP_PKEY* key, const std::string& common_name,
                absl::Duration valid_for) {
  CertPtr cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof(serial));
  serial[0] &= 0x7f;  // positive
  BnPtr bn(BN_bin2bn(serial, sizeof(serial), nullptr));
  BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get()));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()),
                  absl::ToInt64Seconds(valid_for));
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(
      name, "O", MBSTRING_UTF8,
      reinterpret_cast<const unsigned char*>("Lienthong tests"), -1, -1, 0);
  if (!common_name.empty()) {
    X509_NAME_add_entry_by_txt(
        name, "CN", MBSTRING_UTF8,
        reinterpret_cast<const unsigned char*>(common_name.data()),
        static_cast<int>(common_name.size()), -1, 0);
  }
  return cert;
}

// Makes `cert` a CA (basic constraints, key usage, subject key identifier)
// issued by `issuer` (itself for a root) and signs it with `issuer_key`.
bool SignAsCa(X509* cert, X509* issuer, EVP_PKEY* issuer_key) {
  X509_set_issuer_name(cert, X509_get_subject_name(issuer));
  return AddExtension(cert, issuer, NID_basic_constraints,
                      "critical,CA:TRUE") &&
         AddExtension(cert, issuer, NID_key_usage,
                      "critical,keyCertSign,cRLSign") &&
         AddExtension(cert, issuer, NID_subject_key_identifier, "hash") &&
         X509_sign(cert, issuer_key, EVP_sha256()) != 0;
}

}  // namespace

absl::StatusOr<PemPair> DevelopmentCa() {
  PemPair ca;
  ca.cert_pem = ReadFileOrEmpty(TestCert("ca.pem"));
  ca.key_pem = ReadFileOrEmpty(TestCert("ca.key"));
  CertPtr cert = ReadCert(ca.cert_pem);
  if (cert == nullptr || ReadKey(ca.key_pem) == nullptr) {
    return absl::NotFoundError("no development CA in " + TestCertDir());
  }
  ca.serial_hex = SerialHex(cert.get());
  return ca;
}

absl::StatusOr<PemPair> MakeCa(const std::string& common_name) {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (key == nullptr) return absl::InternalError("cannot make a key");
  CertPtr cert = NewCert(key.get(), common_name, absl::Hours(24 * 30));
  if (!SignAsCa(cert.get(), cert.get(), key.get())) {
    return absl::InternalError("cannot make a CA certificate");
  }
  return PemPair{CertPem(cert.get()), KeyPem(key.get()), SerialHex(cert.get())};
}

absl::StatusOr<PemPair> MakeIntermediateCa(const PemPair& issuer,
                                           const std::string& common_name) {
  CertPtr issuer_cert = ReadCert(issuer.cert_pem);
  KeyPtr issuer_key = ReadKey(issuer.key_pem);
  KeyPtr key(EVP_EC_gen("P-256"));
  if (issuer_cert == nullptr || issuer_key == nullptr || key == nullptr) {
    return absl::InternalError("cannot read the issuer or make a key");
  }
  CertPtr cert = NewCert(key.get(), common_name, absl::Hours(24 * 30));
  if (!SignAsCa(cert.get(), issuer_cert.get(), issuer_key.get())) {
    return absl::InternalError("cannot make an intermediate CA certificate");
  }
  return PemPair{CertPem(cert.get()), KeyPem(key.get()), SerialHex(cert.get())};
}

absl::StatusOr<PemPair> MakeClientCert(const PemPair& ca,
                                       const ClientCertOptions& options) {
  CertPtr ca_cert = ReadCert(ca.cert_pem);
  KeyPtr ca_key = ReadKey(ca.key_pem);
  KeyPtr key(EVP_EC_gen("P-256"));
  if (ca_cert == nullptr || ca_key == nullptr || key == nullptr) {
    return absl::InternalError("cannot read the CA or make a key");
  }
  CertPtr cert = NewCert(key.get(), options.common_name, options.valid_for);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert.get()));
  bool ok = AddExtension(cert.get(), ca_cert.get(), NID_basic_constraints,
                         "critical,CA:FALSE") &&
            AddExtension(cert.get(), ca_cert.get(), NID_key_usage,
                         "critical,digitalSignature") &&
            AddExtension(cert.get(), ca_cert.get(), NID_ext_key_usage,
                         "clientAuth");
  if (ok && !options.uri.empty()) {
    ok = AddUriSan(cert.get(), options.uri);
  }
  if (!ok || X509_sign(cert.get(), ca_key.get(), EVP_sha256()) == 0) {
    return absl::InternalError("cannot make a client certificate");
  }
  return PemPair{CertPem(cert.get()), KeyPem(key.get()), SerialHex(cert.get())};
}

absl::StatusOr<std::string> MakeCrl(
    const PemPair& ca, const std::vector<std::string>& revoked_serials_hex,
    absl::Duration valid_for) {
  CertPtr ca_cert = ReadCert(ca.cert_pem);
  KeyPtr ca_key = ReadKey(ca.key_pem);
  if (ca_cert == nullptr || ca_key == nullptr) {
    return absl::InternalError("cannot read the CA");
  }
  CrlPtr crl(X509_CRL_new());
  X509_CRL_set_version(crl.get(), 1);
  X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca_cert.get()));
  using TimePtr = std::unique_ptr<ASN1_TIME, Deleter<ASN1_TIME, ASN1_TIME_free>>;
  TimePtr last(X509_gmtime_adj(nullptr, -60));
  TimePtr next(X509_gmtime_adj(nullptr, absl::ToInt64Seconds(valid_for)));
  X509_CRL_set1_lastUpdate(crl.get(), last.get());
  X509_CRL_set1_nextUpdate(crl.get(), next.get());
  for (const std::string& hex : revoked_serials_hex) {
    BIGNUM* raw = nullptr;
    if (BN_hex2bn(&raw, hex.c_str()) == 0) {
      return absl::InvalidArgumentError("bad serial " + hex);
    }
    BnPtr bn(raw);
    X509_REVOKED* entry = X509_REVOKED_new();
    ASN1_INTEGER* serial = BN_to_ASN1_INTEGER(bn.get(), nullptr);
    X509_REVOKED_set_serialNumber(entry, serial);
    ASN1_INTEGER_free(serial);
    X509_REVOKED_set_revocationDate(entry, last.get());
    X509_CRL_add0_revoked(crl.get(), entry);
  }
  X509_CRL_sort(crl.get());
  if (X509_CRL_sign(crl.get(), ca_key.get(), EVP_sha256()) == 0) {
    return absl::InternalError("cannot sign the CRL");
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_CRL(bio.get(), crl.get());
  return BioText(bio.get());
}

bool ReplaceFile(const std::string& path, const std::string& contents) {
  const std::string staged = path + ".staged";
  {
    std::ofstream out(staged, std::ios::binary | std::ios::trunc);
    out << contents;
    if (!out.flush()) return false;
  }
  return std::rename(staged.c_str(), path.c_str()) == 0;
}

}  // namespace lienthong::testing
