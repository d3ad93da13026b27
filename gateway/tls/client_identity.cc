#include "gateway/tls/client_identity.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <mutex>
#include <set>
#include <unordered_map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gateway/status/status_macros.h"
#include "gateway/tls/handshake_verifier.h"
#include "gateway/tls/openssl_util.h"
#include "grpc/grpc_security_constants.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"

namespace lienthong::tls {
namespace {

std::string FirstProperty(const grpc::AuthContext& context, const char* name) {
  auto values = context.FindPropertyValues(name);
  if (values.empty()) return {};
  return std::string(values.front().data(), values.front().size());
}

}  // namespace

absl::StatusOr<std::string> CertificateFingerprint(absl::string_view pem) {
  X509Ptr cert = ParseFirstCertificate(pem);
  if (cert == nullptr) {
    return absl::InvalidArgumentError("not a PEM certificate");
  }
  return Sha256Fingerprint(cert.get());
}

absl::StatusOr<absl::Time> CertificateNotAfter(const std::string& path) {
  auto pem = ReadPemFile("certificate", path);
  if (!pem.ok()) return pem.status();
  X509Ptr cert = ParseFirstCertificate(*pem);
  if (cert == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' holds no PEM certificate"));
  }
  int days = 0, seconds = 0;
  if (ASN1_TIME_diff(&days, &seconds, nullptr, X509_get0_notAfter(cert.get())) != 1) {
    return absl::InvalidArgumentError("certificate has an unreadable expiry");
  }
  return absl::Now() + absl::Hours(24) * days + absl::Seconds(seconds);
}

namespace {

// Fingerprints of the client certificates seen lately. Parsing a certificate
// (OpenSSL 3 decodes its public key under global locks) cost more than the
// rest of a call; a provincial system presents the same certificate on every
// call, so one parse per certificate is enough.
class FingerprintCache {
 public:
  absl::StatusOr<std::string> Get(const std::string& pem) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = cache_.find(pem);
      if (it != cache_.end()) return it->second;
    }
    auto fingerprint = CertificateFingerprint(pem);
    if (!fingerprint.ok()) return fingerprint.status();
    std::lock_guard<std::mutex> lock(mu_);
    if (cache_.size() >= kMaxEntries) cache_.clear();
    cache_.emplace(pem, *fingerprint);
    return fingerprint;
  }

 private:
  static constexpr size_t kMaxEntries = 1024;
  std::mutex mu_;
  std::unordered_map<std::string, std::string> cache_;
};

// How often the listener's files are re-read.
int RefreshSeconds(const ServerTlsOptions& options) {
  return options.refresh_interval_seconds > 0 ? options.refresh_interval_seconds
                                              : 60;
}

}  // namespace

absl::StatusOr<ClientIdentity> IdentityFromAuthContext(
    const grpc::AuthContext& context) {
  if (!context.IsPeerAuthenticated()) {
    return absl::UnauthenticatedError("no verified client certificate");
  }
  ClientIdentity identity;
  identity.id = FirstProperty(context, GRPC_PEER_URI_PROPERTY_NAME);
  if (identity.id.empty()) {
    identity.id = FirstProperty(context, GRPC_X509_CN_PROPERTY_NAME);
    identity.id_is_subject_cn = true;
  }
  if (identity.id.empty()) {
    return absl::UnauthenticatedError(
        "client certificate has neither a SAN URI nor a subject CN");
  }
  std::string pem = FirstProperty(context, GRPC_X509_PEM_CERT_PROPERTY_NAME);
  static FingerprintCache* const cache = new FingerprintCache();
  auto fingerprint = cache->Get(pem);
  if (!fingerprint.ok()) {
    return absl::UnauthenticatedError("client certificate unreadable");
  }
  identity.fingerprint_sha256 = *std::move(fingerprint);
  return identity;
}

