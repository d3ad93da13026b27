#include "gateway/audit/verify.h"

#include <sys/stat.h>

#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "gateway/audit/anchor.h"
#include "gateway/audit/archive.h"
#include "gateway/audit/file_util.h"
#include "gateway/audit/query.h"
#include "gateway/audit/record.h"
#include "gateway/audit/walker.h"
#include "gateway/status/status_macros.h"

namespace lienthong::audit {
namespace {

// The journal's folders in order (archives first, the live one last) read
// as one journal.
class JournalSource : public Source {
 public:
  // The live journal (the last of `dirs`) is read from `live_from` to
  // `until`.
  JournalSource(std::vector<std::string> dirs, JournalPosition live_from,
                JournalPosition until, std::optional<ChainHead> start,
                ReadProgressFn progress)
      : dirs_(std::move(dirs)),
        live_from_(live_from),
        until_(until),
        start_(std::move(start)),
        progress_(progress, progress ? CountSegments() : 0,
                  /*passes=*/2) {}

  absl::Status Scan(absl::FunctionRef<bool(Row&)> visit) override {
    uint64_t ordinal = 0;
    bool stopped = false;
    return ReadAll(
        [&](const JournalPosition& at, const Frame& frame, size_t dir) {
          if (frame.type != FrameType::kRecord) return true;
          Row row;
          row.ordinal = ++ordinal;
          progress_.set_records(ordinal);
          row.where = Place(dir, at);
          row.parsed = row.record.ParseFromArray(
              frame.payload.data(), static_cast<int>(frame.payload.size()));
          if (!row.parsed) row.damage = "the record cannot be parsed";
          stopped = !visit(row);
          return !stopped;
        },
        [&](const JournalPosition& at, const std::string& why, size_t dir) {
          if (stopped) return;
          Row row;
          row.ordinal = ++ordinal;
          row.parsed = false;
          row.where = Place(dir, at);
          row.damage = why;
          stopped = !visit(row);
        });
  }

  absl::StatusOr<std::vector<AuditCheckpoint>> Checkpoints() override {
    std::vector<AuditCheckpoint> out;
    LIENTHONG_RETURN_IF_ERROR(ReadAll(
        [&](const JournalPosition&, const Frame& frame, size_t) {
          if (frame.type != FrameType::kCheckpoint) return true;
          AuditCheckpoint checkpoint;
          // A mangled checkpoint still names one: kept unsigned, it fails.
          if (!checkpoint.ParseFromArray(
                  frame.payload.data(),
                  static_cast<int>(frame.payload.size()))) {
            checkpoint.Clear();
          }
          out.push_back(std::move(checkpoint));
          return true;
        },
        [](const JournalPosition&, const std::string&, size_t) {}));
    return out;
  }

  std::optional<ChainHead> Start(const Row*) const override { return start_; }

  std::string Where(const Row& row) const override {
    if (row.parsed) {
      return absl::StrCat("record ", row.record.sequence(), " (", row.where,
                          ")");
    }
    return row.where;
  }

  uint64_t torn_bytes() const { return torn_bytes_; }

 private:
  using Visit =
      absl::FunctionRef<bool(const JournalPosition&, const Frame&, size_t)>;
  using Damage = absl::FunctionRef<void(const JournalPosition&,
                                        const std::string&, size_t)>;

  std::string Place(size_t dir, const JournalPosition& at) const {
    return absl::StrCat(dir + 1 < dirs_.size() ? "archived " : "", "segment ",
                        at.segment, " offset ", at.offset);
  }

  absl::Status ReadAll(Visit visit, Damage damage) {
    torn_bytes_ = 0;
    for (size_t d = 0; d < dirs_.size(); ++d) {
      const bool live = d + 1 == dirs_.size();
      bool stopped = false;
      JournalScanHooks hooks;
      hooks.on_segment = [&](const SegmentFile&, const SegmentHeader&) {
        progress_.SegmentBegun();
      };
      hooks.on_damage = [&](const JournalPosition& at, const std::string& why) {
        damage(at, why, d);
      };
      hooks.on_torn = [&](const JournalPosition& at, uint64_t bytes) {
        // A crash's torn write can only be at the live journal's end.
        if (live) {
          torn_bytes_ = bytes;
        } else {
          damage(at, "an unfinished write in an archived segment", d);
        }
      };
      LIENTHONG_RETURN_IF_ERROR(ReadJournal(
          dirs_[d], live ? live_from_ : JournalPosition{},
          live ? until_ : JournalPosition{},
          [&](const JournalPosition& at, const Frame& frame) {
            stopped = !visit(at, frame, d);
            return !stopped;
          },
          hooks));
      if (stopped) break;
    }
    progress_.PassEnded();
    return absl::OkStatus();
  }

