#include "gateway/sync/catalogue_pull.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "adapters/common/retriable.h"
#include "gateway/log/log.h"

namespace lienthong::sync {
namespace {

using lienthong::v1::CataloguePull;
using lienthong::v1::NationalProcedure;

// A read that failed is tried again this soon (or at the refresh, if
// sooner), so a portal down at start does not leave the checks off a day.
constexpr absl::Duration kRetryAfterFailure = absl::Minutes(5);

google::protobuf::Timestamp Proto(absl::Time t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  return ts;
}

}  // namespace

// What the puller's thread and the adapter's callbacks share. Callbacks
// hold it, so a late answer after the puller is gone lands harmlessly.
struct CataloguePuller::Shared {
  adapters::PortalAdapter* portal = nullptr;
  absl::Duration call_timeout;
  int concurrent = 1;

  absl::Mutex mu;
  bool stop ABSL_GUARDED_BY(mu) = false;
  bool running ABSL_GUARDED_BY(mu) = false;
  // Every answer of the read under way is in: the puller's thread stores it.
  bool complete ABSL_GUARDED_BY(mu) = false;
  // Bumped by each read; answers of an earlier one are ignored.
  int64_t generation ABSL_GUARDED_BY(mu) = 0;
  bool has_pull ABSL_GUARDED_BY(mu) = false;
  CataloguePull pull ABSL_GUARDED_BY(mu);
  std::string failure ABSL_GUARDED_BY(mu);
  std::vector<NationalProcedure> procedures ABSL_GUARDED_BY(mu);
  size_t next ABSL_GUARDED_BY(mu) = 0;
  int in_flight ABSL_GUARDED_BY(mu) = 0;
  // Calls into `portal` under way, of any read: raised under mu together
  // with the check that the read is Current(), lowered once the call
  // returns. Stop() waits for none, so no call outlives it.
  int calls ABSL_GUARDED_BY(mu) = 0;
  // When the puller's thread starts the next read by itself.
  absl::Time next_read ABSL_GUARDED_BY(mu) = absl::InfiniteFuture();

  // The puller's thread has something to do.
  bool Due() const ABSL_SHARED_LOCKS_REQUIRED(mu) {
    return stop || complete || (!running && absl::Now() >= next_read);
  }

  // The read `read_generation` may go on: not stopped, not abandoned.
  bool Current(int64_t read_generation) const ABSL_SHARED_LOCKS_REQUIRED(mu) {
    return !stop && read_generation == generation;
  }

  // No call into `portal` is under way.
  bool Quiet() const ABSL_SHARED_LOCKS_REQUIRED(mu) { return calls == 0; }

  // A call counted in `calls` has returned.
  void CallReturned() ABSL_LOCKS_EXCLUDED(mu) {
    absl::MutexLock lock(&mu);
    --calls;
  }

