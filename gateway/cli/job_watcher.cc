// Following a sync job to its end (declared in job_watcher.h).
#include "gateway/cli/job_watcher.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gateway/cli/connection.h"
#include "gateway/cli/output.h"
#include "gateway/cli/progress.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpcpp/client_context.h"

namespace lienthong::cli {
namespace {

using ::lienthong::v1::GetSyncJobRequest;
using ::lienthong::v1::PortalSyncService;
using ::lienthong::v1::SyncJob;
using Clock = std::chrono::steady_clock;

// A longer --wait is taken as this long: the clocks' time points are 64-bit
// nanoseconds (about 292 years from their epoch), and now + a longer wait
// would overflow them.
constexpr absl::Duration kLongestWait = absl::Hours(100 * 365 * 24);

ProgressCounts Counts(const SyncJob& job) {
  return {job.delivered(), job.dead_lettered(), job.total()};
}

absl::Duration Since(Clock::time_point start) {
  return absl::FromChrono(Clock::now() - start);
}

std::chrono::system_clock::time_point SystemDeadline(absl::Duration from_now) {
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(
             absl::ToChronoNanoseconds(from_now));
}

enum class WatchEnd { kEnded, kWaitRanOut, kFailed };

// Follows one job with WatchSyncJob until it ends, showing progress on
// `bar` (none in JSON mode). Survives a broken stream (the gateway
// restarted) and a silent one (idle_timeout), see WatchOptions.
class JobWatcher {
 public:
  JobWatcher(PortalSyncService::Stub& stub, const CommonOptions& options,
             const WatchOptions& watch, ProgressBar* bar, std::ostream& err)
      : stub_(stub), options_(options), watch_(watch), bar_(bar), err_(err) {}

  // `job` is the state known so far (at least job_id) and becomes the last
  // state seen. On kFailed the error has been reported and `code` says how.
  WatchEnd Run(SyncJob& job, Clock::time_point start, ExitCode& code) {
    std::optional<Clock::time_point> wait_until;
    if (watch_.wait > absl::ZeroDuration()) {
      wait_until = Clock::now() + absl::ToChronoNanoseconds(
                                      std::min(watch_.wait, kLongestWait));
    }
    int failures = 0;
    while (true) {
      grpc::ClientContext context;
      if (wait_until.has_value()) {
        context.set_deadline(
            SystemDeadline(absl::FromChrono(*wait_until - Clock::now())));
      }
      bool idle = false;
      bool got_message = false;
      const SyncJob before = job;
      grpc::Status status = ReadStream(context, job, start, idle, got_message);
      if (HasEnded(job)) return WatchEnd::kEnded;
      // The stream's only deadline is --wait (gRPC's clock may call it a
      // hair before ours does).
      if (wait_until.has_value() &&
          (Clock::now() >= *wait_until ||
           status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)) {
        return WatchEnd::kWaitRanOut;
      }
      // Only progress starts the count again: the gateway sends the job's
      // state first on every stream, so a stream that breaks right after
      // has brought nothing new.
      if (got_message &&
          !google::protobuf::util::MessageDifferencer::Equals(before, job)) {
        failures = 0;
      }
      if (idle || status.ok()) {
        // Silent for too long, or closed before the end: ask directly.
        grpc::Status polled = Poll(job);
        if (polled.ok() && HasEnded(job)) return WatchEnd::kEnded;
        // Silent but answering: open the stream again.
        if (polled.ok() && idle) continue;
        if (!polled.ok()) status = polled;
      }
      if (GiveUp(status, ++failures, job, code)) return WatchEnd::kFailed;
      BackOff(status, failures, wait_until);
    }
  }

