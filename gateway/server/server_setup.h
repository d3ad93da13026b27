// What the gateway sets up from its config besides the runtime: the
// listener's TLS options and HTTP/2 limits, and the audit log. Shared by
// GatewayServer::Start and CheckStartup (startup_check.h), so that both
// read the config the same way.
#ifndef LIENTHONG_GATEWAY_SERVER_SERVER_SETUP_H_
#define LIENTHONG_GATEWAY_SERVER_SERVER_SETUP_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gateway/audit/audit_log.h"
#include "gateway/storage/pg/pg_pool.h"
#include "gateway/tls/admission.h"
#include "gateway/tls/client_identity.h"
#include "grpcpp/server_builder.h"
#include "lienthong/config/v1/config.pb.h"

namespace lienthong::server {

// A fresh folder under $TMPDIR (else /tmp), removed with everything in it
// when dropped: where checks build what start-up would build in place
// (scratch keys, a scratch outbox) without writing to the configured files.
class ScratchFolder {
 public:
  ScratchFolder();
  ~ScratchFolder();
  ScratchFolder(const ScratchFolder&) = delete;
  ScratchFolder& operator=(const ScratchFolder&) = delete;

  // False when no folder could be made.
  bool ok() const { return !path_.empty(); }
  // path + "/" + name.
  std::string File(const std::string& name) const;

 private:
  std::string path_;
};

// Where the audit store lives when audit.store_file is empty.
inline constexpr char kDefaultAuditStoreFile[] = "var/audit.db";

// The listener's TLS settings; client certificates are required unless
// the config waives them (which validation allows only with
// insecure_allow_no_client_cert).
tls::ServerTlsOptions ServerTlsOptionsOf(
    const lienthong::config::v1::Tls& config);

// The listener's credentials (tls::MakeServerCredentials), an error marked
// with the listener.tls field it is about (config::AtConfigField). The
// handshake admits the identities of `admission` (null: any certificate of
// the client CA, as --check needs) and reports refusals to `on_refused`
// (may be empty). For the calls' own checks (tls::RecheckCaller, into
// tls::HandshakeChecks), `*crls` (may be null) receives the handshake's CRL
// watcher, null without client_crl_file, and `*cas` (may be null) a watcher
// of client_ca_file on the same refresh, null when client certificates are
// not required.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ListenerCredentials(
    const lienthong::config::v1::Tls& config,
    std::shared_ptr<tls::ClientAdmission> admission = nullptr,
    std::function<void(absl::string_view reason)> on_refused = {},
    std::shared_ptr<tls::CrlFileWatcher>* crls = nullptr,
    std::shared_ptr<tls::ClientCaWatcher>* cas = nullptr);

// Applies the HTTP/2 listener's protections, each with a safe default.
void ApplyListenerLimits(const lienthong::config::v1::ListenerLimits& limits,
                         grpc::ServerBuilder& builder);

// Who may complete the listener's TLS handshake, with the limits' rate of
// new connections per client; admits nobody until its Update().
std::shared_ptr<tls::ClientAdmission> ClientAdmissionOf(
    const lienthong::config::v1::ListenerLimits& limits);

// The audit log's options for `config` and this gateway's `node` name: the
// query index (store_file), the journal folder and anchor file (beside the
// index unless set), and the rest of the audit block. Key files not
// configured (none of the three) are the development keys (signing, HMAC,
// digest) beside the index, which OpenAuditLog makes on first start.
struct AuditSetup {
  audit::AuditLog::Options options;
  std::string folder;            // holds the store (and development keys)
  bool development_keys = false;
};
AuditSetup AuditSetupOf(const lienthong::config::v1::Audit& config,
                        const std::string& node);

// Opens the audit log: makes the store's folder (0700) and, without key
// files configured, the development keys (logged); configured key files
// must exist and the signing key match audit.signing_key_sha256 when set.
// A log that opened NOT READY is returned: the gateway then starts, refuses
// audited calls and says why on /readyz. Fails with AuditLog::Open's codes, marked with the config
// field concerned (config::AtConfigField). Not thread-safe with itself on
// the same folder.
//
// With audit.index_store: postgres the query index is the one replicas
// share (audit::PgAuditIndex) on `pg_pool`, which must then be given
// (INVALID_ARGUMENT otherwise); its errors are marked with
// audit.index_store (UNAVAILABLE when the database cannot be reached,
// FAILED_PRECONDITION for a schema not this gateway's).
absl::StatusOr<std::unique_ptr<audit::AuditLog>> OpenAuditLog(
    const lienthong::config::v1::Audit& config, const std::string& node,
    std::shared_ptr<storage::pg::Pool> pg_pool = nullptr);

// The gateway's one PostgreSQL pool, shared by every store on PostgreSQL
// (storage::pg::UsesPostgres), or null when it has none. Does not
// connect. The errors of storage::pg::PoolOptionsFromConfig, marked with
// the config field of the first store on PostgreSQL. Thread-safe.
absl::StatusOr<std::shared_ptr<storage::pg::Pool>> OpenPostgresPool(
    const lienthong::config::v1::GatewayConfig& config);

// Checks what OpenAuditLog would do without creating or writing anything:
// the folder can be made, configured (or existing development) keys load,
// and an existing store opens read-only and can be resumed. Errors as
// OpenAuditLog's. Thread-safe.
absl::Status CheckAuditLog(const lienthong::config::v1::Audit& config,
                           const std::string& node);

}  // namespace lienthong::server

#endif  // LIENTHONG_GATEWAY_SERVER_SERVER_SETUP_H_
