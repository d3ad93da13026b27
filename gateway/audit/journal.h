// The audit journal on disk: Journal, the single writer that appends whole
// writes to preallocated segment files with one fdatasync each, and the
// readers (ListSegments, MappedSegment, ReadJournal) that the index,
// verification, export and archiving use. The byte format is in
// journal_format.h; what the entries mean is AuditLog's business.
//
// Why preallocated: a segment is written with zeros and synced before it is
// used, so appending to it later overwrites blocks that exist and are
// initialised; fdatasync then has only the data to write, no file size or
// extent change to commit (fdatasync_probe measures the difference). A
// background thread prepares the next segment once the current one is half
// full.
//
// Fail closed: when a write or its fdatasync fails, nobody may count on what
// reached the disk. The journal keeps its end where it was and, before the
// next write, overwrites the failed region with zeros and syncs that; until
// that succeeds every write fails. So the chain never continues past a write
// whose fate is unknown.
#ifndef LIENTHONG_GATEWAY_AUDIT_JOURNAL_H_
#define LIENTHONG_GATEWAY_AUDIT_JOURNAL_H_

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "gateway/audit/journal_format.h"
#include "gateway/storage/file_lock.h"

namespace lienthong::audit {

// The write path's system calls, so tests can make a disk fail (LevelDB's
// Env does the same). The default calls the kernel. Implementations are
// thread-safe.
class JournalIo {
 public:
  virtual ~JournalIo() = default;
  // As pwrite(2) / fdatasync(2): bytes written or -1 with errno set.
  virtual ssize_t Pwrite(int fd, const char* data, size_t size, off_t offset);
  virtual int Fdatasync(int fd);
  // The process-wide default.
  static JournalIo* Default();
};

// A place in the journal: a segment and a byte offset in it.
struct JournalPosition {
  uint64_t segment = 0;
  uint64_t offset = 0;
  friend bool operator==(const JournalPosition& a, const JournalPosition& b) {
    return a.segment == b.segment && a.offset == b.offset;
  }
  friend bool operator<(const JournalPosition& a, const JournalPosition& b) {
    return a.segment < b.segment ||
           (a.segment == b.segment && a.offset < b.offset);
  }
};

struct SegmentFile {
  uint64_t number = 0;
  std::string path;
};

// Returns the segment files in `dir` by ascending number (temporary files
// of a segment being prepared are not listed). NOT_FOUND when `dir` does
// not exist, UNAVAILABLE when it cannot be read. Thread-safe.
absl::StatusOr<std::vector<SegmentFile>> ListSegments(const std::string& dir);

// One segment file mapped read-only. Move-only.
class MappedSegment {
 public:
  // Maps `path` and checks its header. NOT_FOUND when it is missing,
  // UNAVAILABLE when it cannot be read, DATA_LOSS for a bad header.
  static absl::StatusOr<MappedSegment> Open(const std::string& path);

  MappedSegment(MappedSegment&& other) noexcept;
  MappedSegment& operator=(MappedSegment&&) = delete;
  ~MappedSegment();

  const SegmentHeader& header() const { return header_; }
  // The whole file.
  absl::string_view bytes() const { return bytes_; }
  // ScanSegmentBytes over this segment.
  SegmentScan Scan(uint64_t from, uint64_t limit,
                   absl::FunctionRef<bool(const Frame&)> visit) const {
    return ScanSegmentBytes(bytes_, from, limit, visit);
  }