  // The segment files the walk reads (each twice).
  uint64_t CountSegments() const {
    uint64_t count = 0;
    for (size_t d = 0; d < dirs_.size(); ++d) {
      absl::StatusOr<std::vector<SegmentFile>> files = ListSegments(dirs_[d]);
      if (!files.ok()) continue;  // the walk reports it
      for (const SegmentFile& file : *files) {
        const bool archived = d + 1 < dirs_.size();
        if (archived || (file.number >= live_from_.segment &&
                         (until_.segment == 0 || file.number <= until_.segment))) {
          ++count;
        }
      }
    }
    return count;
  }

  const std::vector<std::string> dirs_;
  const JournalPosition live_from_;
  const JournalPosition until_;
  const std::optional<ChainHead> start_;
  SegmentProgress progress_;
  uint64_t torn_bytes_ = 0;
};

class FileSource : public Source {
 public:
  FileSource(std::string path, ReadProgressFn progress)
      : path_(std::move(path)), progress_(std::move(progress)) {
    struct stat info;
    // Read twice: checkpoints, then records.
    if (progress_ && stat(path_.c_str(), &info) == 0) {
      done_.total = 2 * static_cast<uint64_t>(info.st_size);
    }
  }

  absl::Status Scan(absl::FunctionRef<bool(Row&)> visit) override {
    uint64_t records = 0;
    return ReadLines([&](uint64_t number, const std::string& line) {
      if (line.empty() || IsCheckpointLine(line)) return true;
      Row row;
      row.ordinal = number;
      done_.records = ++records;
      row.where = absl::StrCat("line ", number);
      absl::StatusOr<ExportLine> parsed = ParseExportLine(line);
      row.parsed = parsed.ok() && parsed->type == ExportLine::Type::kRecord;
      if (row.parsed) row.record = std::move(parsed->record);
      return visit(row);
    });
  }
  absl::StatusOr<std::vector<AuditCheckpoint>> Checkpoints() override {
    std::vector<AuditCheckpoint> out;
    LIENTHONG_RETURN_IF_ERROR(ReadLines([&](uint64_t, const std::string& line) {
      if (!IsCheckpointLine(line)) return true;
      absl::StatusOr<ExportLine> parsed = ParseExportLine(line);
      // A mangled checkpoint line still names a checkpoint: kept unsigned,
      // it fails as BAD_SIGNATURE.
      out.push_back(parsed.ok() ? std::move(parsed->checkpoint)
                                : AuditCheckpoint());
      return true;
    }));
    return out;
  }
  std::optional<ChainHead> Start(const Row* first) const override {
    if (first == nullptr || (first->parsed && first->record.sequence() <= 1)) {
      return ChainHead();
    }
    return std::nullopt;
  }
  std::string Where(const Row& row) const override { return row.where; }

 private:
  absl::Status ReadLines(
      absl::FunctionRef<bool(uint64_t, const std::string&)> visit) {
    absl::StatusOr<std::unique_ptr<LineReader>> reader =
        LineReader::Open(path_, kMaxExportLineBytes, "export file");
    if (!reader.ok()) {
      return absl::NotFoundError(absl::StrCat("cannot open ", path_));
    }
    std::string line;
    uint64_t unreported = 0;
    while (true) {
      LIENTHONG_ASSIGN_OR_RETURN(const bool got, (*reader)->Next(&line));
      if (!got) break;
      unreported += line.size() + 1;
      if (unreported >= kProgressBytes) Report(&unreported);
      if (!visit((*reader)->line_number(), line)) break;
    }
    Report(&unreported);
    return absl::OkStatus();
  }

  void Report(uint64_t* bytes) {
    done_.done += *bytes;
    *bytes = 0;
    if (progress_) progress_(done_);
  }

