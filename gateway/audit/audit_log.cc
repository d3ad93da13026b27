#include "gateway/audit/audit_log.h"

#include <pthread.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gateway/audit/archive.h"
#include "gateway/audit/verify.h"
#include "gateway/log/log.h"
#include "gateway/status/status_macros.h"

namespace lienthong::audit {
namespace {

// Room kept in a write and a segment for a checkpoint frame (a checkpoint
// is ~400 bytes with a node name of up to 256).
constexpr size_t kCheckpointRoom = 2048;

absl::Status StoreUnavailable() {
  return absl::UnavailableError("audit store unavailable");
}

// Callers append calls. Every other kind states what the log itself found
// or counted, and readers take it as the log's word (a signed EPOCH_OPENED
// record even ends a broken epoch in verification), so the log writes those
// itself; a kind this code does not know is no caller's either.
absl::Status CheckCallerKind(const AuditRecord& record) {
  if (record.kind() == AuditRecord::CALL) return absl::OkStatus();
  std::string kind(AuditRecord::Kind_Name(record.kind()));
  if (kind.empty()) kind = absl::StrCat(static_cast<int>(record.kind()));
  return absl::InvalidArgumentError(absl::StrCat(
      "audit record of kind ", kind,
      " refused: only CALL records are appended; the audit log writes the "
      "other kinds itself"));
}

std::string DefaultJournalDir(const std::string& index_path) {
  const size_t slash = index_path.rfind('/');
  return slash == std::string::npos
             ? std::string("audit-journal")
             : absl::StrCat(index_path.substr(0, slash), "/audit-journal");
}

absl::Status ValidateOptions(const AuditLog::Options& options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("audit log needs an index path");
  }
  if (options.node.empty() || options.node.size() > kMaxNodeBytes) {
    return absl::InvalidArgumentError(
        "audit log needs a node name of at most 256 bytes");
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
  if (options.segment_bytes < kMinSegmentBytes) {
    return absl::InvalidArgumentError(
        "audit journal segments must be at least 1 MiB");
  }
  return absl::OkStatus();
}

struct Keys {
  SigningKey signing;
  PublicKey verifying;
  CitizenKey citizen;
  DigestKey digest;
};

absl::StatusOr<Keys> LoadKeys(const AuditLog::Options& options) {
  LIENTHONG_ASSIGN_OR_RETURN(SigningKey signing,
                             SigningKey::FromPemFile(options.signing_key_file));
  if (!options.signing_key_sha256.empty()) {
    LIENTHONG_RETURN_IF_ERROR(
        CheckPin(signing.public_key(), options.signing_key_sha256));
  }
  LIENTHONG_ASSIGN_OR_RETURN(
      CitizenKey citizen, options.hmac_key.empty()
                              ? CitizenKey::FromFile(options.hmac_key_file)
                              : CitizenKey::FromBytes(options.hmac_key));
  std::optional<DigestKey> digest;
  if (!options.digest_key.empty()) {
    LIENTHONG_ASSIGN_OR_RETURN(digest, DigestKey::FromBytes(options.digest_key));
  } else if (!options.digest_key_file.empty()) {
    LIENTHONG_ASSIGN_OR_RETURN(digest,
                               DigestKey::FromFile(options.digest_key_file));
  } else {
    digest = DigestKey::DerivedFrom(citizen);
  }
  PublicKey verifying = signing.public_key();
  return Keys{std::move(signing), std::move(verifying), std::move(citizen),
              *std::move(digest)};
}

}  // namespace

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(Options options) {
  LIENTHONG_RETURN_IF_ERROR(ValidateOptions(options));
  if (options.journal_dir.empty()) {
    options.journal_dir = DefaultJournalDir(options.path);
  }
  LIENTHONG_ASSIGN_OR_RETURN(Keys keys, LoadKeys(options));
  std::unique_ptr<AuditLog> log(new AuditLog(
      std::move(options), std::move(keys.signing), std::move(keys.verifying),
      std::move(keys.citizen), std::move(keys.digest)));
  LIENTHONG_RETURN_IF_ERROR(log->Start());
  return log;
}

absl::Status AuditLog::Check(const Options& options) {
  LIENTHONG_RETURN_IF_ERROR(ValidateOptions(options));
  LIENTHONG_RETURN_IF_ERROR(LoadKeys(options).status());
  // Another store is checked by whoever opened it.
  if (options.index_store != nullptr) return absl::OkStatus();
  absl::StatusOr<std::unique_ptr<SqliteAuditIndex>> index =
      SqliteAuditIndex::OpenReadOnly(options.path, {"", options.busy_timeout});
  if (absl::IsNotFound(index.status())) return absl::OkStatus();
  return index.status();
}

AuditLog::AuditLog(Options options, SigningKey signing_key,
                   PublicKey public_key, CitizenKey citizen_key,
                   DigestKey digest_key)
    : options_(std::move(options)),
      signing_key_(std::move(signing_key)),
      public_key_(std::move(public_key)),
      citizen_key_(std::move(citizen_key)),
      digest_key_(std::move(digest_key)) {}

absl::Status AuditLog::Start() {
  Journal::Options journal_options;
  journal_options.dir = options_.journal_dir;
  journal_options.segment_bytes = options_.segment_bytes;
  journal_options.io = options_.io;
  // Unreadable archive anchors leave the log not ready (recovery says why).
  if (auto archived = ReadArchiveAnchors(options_.journal_dir); archived.ok()) {
    journal_options.first_segment = FirstLiveSegment(*archived);
  }
  LIENTHONG_ASSIGN_OR_RETURN(journal_, Journal::Open(journal_options));
  if (options_.index_store != nullptr) {
    index_ = options_.index_store;
  } else {
    LIENTHONG_ASSIGN_OR_RETURN(
        index_, SqliteAuditIndex::Open(options_.path, {options_.journal_dir,
                                                       options_.busy_timeout}));
  }
  LIENTHONG_ASSIGN_OR_RETURN(
      anchors_, AnchorSink::Open({options_.anchor_file, options_.anchor_syslog}));

  RecoveryOptions recovery_options;
  recovery_options.journal_dir = options_.journal_dir;
  recovery_options.key = &public_key_;
  recovery_options.anchor_file = options_.anchor_file;
  LIENTHONG_ASSIGN_OR_RETURN(Recovery recovery,
                             RecoverJournal(journal_->tail(), recovery_options));
  ready_ = recovery.ready;
  if (!ready_) {
    not_ready_reason_ = recovery.reason;
    log::Error("audit log opened NOT READY; audited calls are refused",
               {{"reason", not_ready_reason_}});
  } else {
    head_ = recovery.head;
    durable_sequence_.store(head_.sequence);
    checkpoints_.store(head_.checkpoint_index);
    if (journal_->tail().torn_bytes > 0) {
      const uint64_t torn = journal_->tail().torn_bytes;
      LIENTHONG_RETURN_IF_ERROR(journal_->CutTornTail());
      torn_cut_.store(torn);
      log::Warning("audit journal: cut off the torn last write of a crash "
                   "(never acknowledged)",
                   {{"bytes", absl::StrCat(torn)}});
    }
    // A segment that ends with its seal is not written again. Any other is
    // written on, and sealed when the next write does not fit (a segment
    // left without its seal would hold back archiving for good); unless not
    // even a seal fits (only a journal damaged or made otherwise).
    sealed_ =
        recovery.segment_sealed || journal_->remaining() < kCheckpointRoom;
    AuditRecord opened;
    opened.set_kind(AuditRecord::LOG_OPENED);
    opened.set_node(options_.node);
    opened.set_details(recovery.details);
    LIENTHONG_RETURN_IF_ERROR(ToProtoTime(absl::Now(), opened.mutable_time()));
    LIENTHONG_RETURN_IF_ERROR(WriteWithCheckpoint(
        absl::MakeSpan(&opened, 1), AuditCheckpoint::OPENED));
  }

  Indexer::Options indexer_options;
  indexer_options.journal_dir = options_.journal_dir;
  indexer_options.journal_id = journal_->tail().journal_id;
  indexer_options.interval = options_.index_interval;
  // An index on another host (PostgreSQL) may be down while the journal,
  // the truth, is here.
  indexer_options.start_unreachable = options_.index_store != nullptr;
  indexer_ = std::make_unique<Indexer>(indexer_options, index_.get(), [this] {
    return Indexer::Durable{journal_->durable_end(), durable_sequence_.load()};
  });
  LIENTHONG_RETURN_IF_ERROR(indexer_->Start());
  writer_ = std::thread(&AuditLog::WriterLoop, this);
  // Named, for ps, top and profiles.
  pthread_setname_np(writer_.native_handle(), "audit-writer");
  return absl::OkStatus();
}

AuditLog::~AuditLog() { Close().IgnoreError(); }

absl::Status AuditLog::Close() {
  absl::MutexLock close_lock(&close_mu_);
  if (closed_) return close_status_;
  {
    absl::MutexLock lock(&mu_);
    closing_ = true;
  }
  if (writer_.joinable()) writer_.join();
  if (indexer_ != nullptr) indexer_->Stop();
  // Nothing more is written: no segment is made behind the caller's back.
  if (journal_ != nullptr) journal_->StopPreparing();
  closed_ = true;
  close_status_ = final_status_;
  return close_status_;
}

absl::Status AuditLog::CanAppend() const {
  if (!ready_) return absl::UnavailableError(not_ready_reason_);
  if (!healthy_.load(std::memory_order_relaxed)) {
    return absl::UnavailableError(
        "audit log unavailable: its journal cannot be written; no call is "
        "made that cannot be audited");
  }
  return absl::OkStatus();
}

uint64_t AuditLog::FreeBytes() const {
  absl::StatusOr<uint64_t> free = journal_->FreeBytes();
  return free.ok() ? *free : 0;
}

absl::Status AuditLog::Readiness() const {
  LIENTHONG_RETURN_IF_ERROR(CanAppend());
  if (options_.min_free_bytes > 0) {
    const uint64_t free = FreeBytes();
    if (free < options_.min_free_bytes) {
      return absl::UnavailableError(absl::StrCat(
          "audit disk space low: ", free >> 20, " MiB free on the journal's "
          "filesystem, below the ", options_.min_free_bytes >> 20,
          " MiB watermark (audit.min_free_mib); archive old segments "
          "(lienthong audit archive) or add space before writes fail"));
    }
  }
  if (anchor_failing_.load()) {
    return absl::UnavailableError(
        "audit anchor file cannot be written; checkpoints are not anchored "
        "outside the journal");
  }
  return absl::OkStatus();
}

AuditLog::Stats AuditLog::stats() const {
  Stats s;
  s.durable_sequence = durable_sequence_.load();
  s.indexed_sequence = indexer_ != nullptr ? indexer_->indexed_sequence() : 0;
  s.index_missing_records =
      indexer_ != nullptr ? indexer_->missing_records() : 0;
  s.checkpoints = checkpoints_.load();
  s.torn_tail_bytes_cut = torn_cut_.load();
  s.refusals_coalesced = refusals_coalesced_.load();
  s.write_failures = write_failures_.load();
  s.anchor_failures = anchor_failures_.load();
  s.writes = writes_.load();
  return s;
}

absl::StatusOr<VerifyReport> AuditLog::Verify() const {
  VerifyOptions verify;
  verify.key = &public_key_;
  verify.key_pinned = key_pinned();
  verify.anchor_file = options_.anchor_file;
  verify.live_end = [journal = journal_.get()] {
    return journal->durable_end();
  };
  return VerifyJournal(options_.journal_dir, verify);
}

absl::StatusOr<std::vector<AuditRecord>> AuditLog::QueryIndex::Query(
    const QueryFilter& filter) const {
  LIENTHONG_RETURN_IF_ERROR(log_->indexer_->CatchUp(/*for_query=*/true));
  return log_->index_->Query(filter);
}

void AuditLog::Append(AuditRecord record,
                      absl::AnyInvocable<void(absl::Status) &&> on_durable) {
  Enqueue(std::move(record),
          [on_durable = std::move(on_durable)](absl::Status status,
                                               const AuditRecord&) mutable {
            std::move(on_durable)(std::move(status));
          });
}

bool AuditLog::CountRefusal(AuditRecord& record) {
  if (!options_.coalesce_refusals || !RefusalCoalescer::IsRefusal(record)) {
    return false;
  }
  if (record.node().empty()) record.set_node(options_.node);
  absl::MutexLock lock(&mu_);
  return !closing_ && ready_ && coalescer_.Offer(record, absl::Now());
}

void AuditLog::AppendThenRelease(
    AuditRecord record, bool wait_for_durable, absl::Status answer,
    absl::AnyInvocable<void(absl::Status) &&> release) {
  if (CountRefusal(record)) {
    std::move(release)(std::move(answer));
    return;
  }
  AppendUncountedThenRelease(std::move(record), wait_for_durable,
                             std::move(answer), std::move(release));
}

void AuditLog::AppendUncountedThenRelease(
    AuditRecord record, bool wait_for_durable, absl::Status answer,
    absl::AnyInvocable<void(absl::Status) &&> release) {
  if (!wait_for_durable) {
    Append(std::move(record), [](absl::Status) {});
    std::move(release)(std::move(answer));
    return;
  }
  Append(std::move(record), [this, answer = std::move(answer),
                             release = std::move(release)](
                                absl::Status durable) mutable {
    if (durable.ok()) {
      std::move(release)(std::move(answer));
    } else if (!ready_) {
      // Why nothing is audited, and what an operator must do.
      std::move(release)(absl::UnavailableError(not_ready_reason_));
    } else {
      std::move(release)(absl::UnavailableError(kAnswerWithheld));
    }
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
  absl::Status status = CheckCallerKind(record);
  if (status.ok()) {
    status = record.has_time()
                 ? ValidateProtoTime(record.time())
                 : ToProtoTime(absl::Now(), record.mutable_time());
  }
  if (record.node().empty()) record.set_node(options_.node);
  // Room for the sequence and the previous hash the writer adds: a record
  // must fit one journal frame, and an empty segment with the checkpoints
  // that may go with it (else the writer would start segment after segment
  // without ever writing it).
  const uint64_t empty_segment = options_.segment_bytes - kSegmentHeaderSize -
                                 kFrameHeaderSize - 3 * kCheckpointRoom;
  const uint64_t limit =
      std::min<uint64_t>(kMaxFramePayload, empty_segment) - 256;
  if (status.ok() && record.ByteSizeLong() > limit) {
    status = absl::InvalidArgumentError(
        absl::StrCat("audit record of ", record.ByteSizeLong(),
                     " bytes: a record must be under ", limit, " bytes"));
  }
  if (status.ok() && !ready_) status = CanAppend();
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
    bool closing = false;
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithDeadline(absl::Condition(this, &AuditLog::HasWork),
                            coalescer_.NextEnd());
      closing = closing_;
      // Windows of refusals that ended go out as their count records.
      for (AuditRecord& summary : coalescer_.TakeEnded(
               closing ? absl::InfiniteFuture() : absl::Now())) {
        queued_records_.push_back(std::move(summary));
        queued_done_.emplace_back();  // nobody waits for a count record
      }
      refusals_coalesced_.store(coalescer_.coalesced());
      if (queued_records_.empty() && closing) break;
      records.swap(queued_records_);
      done.swap(queued_done_);
    }
    // Everything queued while the last write was in progress goes out
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
  // Never sign a head that was not verified: a log that is not ready
  // signs nothing.
  final_status_ = ready_ ? WriteWithCheckpoint({}, AuditCheckpoint::CLEAN_STOP)
                         : absl::OkStatus();
}

void AuditLog::WriteBatch(absl::Span<AuditRecord> records,
                          absl::Span<Done> done) {
  size_t written = 0;
  absl::Status status = ready_ ? absl::OkStatus() : CanAppend();
  while (status.ok() && written < records.size()) {
    absl::StatusOr<Unit> unit = Compose(records.subspan(written),
                                        AuditCheckpoint::REASON_UNSPECIFIED);
    status = unit.status();
    if (status.ok()) status = WriteUnit(*unit);
    if (!status.ok()) break;
    for (size_t i = written; i < written + unit->records; ++i) {
      if (done[i]) std::move(done[i])(absl::OkStatus(), records[i]);
    }
    written += unit->records;
  }
  if (status.ok()) return;
  if (ready_) {
    log::Error("audit journal write failed",
               {{"error", status.message()},
                {"records", absl::StrCat(records.size() - written)}});
    status = StoreUnavailable();
  }
  for (size_t i = written; i < records.size(); ++i) {
    if (done[i]) std::move(done[i])(status, records[i]);
  }
}

absl::Status AuditLog::AddCheckpoint(AuditCheckpoint::Reason reason, Unit& unit,
                                     size_t* last_frame) {
  AuditCheckpoint c;
  c.set_index(unit.head.checkpoint_index + 1);
  c.set_first_sequence(unit.head.checkpoint_sequence + 1);
  c.set_sequence(unit.head.sequence);
  c.set_hash(unit.head.hash);
  c.set_prev_checkpoint_hash(unit.head.checkpoint_hash);
  c.set_reason(reason);
  c.set_checkpoint_every(static_cast<uint32_t>(options_.checkpoint_every));
  c.set_epoch(unit.head.epoch);
  c.set_node(options_.node);
  LIENTHONG_RETURN_IF_ERROR(ToProtoTime(absl::Now(), c.mutable_time()));
  LIENTHONG_ASSIGN_OR_RETURN(c, SignCheckpoint(signing_key_, std::move(c)));
  *last_frame = unit.bytes.size();
  AppendFrame(FrameType::kCheckpoint, 0, journal_->next_write(),
              c.SerializeAsString(), &unit.bytes);
  unit.head.checkpoint_index = c.index();
  unit.head.checkpoint_hash = c.checkpoint_hash();
  unit.head.checkpoint_sequence = c.sequence();
  unit.checkpoints.push_back(std::move(c));
  return absl::OkStatus();
}

absl::StatusOr<AuditLog::Unit> AuditLog::Compose(
    absl::Span<AuditRecord> records, AuditCheckpoint::Reason reason) {
  if (sealed_) {
    // A segment that cannot be made fails writes as a failed write does.
    if (absl::Status next = journal_->NextSegment(); !next.ok()) {
      healthy_.store(false, std::memory_order_relaxed);
      ++write_failures_;
      return next;
    }
    sealed_ = false;
  }
  Unit unit;
  unit.head = head_;
  const uint64_t room = std::min<uint64_t>(journal_->remaining(), kMaxWriteBytes);
  const uint64_t every = static_cast<uint64_t>(options_.checkpoint_every);
  size_t last_frame = 0;
  std::string payload;
  for (AuditRecord& record : records) {
    record.set_sequence(unit.head.sequence + 1);
    record.set_prev_hash(unit.head.hash);
    LIENTHONG_ASSIGN_OR_RETURN(std::string hash, ComputeRecordHash(record));
    record.set_hash(hash);
    record.SerializeToString(&payload);
    const bool periodic = record.sequence() % every == 0;
    // Room for this record, its checkpoint, the unit's own and a seal.
    const uint64_t need = unit.bytes.size() + kFrameHeaderSize +
                          payload.size() + (periodic ? 3 : 2) * kCheckpointRoom;
    if (need > room) {
      if (journal_->remaining() < need) {
        LIENTHONG_RETURN_IF_ERROR(
            AddCheckpoint(AuditCheckpoint::SEGMENT_SEALED, unit, &last_frame));
        unit.sealed = true;
      }
      if (unit.bytes.empty()) {
        return absl::InternalError("an audit record does not fit in a write");
      }
      MarkEndOfWrite(last_frame, &unit.bytes);
      return unit;
    }
    last_frame = unit.bytes.size();
    AppendFrame(FrameType::kRecord, 0, journal_->next_write(), payload,
                &unit.bytes);
    unit.head.sequence = record.sequence();
    unit.head.hash = std::move(hash);
    ++unit.records;
    if (periodic) {
      LIENTHONG_RETURN_IF_ERROR(
          AddCheckpoint(AuditCheckpoint::PERIODIC, unit, &last_frame));
    }
  }
  if (reason != AuditCheckpoint::REASON_UNSPECIFIED) {
    // Room for it and a seal after it; records above made sure of that.
    const bool seal_first =
        unit.records == 0 && journal_->remaining() < 2 * kCheckpointRoom;
    LIENTHONG_RETURN_IF_ERROR(
        AddCheckpoint(seal_first ? AuditCheckpoint::SEGMENT_SEALED : reason,
                      unit, &last_frame));
    unit.sealed = seal_first;
  }
  if (unit.bytes.empty()) return absl::InternalError("an empty audit write");
  MarkEndOfWrite(last_frame, &unit.bytes);
  return unit;
}

absl::Status AuditLog::WriteUnit(Unit& unit) {
  absl::Status status = journal_->Write(unit.bytes);
  healthy_.store(status.ok(), std::memory_order_relaxed);
  if (!status.ok()) {
    ++write_failures_;
    return status;
  }
  ++writes_;
  head_ = unit.head;
  sealed_ = unit.sealed;
  durable_sequence_.store(head_.sequence);
  if (!unit.checkpoints.empty()) {
    checkpoints_.store(head_.checkpoint_index);
    absl::Status anchored = anchors_->Publish(unit.checkpoints);
    if (!anchored.ok()) {
      ++anchor_failures_;
      log::Error("audit anchor write failed", {{"error", anchored.message()}});
    }
    anchor_failing_.store(!anchored.ok());
  }
  return absl::OkStatus();
}

absl::Status AuditLog::WriteWithCheckpoint(absl::Span<AuditRecord> records,
                                           AuditCheckpoint::Reason reason) {
  // A segment too full for the whole write is sealed first.
  for (int attempt = 0; attempt < 2; ++attempt) {
    LIENTHONG_ASSIGN_OR_RETURN(Unit unit, Compose(records, reason));
    const bool complete = unit.records == records.size() && !unit.sealed;
    if (!complete && unit.records > 0) {
      return absl::InternalError("a checkpoint write was split");
    }
    LIENTHONG_RETURN_IF_ERROR(WriteUnit(unit));
    if (complete) return absl::OkStatus();
  }
  return absl::InternalError("a checkpoint write does not fit a segment");
}

}  // namespace lienthong::audit