 private:
  MappedSegment(SegmentHeader header, absl::string_view bytes)
      : header_(std::move(header)), bytes_(bytes) {}
  SegmentHeader header_;
  absl::string_view bytes_;
};

// What opening the journal found at its end.
struct JournalTail {
  // The segments, and the journal's identity (from their headers).
  std::vector<SegmentFile> segments;
  std::string journal_id;
  // Where the next write goes: after the last whole write.
  JournalPosition end;
  // The number of the last whole write (0 when none).
  uint32_t last_write = 0;
  // An unfinished last write after `end` (a crash's), not yet cut off.
  uint64_t torn_bytes = 0;
  // Damage (not a torn tail): where and what; the journal is then not
  // written to.
  bool damaged = false;
  JournalPosition damage_at;
  std::string damage;
};

class Journal {
 public:
  struct Options {
    std::string dir;
    // Size of each segment file (at least kMinSegmentBytes).
    uint64_t segment_bytes = 64ull << 20;
    // Default: JournalIo::Default().
    JournalIo* io = nullptr;
    // Prepare the next segment on a thread of its own (false: when needed,
    // on the writer's thread; for tools that write once).
    bool prepare_in_background = true;
    // The number of the first segment when the folder holds none: past the
    // archived ones (FirstLiveSegment in archive.h), which verify and the
    // next archiving run take as archived.
    uint64_t first_segment = 1;
  };

  // Opens the journal in options.dir, creating the folder (mode 0700) and a
  // first segment when there is none, and takes its lock (the file LOCK,
  // flock). Scans the last segments to find the end (tail()). Writing is
  // refused while the tail is damaged; a torn tail must be cut
  // (CutTornTail) before the first write.
  //
  // Fails with INVALID_ARGUMENT for bad options, FAILED_PRECONDITION when
  // another process holds the lock or the segments belong to different
  // journals, UNAVAILABLE when the folder or a segment cannot be made or
  // read.
  static absl::StatusOr<std::unique_ptr<Journal>> Open(Options options);

  // Stops the preparing thread, closes the files, releases the lock.
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Stops and joins the thread that prepares segments ahead: a journal no
  // longer written makes no more files (a segment still needed is then made
  // when it is). Not concurrently with itself, Write or NextSegment.
  void StopPreparing();

  const std::string& dir() const { return options_.dir; }
  // What Open found (torn_bytes is 0 once cut).
  const JournalTail& tail() const { return tail_; }

  // Overwrites the torn tail with zeros and syncs it. OK when there is
  // none. UNAVAILABLE when the disk fails. Writer thread only.
  absl::Status CutTornTail();

  // The number the next write will carry: 1 for a segment's first, then
  // one more a write. Writer thread only.
  uint32_t next_write() const { return next_write_; }
  // Bytes a write may still add to the current segment: its file's size
  // (made with an earlier segment_bytes, perhaps) less end().offset.
  uint64_t remaining() const {
    return segment_size_ > end_.offset ? segment_size_ - end_.offset : 0;
  }
  // Where the next write goes. Writer thread only.
  JournalPosition end() const { return end_; }

  // Writes `frames` (whole frames of write number next_write(), the last
  // marked kEndOfWrite) at end() and fdatasyncs. On OK they are durable and
  // end() advances. Fails with UNAVAILABLE when the disk fails (the region
  // is then zeroed before the next write can succeed), FAILED_PRECONDITION
  // when the tail is damaged or torn, INVALID_ARGUMENT when the frames do
  // not fit (remaining()) or exceed kMaxWriteBytes. Writer thread only.
  absl::Status Write(absl::string_view frames);

  // Continues in the next segment (prepared ahead; made now if it is not
  // ready). UNAVAILABLE when it cannot be made. Writer thread only.
  absl::Status NextSegment();

  // Leaves a damaged end as it is (evidence) and continues in a new
  // segment after it; for opening a new epoch. Writer thread only.
  absl::Status StartAfterDamage();

  // The end of what is durable: readers read up to it. Thread-safe.
  JournalPosition durable_end() const;

  // Free bytes on the journal's filesystem; UNAVAILABLE when statvfs fails.
  // Thread-safe.
  absl::StatusOr<uint64_t> FreeBytes() const;

 private:
  explicit Journal(Options options);
  absl::Status Lock();
  absl::Status FindTail();
  // A new random journal identity in tail_.journal_id.
  absl::Status NewIdentity();
  absl::Status OpenForWriting(uint64_t number);
  // Makes segment `number` (header, zeros, synced, renamed, folder synced).
  absl::Status PrepareSegment(uint64_t number);
  void PrepareLoop();
  // Asks for the next segment once the current one is half full.
  void MaybePrepareNext();
  // Zeroes the region a failed write left. Writer thread only.
  absl::Status Repair();
  void PublishDurable();

