#include "gateway/audit/journal.h"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gateway/audit/file_util.h"
#include "gateway/log/log.h"
#include "gateway/status/status_macros.h"
#include "gateway/storage/database.h"

namespace lienthong::audit {
namespace {

constexpr size_t kZeroChunk = 1 << 20;

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::UnavailableError(
      absl::StrCat("audit journal: ", what, " '", path, "': ",
                   std::strerror(errno)));
}

bool WriteAll(JournalIo& io, int fd, const char* data, size_t size,
              off_t offset) {
  while (size > 0) {
    ssize_t n = io.Pwrite(fd, data, size, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
    offset += n;
  }
  return true;
}

// True when the segment holds anything after its header, as far as its
// first write can reach: that write, torn, may have left only later pages
// on the disk (writeback goes in any order), its first frame's still zeros.
bool HasData(const MappedSegment& segment) {
  const absl::string_view bytes = segment.bytes().substr(
      0, std::min<size_t>(segment.bytes().size(),
                          kSegmentHeaderSize + kMaxWriteBytes));
  return EndOfNonZero(bytes, kSegmentHeaderSize) > kSegmentHeaderSize;
}

}  // namespace

ssize_t JournalIo::Pwrite(int fd, const char* data, size_t size,
                          off_t offset) {
  return ::pwrite(fd, data, size, offset);
}

int JournalIo::Fdatasync(int fd) { return ::fdatasync(fd); }

JournalIo* JournalIo::Default() {
  static JournalIo* const io = new JournalIo();
  return io;
}

absl::StatusOr<std::vector<SegmentFile>> ListSegments(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) {
      return absl::NotFoundError(
          absl::StrCat("audit journal: no folder '", dir, "'"));
    }
    return Errno("cannot read folder", dir);
  }
  std::vector<SegmentFile> out;
  while (dirent* entry = ::readdir(d)) {
    uint64_t number = 0;
    if (ParseSegmentName(entry->d_name, &number)) {
      out.push_back({number, absl::StrCat(dir, "/", entry->d_name)});
    }
  }
  ::closedir(d);
  std::sort(out.begin(), out.end(),
            [](const SegmentFile& a, const SegmentFile& b) {
              return a.number < b.number;
            });
  return out;
}

absl::StatusOr<MappedSegment> MappedSegment::Open(const std::string& path) {
  // O_NONBLOCK: a FIFO named as a segment would otherwise hang the open
  // (and with it the start, or verify); it is refused below.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) {
      return absl::NotFoundError(
          absl::StrCat("audit journal: no segment '", path, "'"));
    }
    return Errno("cannot open segment", path);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    absl::Status status = Errno("cannot stat segment", path);
    ::close(fd);
    return status;
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::DataLossError(
        absl::StrCat("audit journal: segment '", path, "' is not a file"));
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size < kSegmentHeaderSize) {
    ::close(fd);
    return absl::DataLossError(
        absl::StrCat("audit journal: segment '", path, "' is too short"));
  }
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return Errno("cannot map segment", path);
  absl::string_view bytes(static_cast<const char*>(map), size);
  absl::StatusOr<SegmentHeader> header = DecodeSegmentHeader(bytes);
  if (!header.ok()) {
    ::munmap(map, size);
    return absl::DataLossError(absl::StrCat("audit journal: segment '", path,
                                            "': ", header.status().message()));
  }
  return MappedSegment(*std::move(header), bytes);
}

MappedSegment::MappedSegment(MappedSegment&& other) noexcept
    : header_(std::move(other.header_)), bytes_(other.bytes_) {
  other.bytes_ = absl::string_view();
}

MappedSegment::~MappedSegment() {
  if (!bytes_.empty()) {
    ::munmap(const_cast<char*>(bytes_.data()), bytes_.size());
  }
}

