// Inbox: the orchestrator's event queue, shared (by std::shared_ptr) with
// the callbacks of agency calls, audit writes and timers, so that a late
// callback after the orchestrator stopped finds a closed inbox rather than
// a destroyed object.
#ifndef LIENTHONG_GATEWAY_BUNDLE_INBOX_H_
#define LIENTHONG_GATEWAY_BUNDLE_INBOX_H_

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "adapters/adapter.h"
#include "lienthong/v1/bundle.pb.h"

namespace lienthong::bundle {

using BundleDone =
    absl::AnyInvocable<void(absl::StatusOr<lienthong::v1::Bundle>) &&>;

// StartBundle, checked by the service.
struct StartCommand {
  lienthong::v1::StartBundleRequest request;
  // The request's data (bundle_data.h).
  std::map<std::string, std::string> data;
  std::string caller;
  std::string caller_cert_sha256;
  // Hex SHA-256 of the request, to recognise a repeat.
  std::string request_sha256;
};

// ResolveStep, checked by the service (corrections by CheckCorrection).
struct ResolveCommand {
  std::string bundle_id;
  std::string step;
  bool stop = false;
  std::string reason;
  std::map<std::string, std::string> corrections;
};

// What the engine thread acts on.
struct Event {
  enum class Kind {
    kStart,           // StartBundle
    kResolve,         // ResolveStep
    kAnswer,          // an agency call ended (audited)
    kRetryDue,        // a step's wait after a transient failure ended
    kProgressQueued,  // progress updates were handed to the portal sync
    kPushDue,         // try handing progress over again
    kRecover,         // after loading: resume every bundle
  };
  Kind kind = Kind::kRecover;
  std::string bundle_id;
  int step = -1;
  int generation = 0;
  // kStart, kResolve: the request, answered once the change is durable.
  std::shared_ptr<const StartCommand> start;
  std::shared_ptr<const ResolveCommand> resolve;
  BundleDone done;
  // kAnswer.
  absl::StatusOr<adapters::StepOutcome> outcome = absl::UnknownError("");
  int attempts = 0;
  absl::Status audited;
  // kProgressQueued: progress[0 .. queued) handed over; those refused for
  // good, by index, with the reason.
  int queued = 0;
  std::map<int, std::string> refused;
};

class Inbox {
 public:
  // Adds `event`, moving from it; false, leaving it as it was, once closed.
  // Thread-safe.
  bool Post(Event&& event) {
    absl::MutexLock lock(&mu_);
    if (closed_) return false;
    events_.push_back(std::move(event));
    return true;
  }

  // Waits until there are events or the inbox closes, at most `max`, and
  // returns them all (empty on timeout or once closed). Thread-safe.
  std::vector<Event> Take(absl::Duration max) {
    absl::MutexLock lock(&mu_);
    auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return closed_ || !events_.empty();
    };
    mu_.AwaitWithTimeout(absl::Condition(&ready), max);
    std::vector<Event> taken;
    if (!closed_) taken.swap(events_);
    return taken;
  }

  bool closed() const {
    absl::MutexLock lock(&mu_);
    return closed_;
  }

  // Drops what is queued and refuses what comes. Returns the commands that
  // were waiting, so that their callers can be answered. Thread-safe.
  std::vector<Event> Close() {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    std::vector<Event> left;
    left.swap(events_);
    return left;
  }

  // A callback that will touch what the orchestrator does not own (the
  // audit log) calls Enter first and Leave after; Enter is false once
  // closed. Thread-safe.
  bool Enter() {
    absl::MutexLock lock(&mu_);
    if (closed_) return false;
    ++entered_;
    return true;
  }
  void Leave() {
    absl::MutexLock lock(&mu_);
    --entered_;
  }

  // Calls to agencies under way.
  void CallStarted() {
    absl::MutexLock lock(&mu_);
    ++calls_;
  }
  void CallEnded() {
    absl::MutexLock lock(&mu_);
    --calls_;
  }

  // After Close: waits until no callback is inside Enter/Leave, and up to
  // `grace` for calls under way to end. Thread-safe.
  void Drain(absl::Duration grace) {
    absl::MutexLock lock(&mu_);
    auto quiet = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return calls_ == 0 && entered_ == 0;
    };
    mu_.AwaitWithTimeout(absl::Condition(&quiet), grace);
    auto left = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return entered_ == 0;
    };
    mu_.Await(absl::Condition(&left));
  }

 private:
  mutable absl::Mutex mu_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<Event> events_ ABSL_GUARDED_BY(mu_);
  int entered_ ABSL_GUARDED_BY(mu_) = 0;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace lienthong::bundle

#endif  // LIENTHONG_GATEWAY_BUNDLE_INBOX_H_
