// Helpers for the audit tests and benchmark: a log's options with fresh
// keys, sample records, and FaultyIo, a journal I/O whose writes can be made
// to fail (LevelDB's ErrorEnv does the same).
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
#include "gateway/audit/journal.h"
#include "tests/testing/scratch_dir.h"

namespace lienthong::audit::testutil {

using ScratchDir = ::lienthong::testing::ScratchDir;

// The HMAC key the tests use.
inline constexpr char kTestHmacKey[] = "0123456789abcdef0123456789abcdef";

// Returns options for a log with its index at dir/audit.db, journal in
// dir/audit-journal (1 MiB segments), anchors in dir/anchors.jsonl (no
// syslog), node "gw-test", a signing key generated at dir/signing.pem
// (once), pinned, kTestHmacKey, and a 20 ms index interval.
AuditLog::Options TestOptions(const ScratchDir& dir);

// Opens a log on `options`, or fails the test (ADD_FAILURE) and returns
// null.
std::unique_ptr<AuditLog> OpenLog(const AuditLog::Options& options);

// Returns a realistic record numbered `i`: callers, methods, outcomes and
// dossiers cycle so that queries have something to find; the citizen is the
// ID of CitizenIdFor(i) hashed with `key`.
// With `officers`, even-numbered records (the lookups) also name the officer
// OfficerIdFor(i), hashed and masked. (Off by default: it makes records
// larger, and the tamper tests' journals are laid out for their size.)
AuditRecord SampleRecord(uint64_t i, const CitizenKey& key,
                         bool officers = false);
// A valid-looking 12-digit citizen ID that depends on i % 97.
std::string CitizenIdFor(uint64_t i);
// A synthetic officer's citizen ID that depends on i % 7.
std::string OfficerIdFor(uint64_t i);

// Appends `count` sample records (numbered from `first`) without waiting for
// each, then waits for all. Record i gets time `base` + i seconds, or the
// current time when `base` is InfinitePast; `officers` as SampleRecord.
// Returns the first error.
absl::Status AppendMany(AuditLog& log, uint64_t first, uint64_t count,
                        absl::Time base = absl::InfinitePast(),
                        bool officers = false);

// The kernel's calls, except while mode() says to fail them.
class FaultyIo : public JournalIo {
 public:
  enum class Mode {
    kPass,
    // Write nothing, fail with EIO.
    kFail,
    // Write, then fail the fdatasync (a write whose fate is unknown).
    kWriteThenFail,
  };

  void set_mode(Mode mode) { mode_.store(mode); }
  // Fails (as kFail) every write whose bytes contain `needle` (empty: none).
  void FailWritesContaining(std::string needle);
  // While held, a journal write waits (a disk that hangs).
  void Hold();
  void Release();
  // Returns once a write is waiting on the hold.
  void AwaitHeldWrite();
  // Journal writes (pwrite calls) and those that failed.
  int writes() const { return writes_.load(); }
  int failed_writes() const { return failed_writes_.load(); }

  ssize_t Pwrite(int fd, const char* data, size_t size, off_t offset) override;
  int Fdatasync(int fd) override;

 private:
  std::atomic<Mode> mode_{Mode::kPass};
  absl::Mutex mu_;
  std::string needle_ ABSL_GUARDED_BY(mu_);
  bool fail_next_sync_ ABSL_GUARDED_BY(mu_) = false;
  bool held_ ABSL_GUARDED_BY(mu_) = false;
  int waiting_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<int> writes_{0};
  std::atomic<int> failed_writes_{0};
};

// Reads the whole file at `path` ("" when it cannot).
std::string ReadAll(const std::string& path);

// Damages a frame as a flipped bit on disk would: in every segment of the
// journal in `dir` that holds `needle` (e.g. a record's request digest),
// XORs the byte `offset` past its first occurrence with `mask`, in place
// (as someone with write access would, also while a gateway holds the file
// open). Returns how many segments it changed.
int FlipBitAfter(const std::string& dir, const std::string& needle,
                 size_t offset, unsigned char mask);

// One entry of a journal, as an attacker with the files would see it.
struct Entry {
  bool is_checkpoint = false;
  AuditRecord record;
  AuditCheckpoint checkpoint;
};

// Returns the entries of the journal in `dir`, in order.
std::vector<Entry> ReadEntries(const std::string& dir);

// Replaces the journal in `dir` with `entries`, framed as a writer frames
// them (one write each, checksums right) in segments of `segment_bytes`:
// what someone with write access and without the signing key can do.
absl::Status WriteEntries(const std::string& dir,
                          const std::vector<Entry>& entries,
                          uint64_t segment_bytes = 16 << 20);

// Recomputes prev_hash and hash of every record from the one at index
// `from` in `entries` on, so that every link checks out again.
void Rechain(std::vector<Entry>& entries, size_t from);

// The index in `entries` of the record `sequence` (entries.size() if none).
size_t RecordAt(const std::vector<Entry>& entries, uint64_t sequence);

}  // namespace lienthong::audit::testutil

#endif  // LIENTHONG_TESTS_GATEWAY_AUDIT_TEST_UTIL_H_