absl::StatusOr<std::unique_ptr<Journal>> Journal::Open(Options options) {
  if (options.dir.empty()) {
    return absl::InvalidArgumentError("audit journal needs a folder");
  }
  if (options.segment_bytes < kMinSegmentBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "audit journal segments must be at least ", kMinSegmentBytes,
        " bytes"));
  }
  if (options.first_segment == 0) {
    return absl::InvalidArgumentError("audit journal segments count from 1");
  }
  if (::mkdir(options.dir.c_str(), 0700) == 0) {
    LIENTHONG_RETURN_IF_ERROR(
        SyncPath(storage::FolderOf(options.dir), "audit journal"));
  } else if (errno != EEXIST) {
    return Errno("cannot create folder", options.dir);
  }
  std::unique_ptr<Journal> journal(new Journal(std::move(options)));
  LIENTHONG_RETURN_IF_ERROR(journal->Lock());
  LIENTHONG_RETURN_IF_ERROR(journal->FindTail());
  if (!journal->tail_.damaged) {
    LIENTHONG_RETURN_IF_ERROR(journal->OpenForWriting(journal->end_.segment));
  }
  if (journal->options_.prepare_in_background) {
    Journal* j = journal.get();
    j->preparer_ = std::thread([j] { j->PrepareLoop(); });
    pthread_setname_np(j->preparer_.native_handle(), "audit-segments");
    {
      absl::MutexLock lock(&j->prepare_mu_);
      j->prepared_ = j->tail_.segments.back().number;
      j->prepare_wanted_ = j->prepared_;
    }
    j->MaybePrepareNext();
  }
  return journal;
}

Journal::Journal(Options options)
    : options_(std::move(options)),
      io_(options_.io != nullptr ? options_.io : JournalIo::Default()) {}

Journal::~Journal() {
  StopPreparing();
  if (fd_ >= 0) ::close(fd_);
}

void Journal::StopPreparing() {
  {
    absl::MutexLock lock(&prepare_mu_);
    stopping_ = true;
  }
  if (preparer_.joinable()) preparer_.join();
}

absl::Status Journal::Lock() {
  LIENTHONG_ASSIGN_OR_RETURN(
      storage::FileLock lock,
      storage::FileLock::Take(
          absl::StrCat(options_.dir, "/LOCK"),
          absl::StrCat("the audit journal '", options_.dir,
                       "' is in use by another process (a running gateway?)")));
  lock_.emplace(std::move(lock));
  return absl::OkStatus();
}

absl::Status Journal::NewIdentity() {
  unsigned char id[kJournalIdSize];
  if (RAND_bytes(id, sizeof(id)) != 1) {
    return absl::InternalError("no randomness for the journal's identity");
  }
  tail_.journal_id.assign(reinterpret_cast<char*>(id), sizeof(id));
  return absl::OkStatus();
}

absl::Status Journal::FindTail() {
  LIENTHONG_ASSIGN_OR_RETURN(tail_.segments, ListSegments(options_.dir));
  if (tail_.segments.empty()) {
    LIENTHONG_RETURN_IF_ERROR(NewIdentity());
    LIENTHONG_RETURN_IF_ERROR(PrepareSegment(options_.first_segment));
    LIENTHONG_ASSIGN_OR_RETURN(tail_.segments, ListSegments(options_.dir));
    end_ = {options_.first_segment, kSegmentHeaderSize};
    tail_.end = end_;
    PublishDurable();
    return absl::OkStatus();
  }
  // The journal's identity is the first segment's; every one must share it.
  // A segment whose header cannot be read is damage like a damaged frame:
  // verify reports it wherever it is, and at the journal's end (below) the
  // journal is not written until an operator opens a new epoch after it.
  for (const SegmentFile& file : tail_.segments) {
    absl::StatusOr<MappedSegment> opened = MappedSegment::Open(file.path);
    if (absl::IsDataLoss(opened.status())) continue;
    if (!opened.ok()) return opened.status();
    const MappedSegment& segment = *opened;
    if (segment.header().number != file.number) {
      return absl::FailedPreconditionError(
          absl::StrCat("audit journal: '", file.path, "' says it is segment ",
                       segment.header().number));
    }
    if (tail_.journal_id.empty()) tail_.journal_id = segment.header().journal_id;
    if (segment.header().journal_id != tail_.journal_id) {
      return absl::FailedPreconditionError(absl::StrCat(
          "audit journal: '", file.path, "' belongs to another journal"));
    }
  }
  // No header could be read: the segments a new epoch adds need one.
  if (tail_.journal_id.empty()) LIENTHONG_RETURN_IF_ERROR(NewIdentity());
  // The last segment with data decides the end; empty ones after it were
  // prepared ahead.
  size_t last = tail_.segments.size();
  std::optional<MappedSegment> data;
  bool unreadable_end = false;
  while (last > 0) {
    absl::StatusOr<MappedSegment> segment =
        MappedSegment::Open(tail_.segments[last - 1].path);
    if (absl::IsDataLoss(segment.status())) {
      unreadable_end = true;
      tail_.damaged = true;
      tail_.damage_at = {tail_.segments[last - 1].number, 0};
      tail_.damage = std::string(segment.status().message());
      break;
    }
    if (!segment.ok()) return segment.status();
    if (HasData(*segment)) {
      data.emplace(*std::move(segment));
      break;
    }
    --last;
  }
  if (unreadable_end) {
    end_ = {tail_.segments[last - 1].number, kSegmentHeaderSize};
  } else if (!data.has_value()) {
    end_ = {tail_.segments.front().number, kSegmentHeaderSize};
  } else {
    const SegmentScan scan =
        data->Scan(kSegmentHeaderSize, 0, [](const Frame&) { return true; });
    end_ = {data->header().number, scan.end};
    if (scan.has_write) tail_.last_write = scan.last_write;
    if (scan.tail == SegmentScan::Tail::kTorn) tail_.torn_bytes = scan.tail_bytes;
    if (scan.tail == SegmentScan::Tail::kDamaged) {
      tail_.damaged = true;
      tail_.damage_at = {data->header().number, scan.damage_offset};
      tail_.damage = scan.damage;
    }
  }
  next_write_ = tail_.last_write + 1;
  tail_.end = end_;
  PublishDurable();
  return absl::OkStatus();
}

