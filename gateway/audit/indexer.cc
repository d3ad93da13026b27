#include "gateway/audit/indexer.h"

#include <pthread.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "gateway/audit/archive.h"
#include "gateway/audit/record.h"
#include "gateway/log/log.h"
#include "gateway/status/status_macros.h"

namespace lienthong::audit {
namespace {

// Returns true when the frame at `at` is the record `sequence` with `hash`.
bool RecordIsAt(const std::string& dir, const JournalPosition& at,
                uint64_t sequence, const std::string& hash) {
  absl::StatusOr<MappedSegment> segment =
      MappedSegment::Open(absl::StrCat(dir, "/", SegmentFileName(at.segment)));
  if (!segment.ok()) return false;
  bool found = false;
  segment->Scan(at.offset, 0, [&](const Frame& frame) {
    AuditRecord record;
    found = frame.offset == at.offset && frame.type == FrameType::kRecord &&
            record.ParseFromArray(frame.payload.data(),
                                  static_cast<int>(frame.payload.size())) &&
            record.sequence() == sequence && record.hash() == hash;
    return false;
  });
  return found;
}

bool SegmentExists(const std::string& dir, uint64_t number) {
  return MappedSegment::Open(absl::StrCat(dir, "/", SegmentFileName(number)))
      .ok();
}

}  // namespace

Indexer::Indexer(Options options, IndexStore* index,
                 std::function<Durable()> durable)
    : options_(std::move(options)), index_(index), durable_(std::move(durable)) {}

Indexer::~Indexer() { Stop(); }

absl::Status Indexer::Start() {
  {
    absl::MutexLock lock(&mu_);
    absl::Status prepared = Prepare();
    if (!prepared.ok()) {
      if (!options_.start_unreachable || !absl::IsUnavailable(prepared)) {
        return prepared;
      }
      log::Warning("audit index not reachable at start; indexed when it is",
                   {{"index", index_->Describe()},
                    {"error", prepared.message()}});
    }
  }
  thread_ = std::thread([this] { Loop(); });
  pthread_setname_np(thread_.native_handle(), "audit-indexer");
  return absl::OkStatus();
}

void Indexer::Stop() {
  {
    absl::MutexLock lock(&stop_mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

absl::Status Indexer::Prepare() {
  if (prepared_) return absl::OkStatus();
  const std::string id = ToHex(options_.journal_id);
  IndexState fresh;
  fresh.journal_id = id;
  LIENTHONG_RETURN_IF_ERROR(index_->ClaimFor(id));
  LIENTHONG_ASSIGN_OR_RETURN(std::optional<IndexState> state,
                             index_->LoadState());
  std::string rebuild;
  if (!state.has_value()) {
    LIENTHONG_ASSIGN_OR_RETURN(uint64_t rows, index_->CountRecords());
    if (rows > 0) rebuild = "it has records but no state";
  } else if (state->journal_id != id) {
    rebuild = "it indexes another journal";
  } else if (durable_().end < state->next &&
             SegmentExists(options_.journal_dir, state->next.segment)) {
    rebuild = "it is ahead of the journal";
  } else if (state->sequence > 0 &&
             SegmentExists(options_.journal_dir, state->last_record.segment) &&
             !RecordIsAt(options_.journal_dir, state->last_record,
                         state->sequence, state->hash)) {
    rebuild = "its last record is not the journal's";
  }
  if (!rebuild.empty()) {
    log::Warning("audit index rebuilt from the journal",
                 {{"index", index_->Describe()}, {"reason", rebuild}});
    LIENTHONG_RETURN_IF_ERROR(index_->Clear());
    state.reset();
  }
  state_ = state.has_value() ? *std::move(state) : fresh;
  indexed_sequence_.store(state_.sequence);
  prepared_ = true;
  return absl::OkStatus();
}

absl::Status Indexer::IndexUpTo(JournalPosition until) {
  // Entries kept past a batch: a rebuild's batches need not stay in memory.
  constexpr size_t kKeptEntries = 8192;
  size_t used = 0;
  IndexState state = state_;
  absl::Status status;
  auto flush = [&]() -> absl::Status {
    if (used == 0 && state.next == state_.next) return absl::OkStatus();
    LIENTHONG_RETURN_IF_ERROR(
        index_->Add(absl::MakeConstSpan(entries_.data(), used), state));
    used = 0;
    state_ = state;
    indexed_sequence_.store(state_.sequence);
    if (options_.progress) options_.progress(state_.next, state_.sequence);
    return absl::OkStatus();
  };
  // A damaged frame hides the rest of its segment: its records cannot be
  // indexed, and queries will not find them. Said once per place, not
  // silently skipped (verification tells what is affected).
  JournalScanHooks hooks;
  hooks.on_damage = [this](const JournalPosition& at,
                           const std::string&
                               why) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (reported_damage_.has_value() && *reported_damage_ == at) return;
    reported_damage_ = at;
    log::Error(
        "audit journal damaged: the records after this place in its segment "
        "are not indexed, and queries do not find them; run `lienthong audit "
        "verify --journal`",
        {{"segment", absl::StrCat(at.segment)},
         {"offset", absl::StrCat(at.offset)},
         {"damage", why}});
  };
  absl::Status read = ReadJournal(
      options_.journal_dir, state_.next, until,
      [&](const JournalPosition& at, const Frame& frame) {
        if (used == entries_.size()) entries_.emplace_back();
        IndexEntry& entry = entries_[used];
        entry.is_checkpoint = frame.type == FrameType::kCheckpoint;
        const int size = static_cast<int>(frame.payload.size());
        const bool parsed =
            entry.is_checkpoint
                ? entry.checkpoint.ParseFromArray(frame.payload.data(), size)
                : entry.record.ParseFromArray(frame.payload.data(), size);
        state.next = {at.segment, at.offset + frame.size};
        // What cannot be parsed is left to verification to report.
        if (parsed) {
          ++used;
          entry.at = at;
          if (entry.is_checkpoint) {
            entry.bytes.assign(frame.payload.data(), frame.payload.size());
          } else {
            if (entry.record.sequence() > state.sequence + 1) {
              NoteMissing(state.sequence + 1, entry.record.sequence() - 1, at);
            }
            state.sequence = entry.record.sequence();
            state.hash = entry.record.hash();
            state.last_record = at;
          }
        }
        if (used >= options_.batch) status = flush();
        return status.ok();
      },
      hooks);
  if (read.ok() && status.ok()) status = flush();
  if (entries_.size() > kKeptEntries) entries_.resize(kKeptEntries);
  return read.ok() ? status : read;
}

void Indexer::NoteMissing(uint64_t first, uint64_t last,
                          const JournalPosition& at) {
  // Archived records left the journal and the index together.
  absl::StatusOr<std::vector<lienthong::v1::AuditArchiveAnchor>> archived =
      ReadArchiveAnchors(options_.journal_dir);
  if (archived.ok() && !archived->empty()) {
    first = std::max(first, archived->back().manifest().last_sequence() + 1);
  }
  first = std::max(first, reported_missing_ + 1);
  if (first > last) return;
  reported_missing_ = last;
  missing_records_.fetch_add(last - first + 1);
  log::Error(
      "audit journal is missing records: they are not indexed, and queries "
      "do not find them; run `lienthong audit verify --journal`",
      {{"first_missing", absl::StrCat(first)},
       {"last_missing", absl::StrCat(last)},
       {"next_found_segment", absl::StrCat(at.segment)}});
}

absl::Status Indexer::CatchUp(bool for_query) {
  const Durable durable = durable_();
  absl::MutexLock lock(&mu_);
  LIENTHONG_RETURN_IF_ERROR(Prepare());
  if (for_query && durable.sequence > state_.sequence + options_.max_query_backlog) {
    return absl::UnavailableError(absl::StrCat(
        "the audit index is being rebuilt (indexed up to record ",
        state_.sequence, " of ", durable.sequence, "); try again shortly"));
  }
  return IndexUpTo(durable.end);
}

absl::Status Indexer::RunOnce() {
  absl::MutexLock lock(&mu_);
  LIENTHONG_RETURN_IF_ERROR(Prepare());
  return IndexUpTo(JournalPosition{});
}

void Indexer::Loop() {
  absl::Status last = absl::OkStatus();
  while (true) {
    {
      absl::MutexLock lock(&stop_mu_);
      if (stop_mu_.AwaitWithTimeout(absl::Condition(&stopping_),
                                    options_.interval)) {
        return;
      }
    }
    absl::Status status = CatchUp(/*for_query=*/false);
    if (!status.ok() && status.message() != last.message()) {
      log::Error("audit indexer failed", {{"error", status.message()}});
    }
    last = status;
  }
}

}  // namespace lienthong::audit
