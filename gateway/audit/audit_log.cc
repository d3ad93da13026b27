#include "gateway/audit/audit_log.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gateway/log/log.h"
#include "gateway/status/status_macros.h"

namespace lienthong::audit {
namespace {

absl::Status StoreUnavailable() {
  return absl::UnavailableError("audit store unavailable");
}

absl::Status ValidateOptions(const AuditLog::Options& options) {
  if (options.node.empty()) {
    return absl::InvalidArgumentError("audit log needs a node name");
  }
  if (options.signing_key_file.empty()) {
    return absl::InvalidArgumentError("audit log needs a signing key file");
  }
  if (options.hmac_key.empty() && options.hmac_key_file.empty()) {
    return absl::InvalidArgumentError("audit log needs an HMAC key");
  }
  if (options.checkpoint_every < 1 || options.max_batch < 1 ||
      options.max_pending < 1) {
    return absl::InvalidArgumentError(
        "audit checkpoint_every, max_batch and max_pending must be >= 1");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(Options options) {
  LIENTHONG_RETURN_IF_ERROR(ValidateOptions(options));
  if (options.path.empty()) {
    return absl::InvalidArgumentError("audit log needs a store path");
  }
  SqliteAuditStore::Options store_options;
  store_options.busy_timeout = options.busy_timeout;
  LIENTHONG_ASSIGN_OR_RETURN(
      std::unique_ptr<SqliteAuditStore> store,
      SqliteAuditStore::Open(options.path, store_options));
  return Open(std::move(options), std::move(store));
}

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(
    Options options, std::unique_ptr<AuditStore> store) {
  LIENTHONG_RETURN_IF_ERROR(ValidateOptions(options));
  LIENTHONG_ASSIGN_OR_RETURN(SigningKey signing_key,
                             SigningKey::FromPemFile(options.signing_key_file));
  std::optional<CitizenKey> citizen_key;
  if (!options.hmac_key.empty()) {
    LIENTHONG_ASSIGN_OR_RETURN(citizen_key,
                               CitizenKey::FromBytes(options.hmac_key));
  } else {
    LIENTHONG_ASSIGN_OR_RETURN(citizen_key,
                               CitizenKey::FromFile(options.hmac_key_file));
  }
  std::unique_ptr<AuditLog> log(
      new AuditLog(std::move(options), std::move(store), std::move(signing_key),
                   *std::move(citizen_key)));
  LIENTHONG_RETURN_IF_ERROR(log->LoadHead());
  log->writer_ = std::thread(&AuditLog::WriterLoop, log.get());
  return log;
}

absl::Status AuditLog::Check(const Options& options) {
  LIENTHONG_RETURN_IF_ERROR(ValidateOptions(options));
  if (options.path.empty()) {
    return absl::InvalidArgumentError("audit log needs a store path");
  }
  LIENTHONG_ASSIGN_OR_RETURN(SigningKey signing_key,
                             SigningKey::FromPemFile(options.signing_key_file));
  absl::StatusOr<CitizenKey> citizen_key =
      options.hmac_key.empty() ? CitizenKey::FromFile(options.hmac_key_file)
                               : CitizenKey::FromBytes(options.hmac_key);
  LIENTHONG_RETURN_IF_ERROR(citizen_key.status());
  SqliteAuditStore::Options store_options;
  store_options.busy_timeout = options.busy_timeout;
  absl::StatusOr<std::unique_ptr<SqliteAuditStore>> store =
      SqliteAuditStore::OpenReadOnly(options.path, store_options);
  if (absl::IsNotFound(store.status())) return absl::OkStatus();
  LIENTHONG_RETURN_IF_ERROR(store.status());
  // Reads the head as Open does; without a writer thread nothing is written.
  AuditLog log(options, *std::move(store), std::move(signing_key),
               *std::move(citizen_key));
  return log.LoadHead();
}

AuditLog::AuditLog(Options options, std::unique_ptr<AuditStore> store,
                   SigningKey signing_key, CitizenKey citizen_key)
    : options_(std::move(options)),
      store_(std::move(store)),
      signing_key_(std::move(signing_key)),
      citizen_key_(std::move(citizen_key)) {}

AuditLog::~AuditLog() { Close().IgnoreError(); }

absl::Status AuditLog::Close() {
  absl::MutexLock close_lock(&close_mu_);
  if (closed_) return close_status_;
  {
    absl::MutexLock lock(&mu_);
    closing_ = true;
  }
  if (writer_.joinable()) writer_.join();
  closed_ = true;
  close_status_ = final_status_;
  return close_status_;
}

void AuditLog::Append(AuditRecord record,
                      absl::AnyInvocable<void(absl::Status) &&> on_durable) {
  Enqueue(std::move(record),
          [on_durable = std::move(on_durable)](absl::Status status,
                                               const AuditRecord&) mutable {
            std::move(on_durable)(std::move(status));
          });
}

void AuditLog::AppendThenRelease(
    AuditRecord record, bool wait_for_durable, absl::Status answer,
    absl::AnyInvocable<void(absl::Status) &&> release) {
  if (!wait_for_durable) {
    Append(std::move(record), [](absl::Status) {});
    std::move(release)(std::move(answer));
    return;
  }
  Append(std::move(record), [answer = std::move(answer),
                             release = std::move(release)](
                                absl::Status durable) mutable {
    std::move(release)(durable.ok()
                           ? std::move(answer)
                           : absl::UnavailableError(kAnswerWithheld));
  });
}

absl::StatusOr<AuditRecord> AuditLog::AppendSync(AuditRecord record) {
  absl::Notification done;
  absl::Status status;
  AuditRecord written;
  Enqueue(std::move(record), [&](absl::Status s, const AuditRecord& r) {
    status = std::move(s);
    if (status.ok()) written = r;
    done.Notify();
  });
  done.WaitForNotification();
  if (!status.ok()) return status;
  return written;
}

void AuditLog::Enqueue(AuditRecord record, Done done) {
  absl::Status status;
  if (!record.has_time()) {
    status = ToProtoTime(absl::Now(), record.mutable_time());
  } else {
    status = ValidateProtoTime(record.time());
  }
  if (record.node().empty()) record.set_node(options_.node);
  if (status.ok()) {
    absl::MutexLock lock(&mu_);
    if (closing_) {
      status = absl::UnavailableError("audit log closed");
    } else if (queued_records_.size() >=
               static_cast<size_t>(options_.max_pending)) {
      status = absl::UnavailableError("audit queue full");
    } else {
      queued_records_.push_back(std::move(record));
      queued_done_.push_back(std::move(done));
      return;
    }
  }
  std::move(done)(std::move(status), record);
}

bool AuditLog::HasWork() const { return closing_ || !queued_records_.empty(); }

void AuditLog::WriterLoop() {
  std::vector<AuditRecord> records;
  std::vector<Done> done;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &AuditLog::HasWork));
      if (queued_records_.empty()) break;  // Closing, and all written.
      records.swap(queued_records_);
      done.swap(queued_done_);
    }
    // Everything queued while the last batch was being written goes out
    // together: that is the group commit.
    const size_t max_batch = static_cast<size_t>(options_.max_batch);
    for (size_t i = 0; i < records.size(); i += max_batch) {
      const size_t n = std::min(max_batch, records.size() - i);
      WriteBatch(absl::MakeSpan(records).subspan(i, n),
                 absl::MakeSpan(done).subspan(i, n));
    }
    records.clear();
    done.clear();
  }
  final_status_ = WriteFinalCheckpoint();
}

