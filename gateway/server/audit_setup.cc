#include "gateway/server/audit_setup.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gateway/audit/record.h"
#include "gateway/audit/signing.h"
#include "gateway/log/log.h"
#include "gateway/status/status_macros.h"

namespace lienthong::server {
namespace {

constexpr char kAnchorsOff[] = "off";

// Makes `path` with `make` unless it exists; true when it was made.
absl::StatusOr<bool> MakeIfMissing(const std::string& path,
                                   absl::Status (*make)(const std::string&)) {
  if (::access(path.c_str(), F_OK) == 0) return false;
  LIENTHONG_RETURN_IF_ERROR(make(path));
  return true;
}

}  // namespace

absl::StatusOr<audit::AuditLog::Options> AuditLogOptions(
    const lienthong::config::v1::Audit& config, const std::string& node) {
  audit::AuditLog::Options options;
  options.path =
      config.store_file().empty() ? "var/audit.db" : config.store_file();
  options.node = node.empty() ? "lienthong" : node;
  if (config.checkpoint_every() > 0) {
    options.checkpoint_every = config.checkpoint_every();
  }
  std::string dir = ".";
  if (size_t slash = options.path.rfind('/'); slash != std::string::npos) {
    dir = options.path.substr(0, slash);
  }
  if (dir != "." && ::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::UnavailableError(
        absl::StrCat("cannot create audit folder '", dir, "'"));
  }
  options.journal_dir = config.journal_dir().empty()
                            ? absl::StrCat(dir, "/audit-journal")
                            : config.journal_dir();
  if (config.anchor_file() != kAnchorsOff) {
    options.anchor_file = config.anchor_file().empty()
                              ? absl::StrCat(dir, "/audit-anchors.jsonl")
                              : config.anchor_file();
  }
  options.anchor_syslog =
      !config.has_anchor_syslog() || config.anchor_syslog();
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
  if (config.signing_key_file().empty() && config.hmac_key_file().empty() &&
      config.digest_key_file().empty()) {
    options.signing_key_file = absl::StrCat(dir, "/audit-signing.pem");
    options.hmac_key_file = absl::StrCat(dir, "/audit-hmac.key");
    options.digest_key_file = absl::StrCat(dir, "/audit-digest.key");
    bool made = false;
    for (auto [path, make] :
         {std::pair{&options.signing_key_file, &audit::GenerateSigningKeyFile},
          std::pair{&options.hmac_key_file, &audit::GenerateHmacKeyFile},
          std::pair{&options.digest_key_file, &audit::GenerateHmacKeyFile}}) {
      LIENTHONG_ASSIGN_OR_RETURN(bool new_key, MakeIfMissing(*path, make));
      made = made || new_key;
    }
    if (made) {
      log::Warning(
          "made development audit keys; configure audit.signing_key_file, "
          "hmac_key_file, digest_key_file and signing_key_sha256 for "
          "production",
          {{"folder", dir}});
    }
  } else {
    options.signing_key_file = config.signing_key_file();
    options.hmac_key_file = config.hmac_key_file();
    options.digest_key_file = config.digest_key_file();
    if (options.signing_key_sha256.empty()) {
      log::Warning(
          "audit.signing_key_sha256 is not set: checkpoints are verified with "
          "the key on disk, which someone who can replace it could forge");
    }
  }
  return options;
}

absl::StatusOr<std::unique_ptr<audit::AuditLog>> OpenAuditLog(
    const lienthong::config::v1::Audit& config, const std::string& node) {
  absl::StatusOr<audit::AuditLog::Options> options =
      AuditLogOptions(config, node);
  absl::StatusOr<std::unique_ptr<audit::AuditLog>> opened =
      options.ok() ? audit::AuditLog::Open(*std::move(options))
                   : options.status();
  if (!opened.ok()) {
    return absl::Status(opened.status().code(),
                        absl::StrCat("audit log: ", opened.status().message()));
  }
  return opened;
}

void ExportAuditMetrics(const audit::AuditLog* log,
                        metrics::Registry& registry) {
  using Stats = audit::AuditLog::Stats;
  struct Gauge {
    const char* name;
    const char* help;
    std::function<double()> value;
  };
  auto stat = [log](uint64_t Stats::*field) {
    return [log, field] { return static_cast<double>(log->stats().*field); };
  };
  const Gauge gauges[] = {
      {"lienthong_audit_ready",
       "1 when the audit log verified its journal at start and can write; 0 "
       "when not ready (see /readyz) or writes fail",
       [log] { return log->healthy() ? 1.0 : 0.0; }},
      {"lienthong_audit_disk_free_bytes",
       "Free bytes on the audit journal's filesystem",
       [log] { return static_cast<double>(log->FreeBytes()); }},
      {"lienthong_audit_disk_low",
       "1 when free space is below audit.min_free_mib",
       [log] {
         return log->FreeBytes() < log->options().min_free_bytes ? 1.0 : 0.0;
       }},
      {"lienthong_audit_durable_sequence", "The last durable audit record",
       stat(&Stats::durable_sequence)},
      {"lienthong_audit_indexed_sequence",
       "The last audit record in the query index",
       stat(&Stats::indexed_sequence)},
      {"lienthong_audit_checkpoint_index", "The last signed checkpoint",
       stat(&Stats::checkpoints)},
      {"lienthong_audit_journal_writes",
       "Journal writes (each one fdatasync) since start", stat(&Stats::writes)},
      {"lienthong_audit_write_failures",
       "Journal writes that failed since start", stat(&Stats::write_failures)},
      {"lienthong_audit_torn_tail_bytes_cut",
       "Bytes of a crash's unfinished last write cut off at start",
       stat(&Stats::torn_tail_bytes_cut)},
      {"lienthong_audit_refusals_coalesced",
       "Refused calls counted into REFUSALS_COALESCED records since start",
       stat(&Stats::refusals_coalesced)},
      {"lienthong_audit_anchor_failures",
       "Checkpoints that could not be written to the anchor file",
       stat(&Stats::anchor_failures)},
  };
  for (const Gauge& gauge : gauges) {
    registry.AddGauge(gauge.name, gauge.help).WithLabels({}).SetCallback(
        gauge.value);
  }
}

}  // namespace lienthong::server