absl::Status Journal::OpenForWriting(uint64_t number) {
  const std::string path =
      absl::StrCat(options_.dir, "/", SegmentFileName(number));
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open segment", path);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    absl::Status status = Errno("cannot stat segment", path);
    ::close(fd);
    return status;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  // Its own size, not segment_bytes: a restart with a smaller
  // audit.segment_mib must not write past the file's end.
  segment_size_ = static_cast<uint64_t>(st.st_size);
  return absl::OkStatus();
}

absl::Status Journal::PrepareSegment(uint64_t number) {
  const std::string name = SegmentFileName(number);
  const std::string path = absl::StrCat(options_.dir, "/", name);
  // Already there (prepared ahead, perhaps by a run that stopped before it
  // synced the folder): its name is made durable before records go in it.
  if (::access(path.c_str(), F_OK) == 0) {
    return SyncPath(options_.dir, "audit journal");
  }
  const std::string tmp = absl::StrCat(path, ".tmp");
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create segment", tmp);
  SegmentHeader header;
  header.number = number;
  header.journal_id = tail_.journal_id;
  header.created_unix_ns = absl::ToUnixNanos(absl::Now());
  std::string chunk = EncodeSegmentHeader(header);
  chunk.resize(kZeroChunk, '\0');
  bool ok = true;
  for (uint64_t at = 0; ok && at < options_.segment_bytes; at += kZeroChunk) {
    const size_t n = static_cast<size_t>(
        std::min<uint64_t>(kZeroChunk, options_.segment_bytes - at));
    ok = WriteAll(*JournalIo::Default(), fd, chunk.data(), n,
                  static_cast<off_t>(at));
    if (at == 0) std::fill(chunk.begin(), chunk.begin() + kSegmentHeaderSize, 0);
  }
  ok = ok && ::fsync(fd) == 0;
  absl::Status status = ok ? absl::OkStatus() : Errno("cannot write segment", tmp);
  ::close(fd);
  if (status.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    status = Errno("cannot rename segment", tmp);
  }
  if (!status.ok()) {
    ::unlink(tmp.c_str());
    return status;
  }
  return SyncPath(options_.dir, "audit journal");
}