void AuditLog::WriteBatch(absl::Span<AuditRecord> records,
                          absl::Span<Done> done) {
  absl::Status status = TryWrite(records);
  healthy_.store(status.ok(), std::memory_order_relaxed);
  if (!status.ok()) {
    head_valid_ = false;
    log::Error("audit store write failed",
               {{"error", status.message()},
                {"records", absl::StrCat(records.size())}});
    status = StoreUnavailable();
  }
  for (size_t i = 0; i < records.size(); ++i) {
    std::move(done[i])(status, records[i]);
  }
}

absl::Status AuditLog::TryWrite(absl::Span<AuditRecord> records) {
  if (!head_valid_) LIENTHONG_RETURN_IF_ERROR(LoadHead());
  uint64_t sequence = head_sequence_;
  std::string prev = head_hash_;
  std::vector<AuditCheckpoint> checkpoints;
  for (AuditRecord& record : records) {
    record.set_sequence(++sequence);
    record.set_prev_hash(prev);
    LIENTHONG_ASSIGN_OR_RETURN(prev, ComputeRecordHash(record));
    record.set_hash(prev);
    if (sequence % static_cast<uint64_t>(options_.checkpoint_every) == 0) {
      LIENTHONG_ASSIGN_OR_RETURN(AuditCheckpoint checkpoint,
                                 MakeCheckpoint(signing_key_, sequence, prev,
                                                absl::Now(), options_.node));
      checkpoints.push_back(std::move(checkpoint));
    }
  }
  LIENTHONG_RETURN_IF_ERROR(store_->Write(records, checkpoints));
  head_sequence_ = sequence;
  head_hash_ = std::move(prev);
  if (!checkpoints.empty()) {
    last_checkpoint_sequence_ = checkpoints.back().sequence();
  }
  durable_sequence_.store(sequence);
  return absl::OkStatus();
}

absl::Status AuditLog::LoadHead() {
  LIENTHONG_ASSIGN_OR_RETURN(std::optional<AuditRecord> last,
                             store_->LastRecord());
  LIENTHONG_ASSIGN_OR_RETURN(std::optional<AuditCheckpoint> checkpoint,
                             store_->LastCheckpoint());
  uint64_t sequence = last ? last->sequence() : 0;
  std::string hash = last ? last->hash() : GenesisHash();
  std::string raw;
  if (hash.size() != 2 * kHashSize || !FromHex(hash, &raw)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "audit store's last record (", sequence, ") has a malformed hash"));
  }
  if (checkpoint && checkpoint->sequence() > sequence) {
    return absl::FailedPreconditionError(absl::StrCat(
        "audit store ends at record ", sequence, " before its checkpoint at ",
        checkpoint->sequence(), ": records were cut off; verify the log"));
  }
  head_sequence_ = sequence;
  head_hash_ = std::move(hash);
  last_checkpoint_sequence_ = checkpoint ? checkpoint->sequence() : 0;
  durable_sequence_.store(sequence);
  head_valid_ = true;
  return absl::OkStatus();
}

absl::Status AuditLog::WriteFinalCheckpoint() {
  if (!head_valid_) LIENTHONG_RETURN_IF_ERROR(LoadHead());
  if (head_sequence_ <= last_checkpoint_sequence_) return absl::OkStatus();
  LIENTHONG_ASSIGN_OR_RETURN(
      AuditCheckpoint checkpoint,
      MakeCheckpoint(signing_key_, head_sequence_, head_hash_, absl::Now(),
                     options_.node));
  LIENTHONG_RETURN_IF_ERROR(store_->Write({}, {checkpoint}));
  last_checkpoint_sequence_ = head_sequence_;
  return absl::OkStatus();
}

}  // namespace lienthong::audit
