#include "gateway/server/audit_setup.h"

#include <functional>

namespace lienthong::server {

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
      {"lienthong_audit_index_missing_records",
       "Audit records the journal skipped (a segment removed or lost, not "
       "archived) when they were to be indexed: queries do not find them",
       stat(&Stats::index_missing_records)},
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