void Journal::PrepareLoop() {
  while (true) {
    uint64_t number = 0;
    {
      absl::MutexLock lock(&prepare_mu_);
      prepare_mu_.Await(absl::Condition(
          +[](Journal* j) {
            j->prepare_mu_.AssertHeld();
            return j->stopping_ || j->prepare_wanted_ > j->prepared_;
          },
          this));
      if (stopping_) return;
      number = prepare_wanted_;
    }
    absl::Status status = PrepareSegment(number);
    if (!status.ok()) {
      log::Error("audit journal: cannot prepare the next segment",
                 {{"error", status.message()}});
    }
    absl::MutexLock lock(&prepare_mu_);
    prepare_status_ = status;
    if (status.ok()) {
      prepared_ = std::max(prepared_, number);
    } else {
      // Tried again when the writer asks for it (NextSegment).
      prepare_wanted_ = prepared_;
    }
  }
}

absl::Status Journal::CutTornTail() {
  if (tail_.torn_bytes == 0) return absl::OkStatus();
  dirty_offset_ = end_.offset;
  dirty_bytes_ = tail_.torn_bytes;
  LIENTHONG_RETURN_IF_ERROR(Repair());
  tail_.torn_bytes = 0;
  return absl::OkStatus();
}

absl::Status Journal::Repair() {
  if (dirty_bytes_ == 0) return absl::OkStatus();
  const std::string zeros(std::min<uint64_t>(dirty_bytes_, kZeroChunk), '\0');
  for (uint64_t done = 0; done < dirty_bytes_;) {
    const size_t n =
        static_cast<size_t>(std::min<uint64_t>(zeros.size(), dirty_bytes_ - done));
    if (!WriteAll(*io_, fd_, zeros.data(), n,
                  static_cast<off_t>(dirty_offset_ + done))) {
      return Errno("cannot zero a failed write in",
                   SegmentFileName(end_.segment));
    }
    done += n;
  }
  if (io_->Fdatasync(fd_) != 0) {
    return Errno("cannot sync", SegmentFileName(end_.segment));
  }
  dirty_bytes_ = 0;
  return absl::OkStatus();
}

absl::Status Journal::Write(absl::string_view frames) {
  if (tail_.damaged) {
    return absl::FailedPreconditionError(
        "audit journal: its tail is damaged; it is not written to");
  }
  if (tail_.torn_bytes > 0) {
    return absl::FailedPreconditionError(
        "audit journal: a torn tail must be cut before writing");
  }
  if (frames.empty() || frames.size() > kMaxWriteBytes ||
      frames.size() > remaining()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "audit journal: a write of ", frames.size(), " bytes does not fit"));
  }
  LIENTHONG_RETURN_IF_ERROR(Repair());
  const off_t offset = static_cast<off_t>(end_.offset);
  if (!WriteAll(*io_, fd_, frames.data(), frames.size(), offset) ||
      io_->Fdatasync(fd_) != 0) {
    dirty_offset_ = end_.offset;
    dirty_bytes_ = frames.size();
    return Errno("cannot write", SegmentFileName(end_.segment));
  }
  end_.offset += frames.size();
  ++next_write_;
  PublishDurable();
  MaybePrepareNext();
  return absl::OkStatus();
}

void Journal::MaybePrepareNext() {
  // Once the segment is half full, in time for a full one's worth of
  // appends: a gateway that stops early makes no segment it never uses.
  if (!options_.prepare_in_background || end_.offset < segment_size_ / 2) {
    return;
  }
  absl::MutexLock lock(&prepare_mu_);
  prepare_wanted_ = std::max(prepare_wanted_, end_.segment + 1);
}

absl::Status Journal::NextSegment() {
  LIENTHONG_RETURN_IF_ERROR(Repair());
  const uint64_t next = end_.segment + 1;
  bool ready = false;
  if (options_.prepare_in_background) {
    absl::MutexLock lock(&prepare_mu_);
    if (prepare_wanted_ < next) prepare_wanted_ = next;
    // Waits for a segment being prepared rather than preparing it twice;
    // a failed preparation lowers prepare_wanted_ and ends the wait, as
    // StopPreparing does.
    std::pair<Journal*, uint64_t> wait(this, next);
    prepare_mu_.Await(absl::Condition(
        +[](std::pair<Journal*, uint64_t>* p) {
          Journal* j = p->first;
          j->prepare_mu_.AssertHeld();
          return j->prepared_ >= p->second || j->prepare_wanted_ < p->second ||
                 j->stopping_;
        },
        &wait));
    ready = prepared_ >= next;
  }
  if (!ready) LIENTHONG_RETURN_IF_ERROR(PrepareSegment(next));
  LIENTHONG_RETURN_IF_ERROR(OpenForWriting(next));
  end_ = {next, kSegmentHeaderSize};
  next_write_ = 1;
  PublishDurable();
  return absl::OkStatus();
}