  adapters::CallContext Context() const {
    adapters::CallContext context;
    context.deadline = absl::Now() + call_timeout;
    context.caller = "catalogue-pull";
    return context;
  }
};

CataloguePuller::CataloguePuller(Outbox* outbox,
                                 adapters::PortalAdapter* portal,
                                 NationalCatalogue* catalogue,
                                 CataloguePullerOptions options)
    : outbox_(outbox),
      catalogue_(catalogue),
      options_(options),
      shared_(std::make_shared<Shared>()) {
  shared_->portal = portal;
  shared_->call_timeout = options_.call_timeout;
  shared_->concurrent = std::max(1, options_.concurrent_reads);
}

CataloguePuller::~CataloguePuller() { Stop(); }

absl::Status CataloguePuller::LoadStored() {
  absl::StatusOr<Outbox::NationalCatalogueRows> rows =
      outbox_->ReadNationalCatalogue();
  if (!rows.ok()) return rows.status();
  if (rows->pulled_at.has_value() && !rows->codes.empty()) {
    catalogue_->Replace(rows->codes, *rows->pulled_at);
  }
  return absl::OkStatus();
}

void CataloguePuller::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void CataloguePuller::Stop() {
  {
    absl::MutexLock lock(&shared_->mu);
    shared_->stop = true;
    ++shared_->generation;  // answers still out change nothing
    // A callback that found its read current just before may be calling the
    // adapter: once that call returns, nothing reaches the adapter again.
    shared_->mu.Await(absl::Condition(shared_.get(), &Shared::Quiet));
  }
  if (thread_.joinable()) thread_.join();
}

lienthong::v1::CataloguePull CataloguePuller::PullNow() {
  auto [pull, started] = Begin(shared_);
  pull.set_started_now(started);
  if (std::optional<absl::Time> at = catalogue_->pulled_at()) {
    *pull.mutable_catalogue_pulled() = Proto(*at);
  }
  pull.set_catalogue_procedures(static_cast<int32_t>(catalogue_->size()));
  return pull;
}

std::optional<lienthong::v1::CataloguePull> CataloguePuller::Latest() const {
  CataloguePull pull;
  {
    absl::MutexLock lock(&shared_->mu);
    if (!shared_->has_pull) return std::nullopt;
    pull = shared_->pull;
  }
  if (std::optional<absl::Time> at = catalogue_->pulled_at()) {
    *pull.mutable_catalogue_pulled() = Proto(*at);
  }
  pull.set_catalogue_procedures(static_cast<int32_t>(catalogue_->size()));
  return pull;
}

std::pair<CataloguePull, bool> CataloguePuller::Begin(
    const std::shared_ptr<Shared>& shared) {
  int64_t generation = 0;
  {
    absl::MutexLock lock(&shared->mu);
    if (shared->running || shared->stop) return {shared->pull, false};
    shared->running = true;
    // The read's end sets the next one; a time already past would have the
    // thread find nothing due, and wake again at once, until then.
    shared->next_read = absl::InfiniteFuture();
    shared->complete = false;
    generation = ++shared->generation;
    shared->has_pull = true;
    shared->pull = CataloguePull();
    shared->pull.set_state(CataloguePull::RUNNING);
    *shared->pull.mutable_started() = Proto(absl::Now());
    shared->failure.clear();
    shared->procedures.clear();
    shared->next = 0;
    shared->in_flight = 0;
    ++shared->calls;  // the list's, below
  }
  log::Info("portal sync: reading the national procedure database");
  CataloguePull state;
  {
    absl::MutexLock lock(&shared->mu);
    state = shared->pull;
  }
  shared->portal->ListNationalProcedures(
      shared->Context(),
      [shared, generation](
          absl::StatusOr<adapters::Reply<std::vector<NationalProcedure>>>
              answer) mutable {
        CataloguePuller::OnList(shared, generation, std::move(answer));
      });
  shared->CallReturned();
  return {state, true};
}

void CataloguePuller::OnList(
    const std::shared_ptr<Shared>& shared, int64_t generation,
    absl::StatusOr<adapters::Reply<std::vector<NationalProcedure>>> answer) {
  {
    absl::MutexLock lock(&shared->mu);
    if (!shared->Current(generation)) return;
    if (!answer.ok() || answer->value.empty()) {
      shared->failure =
          answer.ok() ? "the portal listed no procedures"
                      : absl::StrCat("the list could not be read: ",
                                     answer.status().message());
      shared->complete = true;
      return;
    }
    shared->procedures = std::move(answer->value);
    shared->pull.set_listed(static_cast<int32_t>(shared->procedures.size()));
  }
  ReadMore(shared, generation);
}

void CataloguePuller::ReadMore(const std::shared_ptr<Shared>& shared,
                               int64_t generation) {
  struct Read {
    size_t index;
    std::string code;
  };
  std::vector<Read> reads;
  {
    absl::MutexLock lock(&shared->mu);
    if (!shared->Current(generation)) return;
    while (shared->in_flight < shared->concurrent &&
           shared->next < shared->procedures.size()) {
      const size_t index = shared->next++;
      ++shared->in_flight;
      reads.push_back({index, shared->procedures[index].code()});
    }
    if (shared->in_flight == 0 && shared->next >= shared->procedures.size()) {
      shared->complete = true;
    }
  }
  for (Read& read : reads) {
    ReadOne(shared, generation, read.index, std::move(read.code), 1);
  }
}

void CataloguePuller::ReadOne(const std::shared_ptr<Shared>& shared,
                              int64_t generation, size_t index,
                              std::string code, int attempt) {
  {
    absl::MutexLock lock(&shared->mu);
    // Stopped, or the read abandoned: nothing more goes out.
    if (!shared->Current(generation)) return;
    ++shared->calls;
  }
  const std::string asked = code;
  shared->portal->GetNationalProcedure(
      asked, shared->Context(),
      [shared, generation, index, code = std::move(code), attempt](
          absl::StatusOr<adapters::Reply<NationalProcedure>> answer) mutable {
        // A second attempt when the portal fails retriably (ReadOne drops
        // it if the read has been stopped or abandoned meanwhile).
        if (!answer.ok() && adapters::IsRetriable(answer.status()) &&
            attempt < 2) {
          ReadOne(shared, generation, index, std::move(code), attempt + 1);
          return;
        }
        {
          absl::MutexLock lock(&shared->mu);
          if (!shared->Current(generation)) return;
          --shared->in_flight;
          if (answer.ok() && answer->value.code() == code) {
            shared->procedures[index] = std::move(answer->value);
            shared->pull.set_detailed(shared->pull.detailed() + 1);
          } else {
            shared->pull.set_detail_failures(shared->pull.detail_failures() +
                                             1);
          }
        }
        ReadMore(shared, generation);
      });
  shared->CallReturned();
}

void CataloguePuller::Loop() {
  std::optional<absl::Time> stored = catalogue_->pulled_at();
  {
    absl::MutexLock lock(&shared_->mu);
    if (!shared_->running) {  // else a PullNow began it: its end sets it
      shared_->next_read =
          stored.has_value() ? *stored + options_.refresh : absl::Now();
    }
  }
  for (;;) {
    bool complete = false;
    {
      absl::MutexLock lock(&shared_->mu);
      shared_->mu.AwaitWithDeadline(
          absl::Condition(shared_.get(), &Shared::Due), shared_->next_read);
      if (shared_->stop) return;
      complete = shared_->complete;
    }
    if (complete) {
      const bool done = Finish();
      absl::MutexLock lock(&shared_->mu);
      shared_->next_read =
          absl::Now() + (done ? options_.refresh
                              : std::min(options_.refresh, kRetryAfterFailure));
      continue;
    }
    bool due = false;
    {
      absl::MutexLock lock(&shared_->mu);
      due = !shared_->running && absl::Now() >= shared_->next_read;
    }
    if (due) Begin(shared_);
  }
}

bool CataloguePuller::Finish() {
  std::vector<NationalProcedure> procedures;
  std::string failure;
  {
    absl::MutexLock lock(&shared_->mu);
    procedures = std::move(shared_->procedures);
    shared_->procedures.clear();
    failure = shared_->failure;
  }
  const absl::Time now = absl::Now();
  if (failure.empty()) {
    if (absl::Status s = outbox_->ReplaceNationalCatalogue(procedures, now);
        !s.ok()) {
      failure = absl::StrCat("the store could not be written: ", s.message());
    }
  }
  if (failure.empty()) {
    std::vector<std::string> codes;
    codes.reserve(procedures.size());
    for (const NationalProcedure& p : procedures) codes.push_back(p.code());
    catalogue_->Replace(codes, now);
  }
  CataloguePull pull;
  {
    absl::MutexLock lock(&shared_->mu);
    shared_->running = false;
    shared_->complete = false;
    shared_->pull.set_state(failure.empty() ? CataloguePull::DONE
                                            : CataloguePull::FAILED);
    shared_->pull.set_error(failure);
    *shared_->pull.mutable_finished() = Proto(now);
    pull = shared_->pull;
  }
  if (failure.empty()) {
    log::Info("portal sync: national procedure database read",
              {{"procedures", absl::StrCat(procedures.size())},
               {"detailed", absl::StrCat(pull.detailed())},
               {"detail_failures", absl::StrCat(pull.detail_failures())}});
  } else {
    log::Warning("portal sync: reading the national procedure database failed; "
                 "the previous catalogue stays in use",
                 {{"reason", failure}});
  }
  return failure.empty();
}

}  // namespace lienthong::sync
