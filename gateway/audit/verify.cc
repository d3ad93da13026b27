#include "gateway/audit/verify.h"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <optional>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "gateway/audit/query.h"
#include "gateway/audit/record.h"
#include "gateway/status/status_macros.h"

namespace lienthong::audit {
namespace {

using Problem = VerifyReport::Problem;

// How far past its own sequence a record's hash is tried, to recognise a
// deletion hidden by renumbering the records after it.
constexpr uint64_t kRenumberProbe = 1024;

// One record as read from a source. `ordinal` increases in stored order (a
// store: the sequence; a file: the line number).
struct Row {
  uint64_t ordinal = 0;
  bool parsed = true;  // false: a file line that is not a valid record
  AuditRecord record;
};

// Where records come from: a store or an export file.
class Source {
 public:
  virtual ~Source() = default;
  // Calls `visit` for each record in stored order until it returns false.
  // `visit` may take the row's contents.
  virtual absl::Status Scan(absl::FunctionRef<bool(Row&)> visit) = 0;
  // Returns the checkpoints, in any order.
  virtual absl::StatusOr<std::vector<AuditCheckpoint>> Checkpoints() = 0;
  // Whether the first record must follow the genesis hash.
  virtual bool AnchoredAtGenesis(const Row& first) const = 0;
  // Names a row's position for people ("record 12", "line 7").
  virtual std::string Where(const Row& row) const = 0;
};

class StoreSource : public Source {
 public:
  explicit StoreSource(const AuditStore& store) : store_(store) {}

  absl::Status Scan(absl::FunctionRef<bool(Row&)> visit) override {
    Row row;
    return store_.ScanRecords(0, [&](const AuditRecord& record) {
      row.ordinal = record.sequence();
      row.record = record;
      return visit(row);
    });
  }
  absl::StatusOr<std::vector<AuditCheckpoint>> Checkpoints() override {
    std::vector<AuditCheckpoint> out;
    LIENTHONG_RETURN_IF_ERROR(
        store_.ScanCheckpoints(0, [&](const AuditCheckpoint& checkpoint) {
          out.push_back(checkpoint);
          return true;
        }));
    return out;
  }
  bool AnchoredAtGenesis(const Row&) const override { return true; }
  std::string Where(const Row& row) const override {
    return absl::StrCat("record ", row.record.sequence());
  }

 private:
  const AuditStore& store_;
};

class FileSource : public Source {
 public:
  explicit FileSource(std::string path) : path_(std::move(path)) {}

  absl::Status Scan(absl::FunctionRef<bool(Row&)> visit) override {
    return ReadLines([&](uint64_t number, const std::string& line) {
      if (line.empty() || IsCheckpointLine(line)) return true;
      Row row;
      row.ordinal = number;
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
      // A mangled checkpoint line still names a checkpoint: keep it
      // (unsigned), so that it fails as BAD_SIGNATURE.
      out.push_back(parsed.ok() ? std::move(parsed->checkpoint)
                                : AuditCheckpoint());
      return true;
    }));
    return out;
  }
  bool AnchoredAtGenesis(const Row& first) const override {
    return first.record.sequence() <= 1;
  }
  std::string Where(const Row& row) const override {
    return absl::StrCat("line ", row.ordinal);
  }

 private:
  absl::Status ReadLines(
      absl::FunctionRef<bool(uint64_t, const std::string&)> visit) const {
    std::ifstream in(path_, std::ios::binary);
    if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path_));
    std::string line;
    uint64_t number = 0;
    while (std::getline(in, line)) {
      if (!visit(++number, line)) return absl::OkStatus();
    }
    if (in.bad()) {
      return absl::UnavailableError(absl::StrCat("cannot read ", path_));
    }
    return absl::OkStatus();
  }

  const std::string path_;
};

// Returns "record a is" or "records a..b are".
std::string Records(uint64_t a, uint64_t b) {
  return a == b ? absl::StrCat("record ", a, " is")
                : absl::StrCat("records ", a, "..", b, " are");
}

// The one-pass walk. Rows arrive in stored order; each is judged when the
// next one arrives (or at the end), so the classification can look one
// record ahead.
class Walker {
 public:
  Walker(Source& source, const PublicKey& key,
         std::vector<AuditCheckpoint> checkpoints)
      : source_(source), key_(key), checkpoints_(std::move(checkpoints)) {
    std::stable_sort(checkpoints_.begin(), checkpoints_.end(),
                     [](const AuditCheckpoint& a, const AuditCheckpoint& b) {
                       return a.sequence() < b.sequence();
                     });
  }

