// Helpers for the audit tests and benchmark: a scratch directory, a log's
// options with fresh keys, sample records, and FaultyStore, a store wrapper
// whose writes can be made to fail.
#ifndef LIENTHONG_TESTS_GATEWAY_AUDIT_TEST_UTIL_H_
#define LIENTHONG_TESTS_GATEWAY_AUDIT_TEST_UTIL_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/audit/audit_log.h"
#include "gateway/audit/audit_store.h"

namespace lienthong::audit::testutil {

// A fresh directory under $TEST_TMPDIR / $TMPDIR / /tmp, removed with all
// its content on destruction.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  // Returns path() + "/" + name.
  std::string File(const std::string& name) const;

 private:
  std::string path_;
};

// The HMAC key the tests use.
inline constexpr char kTestHmacKey[] = "0123456789abcdef0123456789abcdef";

// Returns options for a log at dir/audit.db with node "gw-test", a signing
// key generated at dir/signing.pem (once) and kTestHmacKey.
AuditLog::Options TestOptions(const ScratchDir& dir);

// Returns a realistic record numbered `i`: callers, methods, outcomes and
// dossiers cycle so that queries have something to find; the citizen is the
// ID of CitizenIdFor(i) hashed with `key`.
AuditRecord SampleRecord(uint64_t i, const CitizenKey& key);
// A valid-looking 12-digit citizen ID that depends on i % 97.
std::string CitizenIdFor(uint64_t i);

// Appends `count` sample records (numbered from `first`) without waiting for
// each, then waits for all. Record i gets time `base` + i seconds, or the
// current time when `base` is InfinitePast. Returns the first error.
absl::Status AppendMany(AuditLog& log, uint64_t first, uint64_t count,
                        absl::Time base = absl::InfinitePast());

// Forwards to a real store; writes fail while mode() says so.
class FaultyStore : public AuditStore {
 public:
  enum class Mode {
    kPass,
    // Write nothing, report UNAVAILABLE.
    kFail,
    // Write, then report UNAVAILABLE (a commit whose result was lost).
    kWriteThenFail,
  };

  explicit FaultyStore(std::unique_ptr<AuditStore> store)
      : store_(std::move(store)) {}

  void set_mode(Mode mode) { mode_.store(mode); }
  // While held, Write waits (a store that hangs).
  void Hold();
  void Release();
  // Returns once a Write is waiting on the hold.
  void AwaitHeldWrite();
  // Calls of Write, failed or not: transactions.
  int writes() const { return writes_.load(); }
  int failed_writes() const { return failed_writes_.load(); }

  absl::Status Write(absl::Span<const AuditRecord> records,
                     absl::Span<const AuditCheckpoint> checkpoints) override;
  absl::StatusOr<std::optional<AuditRecord>> LastRecord() const override {
    return store_->LastRecord();
  }
  absl::StatusOr<std::optional<AuditCheckpoint>> LastCheckpoint()
      const override {
    return store_->LastCheckpoint();
  }
  absl::Status ScanRecords(
      uint64_t from_sequence,
      absl::FunctionRef<bool(const AuditRecord&)> visit) const override {
    return store_->ScanRecords(from_sequence, visit);
  }
  absl::Status ScanCheckpoints(
      uint64_t from_sequence,
      absl::FunctionRef<bool(const AuditCheckpoint&)> visit) const override {
    return store_->ScanCheckpoints(from_sequence, visit);
  }
  absl::StatusOr<std::vector<AuditRecord>> Query(
      const QueryFilter& filter) const override {
    return store_->Query(filter);
  }

 private:
  const std::unique_ptr<AuditStore> store_;
  std::atomic<Mode> mode_{Mode::kPass};
  absl::Mutex hold_mu_;
  bool held_ ABSL_GUARDED_BY(hold_mu_) = false;
  int waiting_ ABSL_GUARDED_BY(hold_mu_) = 0;
  std::atomic<int> writes_{0};
  std::atomic<int> failed_writes_{0};
};

}  // namespace lienthong::audit::testutil

#endif  // LIENTHONG_TESTS_GATEWAY_AUDIT_TEST_UTIL_H_