absl::Status Journal::StartAfterDamage() {
  const uint64_t next = tail_.end.segment + 1;
  LIENTHONG_RETURN_IF_ERROR(PrepareSegment(next));
  LIENTHONG_RETURN_IF_ERROR(OpenForWriting(next));
  end_ = {next, kSegmentHeaderSize};
  next_write_ = 1;
  tail_.damaged = false;
  tail_.torn_bytes = 0;
  dirty_bytes_ = 0;
  PublishDurable();
  return absl::OkStatus();
}

void Journal::PublishDurable() {
  absl::MutexLock lock(&durable_mu_);
  durable_ = end_;
}

JournalPosition Journal::durable_end() const {
  absl::MutexLock lock(&durable_mu_);
  return durable_;
}

absl::StatusOr<uint64_t> Journal::FreeBytes() const {
  struct statvfs st;
  if (::statvfs(options_.dir.c_str(), &st) != 0) {
    return Errno("cannot statvfs", options_.dir);
  }
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

absl::Status ReadJournal(
    const std::string& dir, JournalPosition from, JournalPosition until,
    absl::FunctionRef<bool(const JournalPosition&, const Frame&)> visit,
    const JournalScanHooks& hooks) {
  LIENTHONG_ASSIGN_OR_RETURN(std::vector<SegmentFile> segments,
                             ListSegments(dir));
  std::string journal_id;
  for (size_t i = 0; i < segments.size(); ++i) {
    const SegmentFile& file = segments[i];
    if (file.number < from.segment) continue;
    if (until.segment != 0 && file.number > until.segment) break;
    absl::StatusOr<MappedSegment> opened = MappedSegment::Open(file.path);
    if (absl::IsDataLoss(opened.status())) {
      // Its header cannot be read: damage, and the segments after it are
      // still read.
      if (hooks.on_damage) {
        hooks.on_damage({file.number, 0},
                        std::string(opened.status().message()));
      }
      continue;
    }
    if (!opened.ok()) return opened.status();
    const MappedSegment& segment = *opened;
    if (journal_id.empty()) journal_id = segment.header().journal_id;
    if (segment.header().journal_id != journal_id ||
        segment.header().number != file.number) {
      if (hooks.on_damage) {
        hooks.on_damage({file.number, 0},
                        "the segment belongs to another journal");
      }
      continue;
    }
    if (hooks.on_segment) hooks.on_segment(file, segment.header());
    const uint64_t start = file.number == from.segment
                               ? std::max<uint64_t>(from.offset, kSegmentHeaderSize)
                               : kSegmentHeaderSize;
    const uint64_t limit = file.number == until.segment ? until.offset : 0;
    bool stopped = false;
    const SegmentScan scan = segment.Scan(start, limit, [&](const Frame& frame) {
      stopped = !visit({file.number, frame.offset}, frame);
      return !stopped;
    });
    if (stopped) return absl::OkStatus();
    if (scan.tail == SegmentScan::Tail::kDamaged) {
      // (Also before a live segment's durable end, `limit`.)
      if (hooks.on_damage) {
        hooks.on_damage({file.number, scan.damage_offset}, scan.damage);
      }
    } else if (scan.tail == SegmentScan::Tail::kTorn) {
      // At the journal's end a crash's; anywhere else damage.
      bool later_data = false;
      for (size_t j = i + 1; j < segments.size() && !later_data; ++j) {
        absl::StatusOr<MappedSegment> later =
            MappedSegment::Open(segments[j].path);
        later_data = !later.ok() || HasData(*later);
      }
      if (later_data) {
        if (hooks.on_damage) {
          hooks.on_damage({file.number, scan.end},
                          "an unfinished write is followed by later segments");
        }
      } else if (hooks.on_torn) {
        hooks.on_torn({file.number, scan.end}, scan.tail_bytes);
      }
    }
    if (until.segment != 0 && file.number == until.segment) break;
  }
  return absl::OkStatus();
}

}  // namespace lienthong::audit