  absl::StatusOr<VerifyReport> Run() {
    std::optional<Row> current;
    absl::Status lookup_status;
    LIENTHONG_RETURN_IF_ERROR(source_.Scan([&](Row& next) {
      if (current.has_value()) {
        lookup_status = Judge(*current, &next);
        if (!lookup_status.ok() || done_) return false;
        Advance(*current);
        std::swap(*current, next);
      } else {
        current = std::move(next);
      }
      return true;
    }));
    LIENTHONG_RETURN_IF_ERROR(lookup_status);
    if (!done_ && current.has_value()) {
      LIENTHONG_RETURN_IF_ERROR(Judge(*current, nullptr));
      if (!done_) Advance(*current);
    }
    if (!done_) CheckTrailingCheckpoints();
    if (!done_) report_.set_intact(true);
    return report_;
  }

 private:
  // Judges `r`; on a problem, fills the report and sets done_. Fails only
  // when the source cannot be read.
  absl::Status Judge(const Row& r, const Row* n) {
    if (!have_prev_) {
      // The virtual record before the first: genesis, or for a partial
      // export the first record's own link, taken on trust.
      const bool anchored = source_.AnchoredAtGenesis(r);
      prev_sequence_ = anchored ? 0 : r.record.sequence() - 1;
      prev_hash_ = anchored ? GenesisHash() : r.record.prev_hash();
      if (!anchored && !checkpoints_.empty() &&
          checkpoints_.front().sequence() < r.record.sequence()) {
        return Fail(
            VerifyReport::DELETED, r.record.sequence() - 1,
            absl::StrCat("the export starts at record ", r.record.sequence(),
                         " but holds a checkpoint for record ",
                         checkpoints_.front().sequence(),
                         ": its first records were cut off"));
      }
    }
    const uint64_t expected = prev_sequence_ + 1;
    if (!r.parsed) {
      return Fail(
          VerifyReport::EDITED, expected,
          absl::StrCat(source_.Where(r), " is not a valid audit record"));
    }
    const AuditRecord& rec = r.record;
    const uint64_t s = rec.sequence();
    const bool in_sequence = s == expected;
    const bool linked = rec.prev_hash() == prev_hash_;
    const bool self = RecordHashMatches(rec);
    if (in_sequence && linked && self) return CheckCheckpoints(r);
    const bool next_skips_r = n != nullptr && n->parsed &&
                              n->record.prev_hash() == prev_hash_ &&
                              rec.hash() != prev_hash_;

    if (linked) {
      if (!in_sequence) {
        return Fail(VerifyReport::EDITED, expected,
                    absl::StrCat(source_.Where(r), " follows record ",
                                 prev_sequence_, " but is numbered ", s));
      }
      if (next_skips_r) {
        return Fail(VerifyReport::INSERTED, s,
                    absl::StrCat(source_.Where(r),
                                 " is not part of the chain: the next "
                                 "record links to record ",
                                 prev_sequence_));
      }
      return Fail(VerifyReport::EDITED, s,
                  absl::StrCat(source_.Where(r),
                               " does not match its hash: its content or "
                               "stored hash was changed"));
    }

    std::optional<Row> target;
    LIENTHONG_ASSIGN_OR_RETURN(target, FindByHash(rec.prev_hash(), r.ordinal));
    if (target.has_value() && target->ordinal > r.ordinal) {
      return Fail(
          VerifyReport::REORDERED, expected,
          absl::StrCat(source_.Where(r), " is out of place: it follows record ",
                       target->record.sequence(),
                       ", which comes later in the log"));
    }
    if (target.has_value()) {
      const uint64_t first_extra = target->record.sequence() + 1;
      return Fail(VerifyReport::INSERTED, first_extra,
                  absl::StrCat(Records(first_extra, prev_sequence_),
                               " not part of the chain: ", source_.Where(r),
                               " links to record ", target->record.sequence()));
    }
    if (s > expected) {
      return Fail(VerifyReport::DELETED, expected,
                  absl::StrCat(Records(expected, s - 1), " missing"));
    }
    if (self && in_sequence) {
      const uint64_t edited = have_prev_ ? prev_sequence_ : s;
      return Fail(VerifyReport::EDITED, edited,
                  absl::StrCat("record ", edited,
                               " was replaced (its hash recomputed): record ",
                               s, " does not link to it"));
    }
    if (std::optional<uint64_t> d = RenumberedBy(rec)) {
      return Fail(VerifyReport::DELETED, s,
                  absl::StrCat(Records(s, s + *d - 1),
                               " missing; the records after were renumbered "
                               "to hide the gap"));
    }
    if (next_skips_r) {
      return Fail(VerifyReport::INSERTED, s,
                  absl::StrCat(source_.Where(r),
                               " is not part of the chain: the next record "
                               "links to record ",
                               prev_sequence_));
    }
    return Fail(VerifyReport::EDITED, expected,
                absl::StrCat(source_.Where(r),
                             " does not link to the record before it"));
  }