  const Options options_;
  JournalIo* const io_;
  std::optional<storage::FileLock> lock_;  // Held until destruction.
  JournalTail tail_;

  // Writer thread only.
  int fd_ = -1;
  JournalPosition end_;
  // The size of the segment file written to (OpenForWriting).
  uint64_t segment_size_ = 0;
  uint32_t next_write_ = 1;
  // A region whose fate is unknown after a failed write: [offset, +bytes).
  uint64_t dirty_offset_ = 0;
  uint64_t dirty_bytes_ = 0;

  mutable absl::Mutex durable_mu_;
  JournalPosition durable_ ABSL_GUARDED_BY(durable_mu_);

  // Preparing the next segment.
  absl::Mutex prepare_mu_;
  uint64_t prepare_wanted_ ABSL_GUARDED_BY(prepare_mu_) = 0;
  uint64_t prepared_ ABSL_GUARDED_BY(prepare_mu_) = 0;
  absl::Status prepare_status_ ABSL_GUARDED_BY(prepare_mu_);
  bool stopping_ ABSL_GUARDED_BY(prepare_mu_) = false;
  std::thread preparer_;
};

// Calls `visit` for each entry frame of the journal in `dir`, in order,
// from `from` (segment 0: the first) to `until` (segment 0: the end of
// every segment), until it returns false. The hooks (each may be empty) are
// told when a segment starts; of damage (a segment whose tail is damaged,
// one from another journal, or a torn write that is not at the journal's
// end), with where and why, after the whole writes before it, the scan then
// going on with the next segment; and of a torn tail at the journal's end
// (never visited), with its size. Returns UNAVAILABLE / NOT_FOUND when the
// folder or a segment cannot be read. Thread-safe.
struct JournalScanHooks {
  std::function<void(const SegmentFile&, const SegmentHeader&)> on_segment;
  std::function<void(const JournalPosition&, const std::string&)> on_damage;
  std::function<void(const JournalPosition&, uint64_t bytes)> on_torn;
};
absl::Status ReadJournal(const std::string& dir, JournalPosition from,
                         JournalPosition until,
                         absl::FunctionRef<bool(const JournalPosition&,
                                                const Frame&)>
                             visit,
                         const JournalScanHooks& hooks = {});

// How far a tool that reads the whole journal is (verify, export), for a
// progress display. `done` and `total` count units whose total is known
// from the start: segment files read, or bytes of an export file; a tool
// that reads everything twice (checkpoints, then records) counts both
// reads, and `done` can pass `total` when it reads more (verification
// looking for a moved record).
struct ReadProgress {
  uint64_t done = 0;
  uint64_t total = 0;
  // Records read so far in the pass that reads them.
  uint64_t records = 0;
  // What is being done, for work of several kinds ("verifying",
  // "copying"); empty otherwise.
  const char* stage = "";
};
using ReadProgressFn = std::function<void(const ReadProgress&)>;

// Reports ReadProgress for passes of ReadJournal over `segments` segment
// files each: a segment is done when the next one begins (SegmentBegun,
// from JournalScanHooks::on_segment) or its pass ends (PassEnded). Does
// nothing without `report`. Not thread-safe.
class SegmentProgress {
 public:
  SegmentProgress(ReadProgressFn report, uint64_t segments, int passes)
      : report_(std::move(report)) {
    now_.total = segments * static_cast<uint64_t>(passes);
  }
  void SegmentBegun() {
    if (begun_++ > 0) Step();
  }
  void PassEnded() {
    if (begun_ > 0) Step();
    begun_ = 0;
  }
  void set_records(uint64_t records) { now_.records = records; }

 private:
  void Step() {
    ++now_.done;
    if (report_) report_(now_);
  }
  const ReadProgressFn report_;
  ReadProgress now_;
  uint64_t begun_ = 0;
};

}  // namespace lienthong::audit

#endif  // LIENTHONG_GATEWAY_AUDIT_JOURNAL_H_
