#include "gateway/tls/openssl_util.h"

#include <openssl/err.h>
#include <openssl/pem.h>

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
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
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
