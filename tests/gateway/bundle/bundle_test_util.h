// Helpers for the bundle tests: the birth and death definitions as the
// example config writes them, sample requests, a scripted StepInvoker and a
// ProgressSink that keeps what it is given as the outbox would.
#ifndef LIENTHONG_TESTS_GATEWAY_BUNDLE_BUNDLE_TEST_UTIL_H_
#define LIENTHONG_TESTS_GATEWAY_BUNDLE_BUNDLE_TEST_UTIL_H_

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "gateway/bundle/progress_sink.h"
#include "gateway/bundle/step_invoker.h"
#include "lienthong/config/v1/config.pb.h"
#include "lienthong/v1/bundle.pb.h"

namespace lienthong::bundle::testing {

// Citizens the simulated population database knows.
inline constexpr char kMotherId[] = "033190012345";
inline constexpr char kDeceasedId[] = "033055001234";
inline constexpr char kApplicantId[] = "033085012345";

// The definitions of deploy/examples/gateway.yaml's bundles, with adapters
// named "civil-status", "residence", "social-insurance", "labour-affairs".
lienthong::config::v1::BundleDefinition BirthDefinition();
lienthong::config::v1::BundleDefinition DeathDefinition();

// Sample requests for `dossier`, born / died today.
lienthong::v1::StartBundleRequest BirthRequest(const std::string& dossier);
lienthong::v1::StartBundleRequest DeathRequest(const std::string& dossier);

// The operations of the four agency adapters (as the real adapters list
// them).
std::vector<adapters::StepOperation> OperationsOf(absl::string_view adapter);

// One call the fake received.
struct ReceivedCall {
  std::string adapter;
  adapters::StepRequest request;
};

// A StepInvoker whose agencies are functions. By default each operation
// answers done with outputs derived from the inputs; tests replace the
// behaviour per adapter. Calls can be held (never answered) to stand for a
// crash, or an agency still working on them. Thread-safe.
class FakeInvoker final : public StepInvoker {
 public:
  using Agency = std::function<absl::StatusOr<adapters::StepOutcome>(
      const adapters::StepRequest&)>;

  FakeInvoker();

  absl::StatusOr<std::vector<adapters::StepOperation>> Operations(
      absl::string_view adapter) const override;
  void Invoke(absl::string_view adapter, adapters::StepRequest request,
              const adapters::CallContext& context, Done done) override;

  void SetAgency(const std::string& adapter, Agency agency);
  // Held calls are kept unanswered until Release (or forever).
  void Hold(bool hold);
  // Holds only the calls to `adapter` (until Release); the others answer.
  void HoldAdapter(const std::string& adapter);
  // Answers every held call with Apply's outputs and holds no more.
  void Release();
  // Answers every held call as `agency` does and holds no more.
  void ReleaseWith(const Agency& agency);
  std::vector<ReceivedCall> calls() const;
  // Distinct idempotency keys applied (answered done) per operation.
  std::map<std::string, int> applied_per_key() const;

  // The default answer: outputs named after the operation's outputs.
  static absl::StatusOr<adapters::StepOutcome> Apply(
      const adapters::StepRequest& request);

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, Agency> agencies_ ABSL_GUARDED_BY(mu_);
  std::vector<ReceivedCall> calls_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> applied_ ABSL_GUARDED_BY(mu_);
  bool hold_ ABSL_GUARDED_BY(mu_) = false;
  std::set<std::string> held_adapters_ ABSL_GUARDED_BY(mu_);
  struct Held {
    std::string adapter;
    adapters::StepRequest request;
    Done done;
  };
  std::vector<Held> held_ ABSL_GUARDED_BY(mu_);
};

// A ProgressSink that keeps updates as the outbox does: a repeat (dossier,
// status, time) is a duplicate; a transition the portal's rules refuse is
// FAILED_PRECONDITION. Can be made to fail. Thread-safe.
class FakeSink final : public ProgressSink {
 public:
  absl::Status Push(absl::Span<const ProgressUpdate> updates) override;
  void SetFailing(bool failing);
  std::vector<ProgressUpdate> queued() const;
  int duplicates() const;
  // Pushes answered with the failure so far.
  int failed_pushes() const;

 private:
  mutable absl::Mutex mu_;
  bool failing_ ABSL_GUARDED_BY(mu_) = false;
  int failed_pushes_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<ProgressUpdate> queued_ ABSL_GUARDED_BY(mu_);
  int duplicates_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace lienthong::bundle::testing

#endif  // LIENTHONG_TESTS_GATEWAY_BUNDLE_BUNDLE_TEST_UTIL_H_