  static constexpr uint64_t kProgressBytes = 4 << 20;
  const std::string path_;
  const ReadProgressFn progress_;
  ReadProgress done_;
};

absl::StatusOr<std::vector<AuditCheckpoint>> LoadAnchors(
    const VerifyOptions& options) {
  if (options.anchor_file.empty()) return std::vector<AuditCheckpoint>();
  absl::StatusOr<std::vector<AuditCheckpoint>> anchors =
      ReadAnchorFile(options.anchor_file);
  if (!anchors.ok() && absl::IsInvalidArgument(anchors.status())) {
    return anchors.status();
  }
  return anchors;
}

VerifyReport NotIntact(VerifyReport::Problem problem, uint64_t sequence,
                       std::string detail, const VerifyOptions& options) {
  VerifyReport report;
  report.set_intact(false);
  report.set_problem(problem);
  report.set_first_bad_sequence(sequence);
  report.set_detail(std::move(detail));
  report.set_key_pinned(options.key_pinned);
  return report;
}

absl::StatusOr<VerifyReport> VerifyJournalOnce(const std::string& journal_dir,
                                               const VerifyOptions& options) {
  if (options.key == nullptr) {
    return absl::InvalidArgumentError("verification needs a public key");
  }
  LIENTHONG_RETURN_IF_ERROR(ListSegments(journal_dir).status());
  LIENTHONG_ASSIGN_OR_RETURN(std::vector<AuditCheckpoint> anchors,
                             LoadAnchors(options));
  const JournalPosition until =
      options.live_end ? options.live_end() : options.until;
  absl::StatusOr<std::vector<lienthong::v1::AuditArchiveAnchor>> read =
      ReadArchiveAnchors(journal_dir);
  if (absl::IsInvalidArgument(read.status())) {
    // A line that is not an anchor, or whose manifest is not the one it
    // signs: changed without the key, like a bad signature.
    return NotIntact(VerifyReport::BAD_SIGNATURE, 0,
                     std::string(read.status().message()), options);
  }
  LIENTHONG_ASSIGN_OR_RETURN(
      std::vector<lienthong::v1::AuditArchiveAnchor> archived, std::move(read));
  for (const auto& anchor : archived) {
    if (absl::Status sig = VerifyArchiveAnchor(anchor, *options.key);
        !sig.ok()) {
      return NotIntact(VerifyReport::BAD_SIGNATURE,
                       anchor.manifest().last_sequence(),
                       absl::StrCat("the anchor of archive ",
                                    anchor.manifest().archive(),
                                    " does not verify: ", sig.message()),
                       options);
    }
  }
  std::vector<std::string> dirs;
  std::optional<ChainHead> start = ChainHead();
  // Segments an archiving run stopped short of deleting are archived.
  const JournalPosition live_from{FirstLiveSegment(archived), 0};
  if (!options.archive_dir.empty()) {
    LIENTHONG_ASSIGN_OR_RETURN(ArchiveCheck check,
                               CheckArchives(options.archive_dir, archived));
    if (!check.problem.empty()) {
      return NotIntact(VerifyReport::CORRUPT, check.problem_sequence,
                       check.problem, options);
    }
    dirs = std::move(check.dirs);
  } else if (!archived.empty()) {
    start = ArchiveHead(archived.back().manifest());
  }
  dirs.push_back(journal_dir);
  JournalSource source(std::move(dirs), live_from, until, start,
                       options.progress);
  LIENTHONG_ASSIGN_OR_RETURN(VerifyReport report,
                             Walk(source, options, std::move(anchors)));
  report.set_torn_tail_bytes(source.torn_bytes());
  report.set_archives_checked(options.archive_dir.empty() ? 0
                                                          : archived.size());
  return report;
}

// How many archives the journal's folder has anchors for; -1 when they
// cannot be read.
int64_t ArchiveCount(const std::string& journal_dir) {
  absl::StatusOr<std::vector<lienthong::v1::AuditArchiveAnchor>> anchors =
      ReadArchiveAnchors(journal_dir);
  return anchors.ok() ? static_cast<int64_t>(anchors->size()) : -1;
}

}  // namespace

absl::StatusOr<VerifyReport> VerifyJournal(const std::string& journal_dir,
                                           const VerifyOptions& options) {
  // `lienthong audit archive` may move segments away while they are read:
  // the walk then finds records missing that the new archive holds. A walk
  // that did not read intact while an archive was added is done again from
  // the new anchors (at most three walks in all).
  for (int walk = 1;; ++walk) {
    const int64_t archives = ArchiveCount(journal_dir);
    absl::StatusOr<VerifyReport> report =
        VerifyJournalOnce(journal_dir, options);
    if ((report.ok() && report->intact()) || walk == 3 ||
        ArchiveCount(journal_dir) == archives) {
      return report;
    }
  }
}

absl::StatusOr<VerifyReport> VerifyExportFile(const std::string& path,
                                              const VerifyOptions& options) {
  if (options.key == nullptr) {
    return absl::InvalidArgumentError("verification needs a public key");
  }
  LIENTHONG_ASSIGN_OR_RETURN(std::vector<AuditCheckpoint> anchors,
                             LoadAnchors(options));
  FileSource source(path, options.progress);
  return Walk(source, options, std::move(anchors));
}

}  // namespace lienthong::audit