  // Checks the checkpoints for good record `r`.
  absl::Status CheckCheckpoints(const Row& r) {
    const uint64_t s = r.record.sequence();
    while (next_checkpoint_ < checkpoints_.size() &&
           checkpoints_[next_checkpoint_].sequence() <= s) {
      const AuditCheckpoint& c = checkpoints_[next_checkpoint_++];
      // Before the first record (sequence 0): it vouches for nothing.
      if (c.sequence() < s) continue;
      if (absl::Status sig = VerifyCheckpoint(c, key_); !sig.ok()) {
        return Fail(
            VerifyReport::BAD_SIGNATURE, s,
            absl::StrCat("checkpoint at record ", s, ": ", sig.message()));
      }
      if (c.hash() != r.record.hash()) {
        return Fail(
            VerifyReport::BAD_SIGNATURE, s,
            absl::StrCat("record ", s,
                         " is not the record signed by its checkpoint: the "
                         "chain was rewritten and re-hashed somewhere in "
                         "records ",
                         report_.last_checkpoint_sequence() + 1, "..", s));
      }
      report_.set_checkpoints_checked(report_.checkpoints_checked() + 1);
      report_.set_last_checkpoint_sequence(s);
    }
    return absl::OkStatus();
  }

  void CheckTrailingCheckpoints() {
    if (next_checkpoint_ >= checkpoints_.size()) return;
    const AuditCheckpoint& c = checkpoints_[next_checkpoint_];
    if (absl::Status sig = VerifyCheckpoint(c, key_); !sig.ok()) {
      Fail(VerifyReport::BAD_SIGNATURE, c.sequence(),
           absl::StrCat("checkpoint at record ", c.sequence(), ": ",
                        sig.message()))
          .IgnoreError();
      return;
    }
    Fail(VerifyReport::TRUNCATED, prev_sequence_ + 1,
         absl::StrCat(
             prev_sequence_ == 0
                 ? std::string("the log is empty")
                 : absl::StrCat("the log ends at record ", prev_sequence_),
             " but a signed checkpoint covers record ", c.sequence(), ": ",
             Records(prev_sequence_ + 1, c.sequence()), " cut off"))
        .IgnoreError();
  }

  void Advance(const Row& r) {
    have_prev_ = true;
    prev_sequence_ = r.record.sequence();
    prev_hash_ = r.record.hash();
    report_.set_records_checked(report_.records_checked() + 1);
    report_.set_last_sequence(prev_sequence_);
  }

  // Records the finding and stops the walk. Returns OK: tampering is a
  // finding, not an error.
  absl::Status Fail(Problem problem, uint64_t sequence, std::string detail) {
    done_ = true;
    report_.set_intact(false);
    report_.set_problem(problem);
    report_.set_first_bad_sequence(sequence);
    report_.set_detail(std::move(detail));
    return absl::OkStatus();
  }

  // Returns the row, other than the one at `exclude`, whose stored hash is
  // `hash`: the nearest before `exclude` if any, else the nearest after.
  absl::StatusOr<std::optional<Row>> FindByHash(const std::string& hash,
                                                uint64_t exclude) {
    std::optional<Row> before, after;
    LIENTHONG_RETURN_IF_ERROR(source_.Scan([&](Row& row) {
      if (!row.parsed || row.ordinal == exclude || row.record.hash() != hash) {
        return true;
      }
      if (row.ordinal < exclude) {
        before = row;
        return true;
      }
      after = row;
      return false;
    }));
    return before.has_value() ? before : after;
  }

  // Returns d when `record` hashes right as sequence + d, 1 <= d <=
  // kRenumberProbe.
  static std::optional<uint64_t> RenumberedBy(AuditRecord record) {
    const uint64_t s = record.sequence();
    for (uint64_t d = 1; d <= kRenumberProbe; ++d) {
      record.set_sequence(s + d);
      if (RecordHashMatches(record)) return d;
    }
    return std::nullopt;
  }

  Source& source_;
  const PublicKey& key_;
  std::vector<AuditCheckpoint> checkpoints_;
  size_t next_checkpoint_ = 0;

  bool have_prev_ = false;
  uint64_t prev_sequence_ = 0;
  std::string prev_hash_ = GenesisHash();
  bool done_ = false;
  VerifyReport report_;
};

absl::StatusOr<VerifyReport> Verify(Source& source, const PublicKey& key) {
  LIENTHONG_ASSIGN_OR_RETURN(std::vector<AuditCheckpoint> checkpoints,
                             source.Checkpoints());
  return Walker(source, key, std::move(checkpoints)).Run();
}

}  // namespace

absl::StatusOr<VerifyReport> VerifyStore(const AuditStore& store,
                                         const PublicKey& key) {
  StoreSource source(store);
  return Verify(source, key);
}

absl::StatusOr<VerifyReport> VerifyExportFile(const std::string& path,
                                              const PublicKey& key) {
  FileSource source(path);
  return Verify(source, key);
}

}  // namespace lienthong::audit
