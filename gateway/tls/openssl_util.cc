#include "gateway/tls/openssl_util.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstring>
#include <ctime>
#include <fstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace lienthong::tls {

absl::StatusOr<std::string> ReadPemFile(absl::string_view what,
                                        const std::string& path) {
  if (path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not set"));
  }
  constexpr std::streamoff kMaxBytes = 16 << 20;
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  const std::streamoff size = in ? static_cast<std::streamoff>(in.tellg()) : -1;
  if (size < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read ", what, " '", path, "'"));
  }
  if (size > kMaxBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " '", path, "' is larger than 16 MiB"));
  }
  std::string contents(static_cast<size_t>(size), '\0');
  in.seekg(0);
  in.read(contents.data(), size);
  if (in.gcount() != size) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read ", what, " '", path, "'"));
  }
  return contents;
}

std::unique_ptr<BIO, BioDeleter> MemoryBio(absl::string_view pem) {
  return std::unique_ptr<BIO, BioDeleter>(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

X509Ptr ParseFirstCertificate(absl::string_view pem) {
  auto bio = MemoryBio(pem);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  return cert;
}

std::vector<X509Ptr> ParseCertificates(absl::string_view pem) {
  std::vector<X509Ptr> certs;
  auto bio = MemoryBio(pem);
  // The _AUX reader takes "TRUSTED CERTIFICATE" blocks (openssl x509
  // -trustout) besides plain ones, as gRPC's reading of a CA file does.
  while (X509* cert =
             PEM_read_bio_X509_AUX(bio.get(), nullptr, nullptr, nullptr)) {
    certs.emplace_back(cert);
  }
  // The loop ends on "no start line": not an error for the caller.
  ERR_clear_error();
  return certs;
}

absl::StatusOr<std::string> Sha256Fingerprint(X509* cert) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(cert, EVP_sha256(), digest, &length) != 1) {
    ERR_clear_error();
    return absl::InternalError("cannot hash certificate");
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), length));
}

bool IdentityHasNul(X509* cert) {
  bool nul = false;
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
    const int length = ASN1_STRING_length(uri);
    nul = nul || (length > 0 && std::memchr(ASN1_STRING_get0_data(uri), 0,
                                            length) != nullptr);
  }
  GENERAL_NAMES_free(names);
  X509_NAME* subject = X509_get_subject_name(cert);
  for (int i = -1;
       !nul && subject != nullptr &&
       (i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) >= 0;) {
    unsigned char* utf8 = nullptr;
    const int length = ASN1_STRING_to_UTF8(
        &utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i)));
    nul = length < 0 || (length > 0 && std::memchr(utf8, 0, length) != nullptr);
    OPENSSL_free(utf8);
  }
  return nul;
}

absl::Time Asn1TimeToTime(const ASN1_TIME* time) {
  if (time == nullptr) return absl::InfiniteFuture();
  struct tm parts {};
  if (ASN1_TIME_to_tm(time, &parts) != 1) {
    ERR_clear_error();
    return absl::InfiniteFuture();
  }
  return absl::FromUnixSeconds(timegm(&parts));
}

}  // namespace lienthong::tls