 private:
  // Returns true, after reporting why on err_ and setting `code`, when the
  // watching stops after `status` and `failures` failures in a row. Worth
  // another try: the gateway restarting (UNAVAILABLE), too slow to answer
  // the poll, or closing the stream early.
  bool GiveUp(const grpc::Status& status, int failures, const SyncJob& job,
              ExitCode& code) {
    const bool retryable =
        status.ok() || status.error_code() == grpc::StatusCode::UNAVAILABLE ||
        status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
    if (!retryable) {
      if (bar_ != nullptr) bar_->Break();
      code = ReportRpcError(status, err_);
      if (status.error_code() != grpc::StatusCode::NOT_FOUND) {
        err_ << "lienthong: the job goes on; follow it with "
             << FollowHint(job.job_id()) << "\n";
      }
      return true;
    }
    if (failures <= watch_.max_reconnects) return false;
    if (bar_ != nullptr) bar_->Break();
    code = status.ok() ? ExitCode::kOther : ReportRpcError(status, err_);
    if (status.ok()) {
      err_ << "lienthong: the gateway keeps closing the progress stream "
              "before the job ends\n";
    }
    err_ << "lienthong: gave up watching; the job goes on: follow it "
            "with "
         << FollowHint(job.job_id()) << "\n";
    return true;
  }

  // Says that the stream was lost (`status`) and sleeps before the next
  // try: ReconnectDelay, never past `wait_until`.
  void BackOff(const grpc::Status& status, int failures,
               const std::optional<Clock::time_point>& wait_until) {
    absl::Duration backoff = ReconnectDelay(watch_.reconnect_backoff, failures);
    if (wait_until.has_value()) {
      backoff = std::min(backoff, absl::FromChrono(*wait_until - Clock::now()));
    }
    if (bar_ != nullptr) bar_->Break();
    err_ << LostStreamLine("the progress stream", status, backoff);
    if (backoff > absl::ZeroDuration()) {
      std::this_thread::sleep_for(absl::ToChronoNanoseconds(backoff));
    }
  }

  // Shared between the reading thread and the ticker.
  struct Shared {
    std::mutex mu;
    std::condition_variable wake;
    bool stop = false;
    bool idle = false;
    SyncJob latest;
    Clock::time_point last_message;
  };

  void Show(const SyncJob& job, Clock::time_point start) {
    if (bar_ == nullptr) return;
    bar_->Show(Counts(job), FormatJobProgress(job, Since(start)), absl::Now());
  }

  // One WatchSyncJob stream, read until the job ends or the stream does.
  // A ticker thread refreshes the display and cancels the stream when it is
  // silent for idle_timeout (`idle` is then set).
  grpc::Status ReadStream(grpc::ClientContext& context, SyncJob& job,
                          Clock::time_point start, bool& idle,
                          bool& got_message) {
    Shared shared;
    shared.latest = job;
    shared.last_message = Clock::now();
    std::thread ticker([&] {
      std::unique_lock<std::mutex> lock(shared.mu);
      while (!shared.stop) {
        shared.wake.wait_for(lock, absl::ToChronoNanoseconds(watch_.tick));
        if (shared.stop) break;
        Show(shared.latest, start);
        if (!shared.idle &&
            Clock::now() - shared.last_message >=
                absl::ToChronoNanoseconds(watch_.idle_timeout)) {
          shared.idle = true;
          context.TryCancel();
        }
      }
    });

    GetSyncJobRequest request;
    request.set_job_id(job.job_id());
    std::unique_ptr<grpc::ClientReader<SyncJob>> reader =
        stub_.WatchSyncJob(&context, request);
    SyncJob message;
    bool ended = false;
    while (!ended && reader->Read(&message)) {
      std::lock_guard<std::mutex> lock(shared.mu);
      got_message = true;
      shared.latest = message;
      shared.last_message = Clock::now();
      ended = HasEnded(message);
      if (!ended) Show(message, start);
    }
    // The last message was the end: do not wait for the server to close.
    if (ended) context.TryCancel();
    grpc::Status status = reader->Finish();
    {
      std::lock_guard<std::mutex> lock(shared.mu);
      shared.stop = true;
      idle = shared.idle && !ended;
      job = shared.latest;
    }
    shared.wake.notify_all();
    ticker.join();
    return ended ? grpc::Status::OK : status;
  }

