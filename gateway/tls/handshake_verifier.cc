#include "gateway/tls/handshake_verifier.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/log/log.h"
#include "gateway/resilience/rate_limiter.h"
#include "gateway/tls/openssl_util.h"
#include "grpc/grpc_security_constants.h"

namespace lienthong::tls {
namespace {

// The first value of property `name` of `context` (which it lives in), or
// empty.
absl::string_view FirstProperty(const grpc::AuthContext& context,
                                const char* name) {
  const std::vector<grpc::string_ref> values = context.FindPropertyValues(name);
  if (values.empty()) return {};
  return absl::string_view(values.front().data(), values.front().size());
}

absl::Status Refuse(absl::Status status, absl::string_view why,
                    std::string* reason) {
  if (reason != nullptr) *reason = std::string(why);
  return status;
}

class Verifier final : public grpc::experimental::ExternalCertificateVerifier {
 public:
  explicit Verifier(HandshakeChecks checks)
      : checks_(std::move(checks)),
        log_budget_(resilience::RateLimit{5, 20}) {}

  bool Verify(grpc::experimental::TlsCustomVerificationCheckRequest* request,
              std::function<void(grpc::Status)> /*callback*/,
              grpc::Status* sync_status) override {
    const std::vector<grpc::string_ref> uris = request->uri_names();
    const grpc::string_ref leaf = request->peer_cert();
    const grpc::string_ref chain = request->peer_cert_full_chain();
    const grpc::string_ref cn = request->common_name();
    PeerCertificate peer;
    peer.leaf_pem = absl::string_view(leaf.data(), leaf.size());
    peer.chain_pem = absl::string_view(chain.data(), chain.size());
    if (!uris.empty()) {
      peer.first_uri = absl::string_view(uris.front().data(), uris.front().size());
    }
    peer.common_name = absl::string_view(cn.data(), cn.size());
    std::string reason;
    absl::Status status = CheckClientCertificate(checks_, peer, &reason);
    if (status.ok()) {
      *sync_status = grpc::Status::OK;
      return true;
    }
    if (checks_.on_refused) checks_.on_refused(reason);
    if (!log_budget_.TryAcquire().has_value()) {
      log::Warning("client certificate refused in the TLS handshake",
                   {{"reason", reason}, {"detail", status.message()}});
    }
    *sync_status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                "client certificate refused");
    return true;  // synchronous
  }

  void Cancel(grpc::experimental::TlsCustomVerificationCheckRequest*) override {}

 private:
  const HandshakeChecks checks_;
  resilience::TokenBucket log_budget_;
};

}  // namespace

absl::Status CheckClientCertificate(const HandshakeChecks& checks,
                                    const PeerCertificate& peer,
                                    std::string* reason) {
  X509Ptr leaf = ParseFirstCertificate(peer.leaf_pem);
  if (leaf == nullptr) {
    return Refuse(absl::PermissionDeniedError("client certificate unreadable"),
                  "unreadable", reason);
  }
  if (IdentityHasNul(leaf.get())) {
    return Refuse(absl::PermissionDeniedError(
                      "client certificate names its identity with a NUL byte"),
                  "unreadable", reason);
  }
  if (checks.crls != nullptr) {
    std::shared_ptr<const RevocationLists> lists = checks.crls->Current();
    // gRPC's chain on a server is what the client sent without its leaf
    // (OpenSSL's SSL_get_peer_cert_chain), often not up to the root.
    if (lists->IsPathRevoked(leaf.get(), ParseCertificates(peer.chain_pem))) {
      return Refuse(absl::PermissionDeniedError(
                        "client certificate is revoked by its issuer's CRL"),
                    "revoked", reason);
    }
  }
  if (checks.admission == nullptr) return absl::OkStatus();
  auto fingerprint = Sha256Fingerprint(leaf.get());
  if (!fingerprint.ok()) {
    return Refuse(absl::PermissionDeniedError("client certificate unreadable"),
                  "unreadable", reason);
  }
  ClientAdmission::Presented presented;
  presented.first_uri = peer.first_uri;
  presented.common_name = peer.common_name;
  presented.fingerprint = *fingerprint;
  ClientAdmission::Refusal refusal;
  auto admitted = checks.admission->Admit(presented, &refusal);
  if (!admitted.ok()) {
    return Refuse(admitted.status(), ClientAdmission::Reason(refusal), reason);
  }
  return absl::OkStatus();
}

absl::Status RecheckCaller(const HandshakeChecks& checks,
                           const grpc::AuthContext& context,
                           const ClientIdentity& caller) {
  if (checks.cas != nullptr || checks.crls != nullptr) {
    const absl::string_view leaf_pem =
        FirstProperty(context, GRPC_X509_PEM_CERT_PROPERTY_NAME);
    const absl::string_view chain_pem =
        FirstProperty(context, GRPC_X509_PEM_CERT_CHAIN_PROPERTY_NAME);
    if (checks.cas != nullptr &&
        !checks.cas->IsCallerTrusted(caller.fingerprint_sha256, leaf_pem,
                                     chain_pem)) {
      return absl::UnauthenticatedError(
          "client certificate refused: its issuer is no longer a trusted "
          "client CA");
    }
    if (checks.crls != nullptr &&
        checks.crls->IsCallerRevoked(caller.fingerprint_sha256, leaf_pem,
                                     chain_pem)) {
      return absl::UnauthenticatedError(
          "client certificate refused: revoked by its issuer's CRL");
    }
  }
  if (checks.admission == nullptr) return absl::OkStatus();
  ClientAdmission::Presented presented;
  if (caller.id_is_subject_cn) {
    presented.common_name = caller.id;
  } else {
    presented.first_uri = caller.id;
  }
  presented.fingerprint = caller.fingerprint_sha256;
  return checks.admission->Recheck(presented);
}

std::shared_ptr<grpc::experimental::CertificateVerifier> MakeHandshakeVerifier(
    HandshakeChecks checks) {
  return grpc::experimental::ExternalCertificateVerifier::Create<Verifier>(
      std::move(checks));
}

}  // namespace lienthong::tls