absl::StatusOr<std::shared_ptr<CrlFileWatcher>> WatchClientCrls(
    const ServerTlsOptions& options) {
  if (!options.require_client_cert || options.client_crl_file.empty()) {
    return nullptr;
  }
  LIENTHONG_ASSIGN_OR_RETURN(
      std::shared_ptr<CrlFileWatcher> crls,
      CrlFileWatcher::Create(options.client_crl_file, options.client_ca_file,
                             absl::Seconds(RefreshSeconds(options))));
  return crls;
}

absl::StatusOr<std::shared_ptr<ClientCaWatcher>> WatchClientCas(
    const ServerTlsOptions& options) {
  if (!options.require_client_cert) return nullptr;
  LIENTHONG_ASSIGN_OR_RETURN(
      std::shared_ptr<ClientCaWatcher> cas,
      ClientCaWatcher::Create(options.client_ca_file,
                              absl::Seconds(RefreshSeconds(options))));
  return cas;
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerTlsOptions& options) {
  // Read and check the files once up front: gRPC's file watcher would only
  // log a failure and then refuse every handshake.
  auto cert_pem = ReadPemFile("tls.cert_file", options.cert_file);
  if (!cert_pem.ok()) return cert_pem.status();
  auto key_pem = ReadPemFile("tls.key_file", options.key_file);
  if (!key_pem.ok()) return key_pem.status();
  X509Ptr cert = ParseFirstCertificate(*cert_pem);
  if (cert == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tls.cert_file '", options.cert_file, "' holds no PEM certificate"));
  }
  auto key_bio = MemoryBio(*key_pem);
  std::unique_ptr<EVP_PKEY, PkeyDeleter> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tls.key_file '", options.key_file, "' holds no PEM private key"));
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return absl::InvalidArgumentError(
        "tls.cert_file and tls.key_file do not belong together");
  }
  std::string root_path;
  if (options.require_client_cert) {
    auto ca_pem = ReadPemFile("tls.client_ca_file", options.client_ca_file);
    if (!ca_pem.ok()) return ca_pem.status();
    if (ParseFirstCertificate(*ca_pem) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("tls.client_ca_file '", options.client_ca_file,
                       "' holds no PEM certificate"));
    }
    root_path = options.client_ca_file;
  }
  const int refresh = RefreshSeconds(options);
  auto provider =
      std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
          options.key_file, options.cert_file, root_path,
          static_cast<unsigned int>(refresh));
  grpc::experimental::TlsServerCredentialsOptions tls_options(provider);
  tls_options.watch_identity_key_cert_pairs();
  if (options.require_client_cert) {
    tls_options.watch_root_certs();
    tls_options.set_cert_request_type(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    HandshakeChecks checks;
    checks.admission = options.admission;
    checks.on_refused = options.on_refused;
    checks.crls = options.crls;
    if (checks.crls == nullptr) {
      LIENTHONG_ASSIGN_OR_RETURN(checks.crls, WatchClientCrls(options));
    }
    if (checks.admission != nullptr || checks.crls != nullptr) {
      tls_options.set_certificate_verifier(
          MakeHandshakeVerifier(std::move(checks)));
    }
  } else {
    tls_options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  return grpc::experimental::TlsServerCredentials(tls_options);
}

std::string SecureCipherSuites(const char* configured,
                               std::vector<std::string>* dropped) {
  if (configured == nullptr) return kCipherSuites;
  const std::vector<absl::string_view> allowed_list =
      absl::StrSplit(kCipherSuites, ':');
  const std::set<absl::string_view> allowed(allowed_list.begin(),
                                            allowed_list.end());
  std::vector<absl::string_view> kept;
  for (absl::string_view suite :
       absl::StrSplit(configured, ':', absl::SkipWhitespace())) {
    if (allowed.count(suite) != 0) {
      kept.push_back(suite);
    } else if (dropped != nullptr) {
      dropped->emplace_back(suite);
    }
  }
  if (kept.empty()) return kCipherSuites;
  return absl::StrJoin(kept, ":");
}

}  // namespace lienthong::tls
