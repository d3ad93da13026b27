#include "gateway/server/server_setup.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gateway/audit/pg/pg_audit_index.h"
#include "gateway/audit/record.h"
#include "gateway/audit/signing.h"
#include "gateway/config/config_error.h"
#include "gateway/log/log.h"
#include "gateway/status/status_macros.h"
#include "gateway/storage/database.h"
#include "gateway/storage/pg/pg_config.h"
#include "grpc/grpc.h"
#include "grpcpp/resource_quota.h"

namespace lienthong::server {
namespace {

constexpr char kStoreField[] = "audit.store_file";
constexpr char kIndexStoreField[] = "audit.index_store";

bool Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

// audit.anchor_file's value that turns the anchor file off.
constexpr char kAnchorsOff[] = "off";

// The journal's folder and the anchor file, each with the field that
// names it (the store's when it is the default beside the store).
struct AuditPlace {
  const std::string* path;
  storage::PathKind kind;
  const char* label;
  const char* field;
};
std::vector<AuditPlace> AuditPlaces(const lienthong::config::v1::Audit& config,
                                    const AuditSetup& setup) {
  std::vector<AuditPlace> places = {
      {&setup.options.journal_dir, storage::PathKind::kFolder, "audit journal",
       config.journal_dir().empty() ? kStoreField : "audit.journal_dir"}};
  if (!setup.options.anchor_file.empty()) {
    places.push_back(
        {&setup.options.anchor_file, storage::PathKind::kFile,
         "audit anchor file",
         config.anchor_file().empty() ? kStoreField : "audit.anchor_file"});
  }
  return places;
}

// Loads the keys the log will use and checks the pin, each error marked
// with the field that names its file.
absl::Status CheckKeys(const AuditSetup& setup) {
  const audit::AuditLog::Options& options = setup.options;
  auto field = [&](const char* name) {
    return setup.development_keys ? kStoreField : name;
  };
  absl::StatusOr<audit::SigningKey> signing =
      audit::SigningKey::FromPemFile(options.signing_key_file);
  LIENTHONG_RETURN_IF_ERROR(
      config::AtConfigField(field("audit.signing_key_file"), signing.status()));
  if (!options.signing_key_sha256.empty()) {
    LIENTHONG_RETURN_IF_ERROR(config::AtConfigField(
        "audit.signing_key_sha256",
        audit::CheckPin(signing->public_key(), options.signing_key_sha256)));
  }
  LIENTHONG_RETURN_IF_ERROR(config::AtConfigField(
      field("audit.hmac_key_file"),
      audit::CitizenKey::FromFile(options.hmac_key_file).status()));
  if (options.digest_key_file.empty()) return absl::OkStatus();
  return config::AtConfigField(
      field("audit.digest_key_file"),
      audit::DigestKey::FromFile(options.digest_key_file).status());
}

// The development keys `setup` names that do not exist yet, with how to
// make each.
std::vector<std::pair<std::string*, absl::Status (*)(const std::string&)>>
MissingDevelopmentKeys(audit::AuditLog::Options& options) {
  std::vector<std::pair<std::string*, absl::Status (*)(const std::string&)>>
      missing;
  for (auto [path, make] :
       {std::pair{&options.signing_key_file, &audit::GenerateSigningKeyFile},
        std::pair{&options.hmac_key_file, &audit::GenerateHmacKeyFile},
        std::pair{&options.digest_key_file, &audit::GenerateHmacKeyFile}}) {
    if (!Exists(*path)) missing.emplace_back(path, make);
  }
  return missing;
}

}  // namespace

ScratchFolder::ScratchFolder() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = absl::StrCat(
      tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/lienthong-check-XXXXXX");
  if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
}

ScratchFolder::~ScratchFolder() {
  if (path_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string ScratchFolder::File(const std::string& name) const {
  return absl::StrCat(path_, "/", name);
}

tls::ServerTlsOptions ServerTlsOptionsOf(
    const lienthong::config::v1::Tls& config) {
  tls::ServerTlsOptions options;
  options.cert_file = config.cert_file();
  options.key_file = config.key_file();
  options.client_ca_file = config.client_ca_file();
  options.require_client_cert =
      !config.has_require_client_cert() || config.require_client_cert();
  options.refresh_interval_seconds = config.refresh_interval_seconds();
  options.client_crl_file = config.client_crl_file();
  return options;
}

namespace {

// tls::MakeServerCredentials of `options`, with its CRL watcher made here
// first and handed to `*crls` when that is not null, and a watcher of the
// client CA file for `*cas` when that is not null.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>>
CredentialsSharingWatchers(tls::ServerTlsOptions& options,
                           std::shared_ptr<tls::CrlFileWatcher>* crls,
                           std::shared_ptr<tls::ClientCaWatcher>* cas) {
  if (crls != nullptr) {
    LIENTHONG_ASSIGN_OR_RETURN(options.crls, tls::WatchClientCrls(options));
    *crls = options.crls;
  }
  LIENTHONG_ASSIGN_OR_RETURN(
      std::shared_ptr<grpc::ServerCredentials> credentials,
      tls::MakeServerCredentials(options));
  // After the credentials, whose check of the CA file says what is wrong
  // with it in the words the operator knows.
  if (cas != nullptr) {
    LIENTHONG_ASSIGN_OR_RETURN(*cas, tls::WatchClientCas(options));
  }
  return credentials;
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ListenerCredentials(
    const lienthong::config::v1::Tls& config,
    std::shared_ptr<tls::ClientAdmission> admission,
    std::function<void(absl::string_view reason)> on_refused,
    std::shared_ptr<tls::CrlFileWatcher>* crls,
    std::shared_ptr<tls::ClientCaWatcher>* cas) {
  tls::ServerTlsOptions options = ServerTlsOptionsOf(config);
  options.admission = std::move(admission);
  options.on_refused = std::move(on_refused);
  auto credentials = CredentialsSharingWatchers(options, crls, cas);
  if (credentials.ok()) return credentials;
  // tls::MakeServerCredentials names the file it refused ("tls.key_file");
  // a CRL problem names the CA file too, so the CRL file comes first.
  std::string field = "listener.tls";
  for (const char* name : {"tls.client_crl_file", "tls.client_ca_file",
                           "tls.key_file", "tls.cert_file"}) {
    if (absl::StrContains(credentials.status().message(), name)) {
      field = absl::StrCat("listener.", name);
      break;
    }
  }
  return config::AtConfigField(field, credentials.status());
}

void ApplyListenerLimits(const lienthong::config::v1::ListenerLimits& limits,
                         grpc::ServerBuilder& builder) {
  auto or_default = [](int value, int fallback) {
    return value > 0 ? value : fallback;
  };
  builder.SetMaxReceiveMessageSize(or_default(limits.max_message_bytes(), 1 << 20));
  builder.SetMaxSendMessageSize(or_default(limits.max_message_bytes(), 1 << 20));
  builder.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE,
                             or_default(limits.max_metadata_bytes(), 16 << 10));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             or_default(limits.max_concurrent_streams(), 100));
  builder.AddChannelArgument(
      GRPC_ARG_KEEPALIVE_TIME_MS,
      or_default(limits.keepalive_time_seconds(), 120) * 1000);
  builder.AddChannelArgument(
      GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
      or_default(limits.keepalive_timeout_seconds(), 20) * 1000);
  builder.AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
      or_default(limits.min_client_ping_interval_seconds(), 60) * 1000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2);
  builder.AddChannelArgument(
      GRPC_ARG_MAX_CONNECTION_IDLE_MS,
      or_default(limits.max_connection_idle_seconds(), 600) * 1000);
  // Every connection ends within its age (+-10% jitter) plus the grace;
  // meanwhile its calls are checked against the client CAs, CRLs and
  // clients as they are then (tls::RecheckCaller).
  builder.AddChannelArgument(
      GRPC_ARG_MAX_CONNECTION_AGE_MS,
      or_default(limits.max_connection_age_seconds(), 3600) * 1000);
  builder.AddChannelArgument(
      GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
      or_default(limits.max_connection_age_grace_seconds(), 60) * 1000);
  builder.AddChannelArgument(
      GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
      or_default(limits.handshake_timeout_seconds(), 10) * 1000);
  grpc::ResourceQuota quota("lienthong-listener");
  quota.Resize(limits.memory_quota_bytes() > 0
                   ? static_cast<size_t>(limits.memory_quota_bytes())
                   : size_t{1} << 30);
  builder.SetResourceQuota(quota);
}

std::shared_ptr<tls::ClientAdmission> ClientAdmissionOf(
    const lienthong::config::v1::ListenerLimits& limits) {
  tls::ClientAdmission::Limits admission_limits;
  if (limits.handshakes_per_client_per_second() > 0) {
    admission_limits.handshakes_per_second =
        limits.handshakes_per_client_per_second();
  }
  if (limits.handshake_burst_per_client() > 0) {
    admission_limits.handshake_burst = limits.handshake_burst_per_client();
  }
  return std::make_shared<tls::ClientAdmission>(admission_limits);
}

AuditSetup AuditSetupOf(const lienthong::config::v1::Audit& config,
                        const std::string& node) {
  AuditSetup setup;
  audit::AuditLog::Options& options = setup.options;
  options.path = config.store_file().empty() ? kDefaultAuditStoreFile
                                             : config.store_file();
  options.node = node.empty() ? "lienthong" : node;
  if (config.checkpoint_every() > 0) {
    options.checkpoint_every = config.checkpoint_every();
  }
  setup.folder = ".";
  if (size_t slash = options.path.rfind('/'); slash != std::string::npos) {
    setup.folder = slash == 0 ? "/" : options.path.substr(0, slash);
  }
  options.journal_dir = config.journal_dir().empty()
                            ? absl::StrCat(setup.folder, "/audit-journal")
                            : config.journal_dir();
  if (config.anchor_file() != kAnchorsOff) {
    options.anchor_file =
        config.anchor_file().empty()
            ? absl::StrCat(setup.folder, "/audit-anchors.jsonl")
            : config.anchor_file();
  }
  options.anchor_syslog = !config.has_anchor_syslog() || config.anchor_syslog();
  if (config.segment_mib() > 0) {
    options.segment_bytes = static_cast<uint64_t>(config.segment_mib()) << 20;
  }
  if (config.index_interval_ms() > 0) {
    options.index_interval = absl::Milliseconds(config.index_interval_ms());
  }
  options.min_free_bytes =
      static_cast<uint64_t>(config.min_free_mib() > 0 ? config.min_free_mib()
                                                      : 1024)
      << 20;
  options.coalesce_refusals =
      !config.has_coalesce_refusals() || config.coalesce_refusals();
  options.signing_key_sha256 = config.signing_key_sha256();
  setup.development_keys = config.signing_key_file().empty() &&
                           config.hmac_key_file().empty() &&
                           config.digest_key_file().empty();
  if (setup.development_keys) {
    options.signing_key_file = absl::StrCat(setup.folder, "/audit-signing.pem");
    options.hmac_key_file = absl::StrCat(setup.folder, "/audit-hmac.key");
    options.digest_key_file = absl::StrCat(setup.folder, "/audit-digest.key");
  } else {
    options.signing_key_file = config.signing_key_file();
    options.hmac_key_file = config.hmac_key_file();
    options.digest_key_file = config.digest_key_file();
  }
  return setup;
}

absl::StatusOr<std::shared_ptr<storage::pg::Pool>> OpenPostgresPool(
    const lienthong::config::v1::GatewayConfig& config) {
  if (!storage::pg::UsesPostgres(config)) return nullptr;
  const bool outbox =
      !config.portal_sync().adapter().empty() &&
      config.portal_sync().store() == lienthong::config::v1::postgres;
  const char* field = outbox ? "portal_sync.store" : kIndexStoreField;
  absl::StatusOr<storage::pg::PoolOptions> options =
      storage::pg::PoolOptionsFromConfig(config, field);
  if (!options.ok()) return config::AtConfigField(field, options.status());
  absl::StatusOr<std::unique_ptr<storage::pg::Pool>> pool =
      storage::pg::Pool::Create(*std::move(options));
  if (!pool.ok()) return config::AtConfigField(field, pool.status());
  return std::shared_ptr<storage::pg::Pool>(*std::move(pool));
}

absl::StatusOr<std::unique_ptr<audit::AuditLog>> OpenAuditLog(
    const lienthong::config::v1::Audit& config, const std::string& node,
    std::shared_ptr<storage::pg::Pool> pg_pool) {
  AuditSetup setup = AuditSetupOf(config, node);
  if (config.index_store() == lienthong::config::v1::postgres) {
    if (pg_pool == nullptr) {
      return config::AtConfigField(
          kIndexStoreField,
          absl::InvalidArgumentError("postgres needs the gateway's pool"));
    }
    absl::StatusOr<std::unique_ptr<audit::PgAuditIndex>> index =
        audit::PgAuditIndex::Open({std::move(pg_pool), setup.options.node});
    if (!index.ok()) {
      return config::AtConfigField(kIndexStoreField, index.status());
    }
    setup.options.index_store = *std::move(index);
  }
  LIENTHONG_RETURN_IF_ERROR(config::AtConfigField(
      kStoreField, storage::MakeFolders(setup.folder)));
  // The journal makes its own folder (and syncs the one above it); the
  // anchor file is made in its folder.
  for (const AuditPlace& place : AuditPlaces(config, setup)) {
    LIENTHONG_RETURN_IF_ERROR(config::AtConfigField(
        place.field, storage::MakeFolders(storage::FolderOf(*place.path))));
  }
  if (setup.development_keys) {
    auto missing = MissingDevelopmentKeys(setup.options);
    for (auto [path, make] : missing) {
      LIENTHONG_RETURN_IF_ERROR(config::AtConfigField(kStoreField, make(*path)));
    }
    if (!missing.empty()) {
      log::Warning(
          "made development audit keys; configure audit.signing_key_file, "
          "hmac_key_file, digest_key_file and signing_key_sha256 for "
          "production",
          {{"folder", setup.folder}});
    }
  } else if (setup.options.signing_key_sha256.empty()) {
    log::Warning(
        "audit.signing_key_sha256 is not set: checkpoints are verified with "
        "the key on disk, which someone who can replace it could forge");
  }
  LIENTHONG_RETURN_IF_ERROR(CheckKeys(setup));
  auto opened = audit::AuditLog::Open(setup.options);
  if (!opened.ok()) {
    return config::AtConfigField(
        kStoreField,
        absl::Status(opened.status().code(),
                     absl::StrCat("audit log: ", opened.status().message())));
  }
  return opened;
}

absl::Status CheckAuditLog(const lienthong::config::v1::Audit& config,
                           const std::string& node) {
  AuditSetup setup = AuditSetupOf(config, node);
  storage::OpenOptions store;
  store.label = "audit store";
  store.create_folders = true;
  LIENTHONG_RETURN_IF_ERROR(config::AtConfigField(
      kStoreField, storage::CheckOpenable(setup.options.path, store)));
  for (const AuditPlace& place : AuditPlaces(config, setup)) {
    LIENTHONG_RETURN_IF_ERROR(config::AtConfigField(
        place.field,
        storage::CheckCreatable(*place.path, place.kind, place.label)));
  }
  ScratchFolder scratch;
  if (setup.development_keys) {
    // Start makes them; stand-ins let the store be checked as it would be.
    auto missing = MissingDevelopmentKeys(setup.options);
    if (!missing.empty() && !scratch.ok()) {
      return absl::UnavailableError("cannot make a scratch folder under $TMPDIR");
    }
    int n = 0;
    for (auto [path, make] : missing) {
      *path = scratch.File(absl::StrCat("key-", n++));
      LIENTHONG_RETURN_IF_ERROR(make(*path));
    }
  }
  LIENTHONG_RETURN_IF_ERROR(CheckKeys(setup));
  absl::Status checked = audit::AuditLog::Check(setup.options);
  if (!checked.ok()) {
    return config::AtConfigField(
        kStoreField, absl::Status(checked.code(), absl::StrCat(
                                                      "audit log: ",
                                                      checked.message())));
  }
  return absl::OkStatus();
}

}  // namespace lienthong::server