  grpc::Status Poll(SyncJob& job) {
    grpc::ClientContext context;
    SetDeadline(options_.connection, context);
    GetSyncJobRequest request;
    request.set_job_id(job.job_id());
    SyncJob answer;
    grpc::Status status = stub_.GetSyncJob(&context, request, &answer);
    if (status.ok()) job = answer;
    return status;
  }

  PortalSyncService::Stub& stub_;
  const CommonOptions& options_;
  const WatchOptions& watch_;
  ProgressBar* const bar_;
  std::ostream& err_;
};

// Prints how the job ended; returns kOk or kExitJobHasDeadLetters.
ExitCode ReportJobEnd(const SyncJob& job, absl::Duration elapsed, bool json,
                      std::ostream& out, std::ostream& err) {
  if (json) {
    if (ExitCode code = PrintJson(job, out, err); code != ExitCode::kOk) {
      return code;
    }
  }
  if (job.state() == SyncJob::DONE) {
    if (!json) {
      out << "Done: the portal acknowledged "
          << Plural(job.delivered(), "change", "changes") << " in "
          << FormatElapsed(elapsed) << ".\n";
    }
    return ExitCode::kOk;
  }
  if (!json) {
    out << "Done with errors: " << job.delivered() << " delivered, "
        << job.dead_lettered() << " dead-lettered, in "
        << FormatElapsed(elapsed) << ".\n";
  }
  err << "lienthong: the portal refused "
      << Plural(job.dead_lettered(), "change", "changes")
      << " for good: see why with 'lienthong sync dead-letters', and requeue "
         "with 'lienthong sync dead-letters --retry' once the cause is "
         "fixed\n";
  return kExitJobHasDeadLetters;
}

}  // namespace

ExitCode FollowJob(PortalSyncService::Stub& stub, SyncJob job,
                   const CommonOptions& options, const WatchOptions& watch,
                   std::ostream& out, std::ostream& err) {
  const Clock::time_point start = Clock::now();
  std::unique_ptr<ProgressBar> bar;
  if (!options.json) {
    bar = std::make_unique<ProgressBar>(out,
                                        watch.terminal
                                            ? ProgressBar::Mode::kTerminal
                                            : ProgressBar::Mode::kPlain,
                                        watch.plain_interval);
    out << "Watching until the portal has acknowledged every change "
           "(Ctrl-C stops watching, not the job).\n";
    bar->Show(Counts(job), FormatJobProgress(job, absl::ZeroDuration()),
              absl::Now());
  }
  JobWatcher watcher(stub, options, watch, bar.get(), err);
  ExitCode code = ExitCode::kOk;
  switch (watcher.Run(job, start, code)) {
    case WatchEnd::kEnded:
      if (bar != nullptr) {
        bar->Finish(Counts(job), FormatJobProgress(job, Since(start)));
      }
      return ReportJobEnd(job, Since(start), options.json, out, err);
    case WatchEnd::kWaitRanOut:
      if (bar != nullptr) bar->Break();
      if (options.json) PrintJson(job, out, err);
      err << "lienthong: still " << JobStateName(job.state())
          << " after --wait " << FormatElapsed(watch.wait)
          << "; the job goes on: follow it with " << FollowHint(job.job_id())
          << "\n";
      return ExitCode::kDeadlineExceeded;
    case WatchEnd::kFailed:
      return code;
  }
  return ExitCode::kOther;
}

bool HasEnded(const SyncJob& job) {
  return job.state() == SyncJob::DONE ||
         job.state() == SyncJob::DONE_WITH_ERRORS;
}

std::string JobStateName(SyncJob::State state) {
  if (SyncJob::State_IsValid(state)) return SyncJob::State_Name(state);
  return absl::StrCat("STATE_", static_cast<int>(state));
}

std::string FollowHint(const std::string& job_id) {
  return absl::StrCat("'lienthong sync status --job ", OneLine(job_id),
                      " --watch'");
}

}  // namespace lienthong::cli
