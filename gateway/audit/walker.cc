#include "gateway/audit/walker.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gateway/audit/record.h"
#include "gateway/status/status_macros.h"

namespace lienthong::audit {
namespace {

using Problem = VerifyReport::Problem;
using ::lienthong::v1::AuditBreak;

// How far past its own sequence a record's hash is tried, to recognise a
// deletion hidden by renumbering the records after it.
constexpr uint64_t kRenumberProbe = 1024;

struct Finding {
  Problem problem = VerifyReport::PROBLEM_UNSPECIFIED;
  uint64_t sequence = 0;
  uint64_t checkpoint = 0;
  std::string detail;
};

// One epoch as walked.
struct Span {
  uint32_t epoch = 1;
  uint64_t last_sequence = 0;
  std::optional<Finding> finding;
  // The break named by the epoch record that ended this span.
  std::optional<AuditBreak> closed_by;

  void Note(Finding f) {
    if (!finding.has_value() || f.sequence < finding->sequence) {
      finding = std::move(f);
    }
  }
};

// The last good checkpoint, as far as the walk knows it.
struct LastCheckpoint {
  bool known = false;  // false: the next one's link is taken on trust
  bool reset = false;  // after an epoch record: the next must be EPOCH
  uint64_t index = 0;
  uint64_t sequence = 0;
  std::string hash;
  uint64_t every = 1;
};

// Returns "record a" or "records a..b".
std::string RecordRange(uint64_t a, uint64_t b) {
  return a == b ? absl::StrCat("record ", a)
                : absl::StrCat("records ", a, "..", b);
}

// Returns "record a is" or "records a..b are".
std::string Records(uint64_t a, uint64_t b) {
  return absl::StrCat(RecordRange(a, b), a == b ? " is" : " are");
}

class Walker {
 public:
  Walker(Source& source, const VerifyOptions& options,
         std::vector<AuditCheckpoint> checkpoints,
         std::vector<AuditCheckpoint> anchors)
      : source_(source),
        key_(*options.key),
        checkpoints_(std::move(checkpoints)),
        anchors_(std::move(anchors)) {
    std::stable_sort(checkpoints_.begin(), checkpoints_.end(),
                     [](const AuditCheckpoint& a, const AuditCheckpoint& b) {
                       return a.index() < b.index() ||
                              (a.index() == b.index() &&
                               a.sequence() < b.sequence());
                     });
    report_.set_key_pinned(options.key_pinned);
  }

  absl::StatusOr<VerifyReport> Run() {
    std::optional<Row> current;
    absl::Status lookup_status;
    LIENTHONG_RETURN_IF_ERROR(source_.Scan([&](Row& next) {
      if (current.has_value()) {
        lookup_status = Process(*current, &next);
        if (!lookup_status.ok()) return false;
        std::swap(*current, next);
      } else {
        current = std::move(next);
      }
      return true;
    }));
    LIENTHONG_RETURN_IF_ERROR(lookup_status);
    if (current.has_value()) {
      LIENTHONG_RETURN_IF_ERROR(Process(*current, nullptr));
    }
    if (spans_.empty()) Begin(nullptr);  // no record at all
    if (!failed()) EndOfRecords();
    spans_.back().last_sequence = prev_sequence_;
    CheckAnchors();
    // After the anchors: a checkpoint they hold and the file lacks says
    // more precisely what was removed.
    if (!failed()) CheckSigned();
    return Report();
  }

 private:
  Span& span() { return spans_.back(); }
  bool failed() const { return spans_.back().finding.has_value(); }

  void Fail(Problem problem, uint64_t sequence, std::string detail,
            uint64_t checkpoint = 0) {
    span().Note({problem, sequence, checkpoint, std::move(detail)});
  }

  absl::Status Process(const Row& r, const Row* n) {
    if (spans_.empty()) Begin(&r);
    if (failed()) {
      // Only a signed epoch record ends a broken epoch; an unsigned one is
      // part of the break.
      if (r.parsed && r.record.kind() == AuditRecord::EPOCH_OPENED &&
          RecordHashMatches(r.record) && SignedAsEpoch(r.record)) {
        StartEpoch(r);
      }
      return absl::OkStatus();
    }
    LIENTHONG_RETURN_IF_ERROR(Judge(r, n));
    if (!failed()) Good(r);
    return absl::OkStatus();
  }

  // The chains' start, from the first row (nullptr: there is none).
  void Begin(const Row* first) {
    spans_.emplace_back();
    if (std::optional<ChainHead> start = source_.Start(first)) {
      prev_sequence_ = start->sequence;
      prev_hash_ = start->hash;
      last_cp_.known = true;
      last_cp_.index = start->checkpoint_index;
      last_cp_.sequence = start->checkpoint_sequence;
      last_cp_.hash = start->checkpoint_hash;
      last_cp_.every = start->checkpoint_every;
      span().epoch = start->epoch;
      first_checkpoint_index_ = start->checkpoint_index + 1;
      return;
    }
    // A partial export: links into what came before are taken on trust.
    partial_ = true;
    if (first == nullptr) return;
    const Row& r = *first;
    prev_sequence_ = r.parsed ? r.record.sequence() - 1 : 0;
    first_sequence_ = prev_sequence_ + 1;
    prev_hash_ = r.parsed ? r.record.prev_hash() : GenesisHash();
    if (r.parsed && !checkpoints_.empty()) {
      uint64_t lowest = checkpoints_.front().sequence();
      for (const AuditCheckpoint& c : checkpoints_) {
        lowest = std::min<uint64_t>(lowest, c.sequence());
      }
      if (lowest < r.record.sequence()) {
        Fail(VerifyReport::DELETED, r.record.sequence() - 1,
             absl::StrCat("the export starts at record ", r.record.sequence(),
                          " but holds a checkpoint for record ", lowest,
                          ": its first records were cut off"));
      }
    }
  }

  void Good(const Row& r) {
    const AuditRecord& rec = r.record;
    Advance(rec);
    if (rec.kind() == AuditRecord::EPOCH_OPENED) {
      if (!SignedAsEpoch(rec)) {
        // Anyone can write a record that links and hashes right; unsigned,
        // the break it names (say, the tail cut it follows) is not
        // acknowledged.
        Fail(VerifyReport::CHECKPOINT_MISSING, rec.sequence(),
             absl::StrCat("the epoch record ", rec.sequence(),
                          " is not signed by an epoch checkpoint"));
        return;
      }
      // An epoch opened on a journal whose walk found nothing (the break was
      // only visible to the gateway's own checks, or to other anchors).
      span().last_sequence = rec.sequence() - 1;
      span().closed_by = rec.epoch_break();
      spans_.emplace_back();
      span().epoch = rec.epoch_break().epoch();
    }
    CheckCheckpoints(rec);
    if (!failed()) CheckCadence(rec.sequence());
  }

  void StartEpoch(const Row& r) {
    const AuditRecord& rec = r.record;
    span().last_sequence = prev_sequence_;
    span().closed_by = rec.epoch_break();
    spans_.emplace_back();
    span().epoch = rec.epoch_break().epoch();
    // The broken epoch's checkpoints are behind.
    while (next_cp_ < checkpoints_.size() &&
           checkpoints_[next_cp_].sequence() < rec.sequence()) {
      ++next_cp_;
    }
    last_cp_ = LastCheckpoint();
    last_cp_.reset = true;
    Advance(rec);
    CheckCheckpoints(rec);
    if (!failed() && last_cp_.reset) {
      Fail(VerifyReport::CHECKPOINT_MISSING, rec.sequence(),
           absl::StrCat("the epoch record ", rec.sequence(),
                        " is not signed by an epoch checkpoint"));
    }
  }

  // Whether an EPOCH checkpoint with a good signature signs `rec`: only
  // then is an EPOCH_OPENED record an operator's (new-epoch writes the two
  // in one write, epoch.h), as record hashes are unkeyed. All checkpoints
  // are at hand, wherever they are stored; the checkpoint's link to the one
  // before is CheckOne's.
  bool SignedAsEpoch(const AuditRecord& rec) const {
    for (const AuditCheckpoint& c : checkpoints_) {
      if (c.reason() == AuditCheckpoint::EPOCH &&
          c.sequence() == rec.sequence() && c.hash() == rec.hash() &&
          VerifyCheckpoint(c, key_).ok()) {
        return true;
      }
    }
    return false;
  }

  void Advance(const AuditRecord& rec) {
    prev_sequence_ = rec.sequence();
    prev_hash_ = rec.hash();
    report_.set_records_checked(report_.records_checked() + 1);
    report_.set_last_sequence(prev_sequence_);
  }

  // Judges `r` (see verify.h); on a problem records a finding. Fails only
  // when the source cannot be read.
  absl::Status Judge(const Row& r, const Row* n) {
    const uint64_t expected = prev_sequence_ + 1;
    if (!r.parsed) {
      if (!r.damage.empty()) {
        Fail(VerifyReport::CORRUPT, expected,
             absl::StrCat(source_.Where(r), ": ", r.damage));
      } else {
        Fail(VerifyReport::EDITED, expected,
             absl::StrCat(source_.Where(r), " is not a valid audit record"));
      }
      return absl::OkStatus();
    }
    const AuditRecord& rec = r.record;
    const uint64_t s = rec.sequence();
    const bool in_sequence = s == expected;
    const bool linked = rec.prev_hash() == prev_hash_;
    const bool self = RecordHashMatches(rec);
    if (in_sequence && linked && self) return absl::OkStatus();
    const bool next_skips_r = n != nullptr && n->parsed &&
                              n->record.prev_hash() == prev_hash_ &&
                              rec.hash() != prev_hash_;
    if (linked) {
      if (!in_sequence) {
        Fail(VerifyReport::EDITED, expected,
             absl::StrCat(source_.Where(r), " follows record ",
                          prev_sequence_, " but is numbered ", s));
      } else if (next_skips_r) {
        Fail(VerifyReport::INSERTED, s,
             absl::StrCat(source_.Where(r),
                          " is not part of the chain: the next record links "
                          "to record ",
                          prev_sequence_));
      } else {
        Fail(VerifyReport::EDITED, s,
             absl::StrCat(source_.Where(r),
                          " does not match its hash: its content or stored "
                          "hash was changed"));
      }
      return absl::OkStatus();
    }
    std::optional<Row> target;
    LIENTHONG_ASSIGN_OR_RETURN(target, FindByHash(rec.prev_hash(), r.ordinal));
    if (target.has_value() && target->ordinal > r.ordinal) {
      Fail(VerifyReport::REORDERED, expected,
           absl::StrCat(source_.Where(r), " is out of place: it follows record ",
                        target->record.sequence(),
                        ", which comes later in the log"));
    } else if (target.has_value()) {
      const uint64_t first_extra = target->record.sequence() + 1;
      Fail(VerifyReport::INSERTED, first_extra,
           absl::StrCat(Records(first_extra, prev_sequence_),
                        " not part of the chain: ", source_.Where(r),
                        " links to record ", target->record.sequence()));
    } else if (s > expected) {
      Fail(VerifyReport::DELETED, expected,
           absl::StrCat(Records(expected, s - 1), " missing"));
    } else if (self && in_sequence) {
      const uint64_t edited = prev_sequence_ > 0 ? prev_sequence_ : s;
      Fail(VerifyReport::EDITED, edited,
           absl::StrCat("record ", edited,
                        " was replaced (its hash recomputed): record ", s,
                        " does not link to it"));
    } else if (std::optional<uint64_t> d = RenumberedBy(rec)) {
      Fail(VerifyReport::DELETED, s,
           absl::StrCat(Records(s, s + *d - 1),
                        " missing; the records after were renumbered to "
                        "hide the gap"));
    } else if (next_skips_r) {
      Fail(VerifyReport::INSERTED, s,
           absl::StrCat(source_.Where(r),
                        " is not part of the chain: the next record links to "
                        "record ",
                        prev_sequence_));
    } else {
      Fail(VerifyReport::EDITED, expected,
           absl::StrCat(source_.Where(r),
                        " does not link to the record before it"));
    }
    return absl::OkStatus();
  }

  // Checks the checkpoints that sign good record `rec`, in index order.
  void CheckCheckpoints(const AuditRecord& rec) {
    const uint64_t s = rec.sequence();
    while (!failed() && next_cp_ < checkpoints_.size() &&
           checkpoints_[next_cp_].sequence() <= s) {
      const AuditCheckpoint& c = checkpoints_[next_cp_++];
      if (c.sequence() < s) {
        // Before the first record of a partial export: it vouches for
        // records not here.
        if (partial_ && report_.checkpoints_checked() == 0) continue;
        Fail(VerifyReport::BAD_SIGNATURE, c.sequence(),
             absl::StrCat("checkpoint #", c.index(), " for record ",
                          c.sequence(), " is out of order"),
             c.index());
        return;
      }
      CheckOne(c, rec);
    }
  }

  void CheckOne(const AuditCheckpoint& c, const AuditRecord& rec) {
    const uint64_t s = rec.sequence();
    if (absl::Status sig = VerifyCheckpoint(c, key_); !sig.ok()) {
      Fail(VerifyReport::BAD_SIGNATURE, s,
           absl::StrCat("checkpoint #", c.index(), " at record ", s, ": ",
                        sig.message()),
           c.index());
      return;
    }
    if (c.hash() != rec.hash()) {
      Fail(VerifyReport::BAD_SIGNATURE, s,
           absl::StrCat("record ", s, " is not the record signed by checkpoint #",
                        c.index(), ": the chain was rewritten and re-hashed "
                        "somewhere in records ",
                        last_cp_.known ? last_cp_.sequence + 1 : 1, "..", s),
           c.index());
      return;
    }
    const bool epoch = c.reason() == AuditCheckpoint::EPOCH;
    if (last_cp_.reset && !epoch) {
      Fail(VerifyReport::CHECKPOINT_MISSING, s,
           absl::StrCat("the epoch record ", s,
                        " is not signed by an epoch checkpoint"),
           c.index());
      return;
    }
    if (last_cp_.known && !last_cp_.reset) {
      const bool next = epoch ? c.index() > last_cp_.index
                              : c.index() == last_cp_.index + 1 &&
                                    c.first_sequence() == last_cp_.sequence + 1;
      if (!next || c.prev_checkpoint_hash() != last_cp_.hash) {
        const bool gap = c.index() > last_cp_.index + 1 ||
                         c.first_sequence() > last_cp_.sequence + 1;
        if (gap && !epoch) {
          const uint64_t at = c.first_sequence() > last_cp_.sequence + 1
                                  ? c.first_sequence() - 1
                                  : s;
          Fail(VerifyReport::CHECKPOINT_MISSING, at,
               absl::StrCat("checkpoint #", last_cp_.index + 1,
                            " is missing: checkpoint #", c.index(),
                            " (record ", s, ") follows #", last_cp_.index,
                            " (record ", last_cp_.sequence, ")"),
               last_cp_.index + 1);
        } else {
          Fail(VerifyReport::BAD_SIGNATURE, s,
               absl::StrCat("checkpoint #", c.index(), " (record ", s,
                            ") does not follow checkpoint #", last_cp_.index,
                            ": a checkpoint was replaced or reordered"),
               c.index());
        }
        return;
      }
    }
    last_cp_.known = true;
    last_cp_.reset = false;
    last_cp_.index = c.index();
    last_cp_.sequence = s;
    last_cp_.hash = c.checkpoint_hash();
    last_cp_.every = std::max<uint64_t>(1, c.checkpoint_every());
    report_.set_checkpoints_checked(report_.checkpoints_checked() + 1);
    report_.set_last_checkpoint_sequence(s);
    report_.set_last_checkpoint_index(c.index());
  }

  void CheckCadence(uint64_t s) {
    if (!last_cp_.known || last_cp_.reset) return;
    const uint64_t due = last_cp_.sequence + last_cp_.every;
    if (s >= due) {
      Fail(VerifyReport::CHECKPOINT_MISSING, due,
           absl::StrCat("record ", due, " is not signed: checkpoint #",
                        last_cp_.index + 1, ", due ", last_cp_.every,
                        " records after #", last_cp_.index, " (record ",
                        last_cp_.sequence, "), is missing"),
           last_cp_.index + 1);
    }
  }

  void EndOfRecords() {
    if (next_cp_ >= checkpoints_.size()) return;
    const AuditCheckpoint& c = checkpoints_[next_cp_];
    if (absl::Status sig = VerifyCheckpoint(c, key_); !sig.ok()) {
      Fail(VerifyReport::BAD_SIGNATURE, c.sequence(),
           absl::StrCat("checkpoint #", c.index(), " at record ", c.sequence(),
                        ": ", sig.message()),
           c.index());
      return;
    }
    Fail(VerifyReport::TRUNCATED, prev_sequence_ + 1,
         absl::StrCat(
             prev_sequence_ == 0
                 ? std::string("the log is empty")
                 : absl::StrCat("the log ends at record ", prev_sequence_),
             " but signed checkpoint #", c.index(), " covers record ",
             c.sequence(), ": ", Records(prev_sequence_ + 1, c.sequence()),
             " cut off"),
         c.index());
  }

  // A partial export takes its first record's link on trust, so only a
  // checkpoint it holds proves its records (through the chain, those before
  // the checkpoint too). Holding none, it proves nothing: it may have been
  // stripped of them, or made up whole, as hashes are unkeyed. It is not
  // the unsigned tail a journal may end with either: that follows a
  // checkpoint the walk checked, within its cadence. A walk from a signed
  // head (a journal, a whole export) is held to the cadence instead.
  void CheckSigned() {
    if (!partial_ || last_cp_.known || report_.records_checked() == 0) return;
    Fail(VerifyReport::CHECKPOINT_MISSING, first_sequence_,
         absl::StrCat("no signed checkpoint covers ",
                      RecordRange(first_sequence_, prev_sequence_),
                      ": the export holds no checkpoint from its first record "
                      "on, so nothing proves them (its checkpoints were "
                      "removed, or none was written yet: export from an "
                      "earlier time, or after a clean stop)"));
  }

  // Every anchored checkpoint must be in the journal, the same.
  void CheckAnchors() {
    if (anchors_.empty()) return;
    std::map<uint64_t, const AuditCheckpoint*> by_index;
    for (const AuditCheckpoint& c : checkpoints_) {
      by_index.emplace(c.index(), &c);
    }
    for (const AuditCheckpoint& a : anchors_) {
      // Archived (not walked), or signing a record before a partial export
      // (which holds every checkpoint from its first record on: query.h),
      // told by the first record, not by the file's own checkpoints, which
      // can be deleted with it.
      if ((partial_ && a.sequence() < first_sequence_) ||
          a.index() < first_checkpoint_index_) {
        continue;
      }
      Span* in = SpanOf(a.epoch());
      if (absl::Status sig = VerifyCheckpoint(a, key_); !sig.ok()) {
        in->Note({VerifyReport::BAD_SIGNATURE, a.sequence(), a.index(),
                  absl::StrCat("the anchor file's checkpoint #", a.index(),
                               " does not verify: ", sig.message())});
        continue;
      }
      auto it = by_index.find(a.index());
      if (it != by_index.end()) {
        if (it->second->checkpoint_hash() == a.checkpoint_hash()) {
          report_.set_anchors_checked(report_.anchors_checked() + 1);
        } else {
          in->Note({VerifyReport::BAD_SIGNATURE, a.sequence(), a.index(),
                    absl::StrCat("checkpoint #", a.index(),
                                 " in the journal is not the anchored one: "
                                 "it was replaced")});
        }
        continue;
      }
      if (a.sequence() > in->last_sequence) {
        in->Note({VerifyReport::TRUNCATED, in->last_sequence + 1, a.index(),
                  absl::StrCat("the anchors hold checkpoint #", a.index(),
                               " for record ", a.sequence(),
                               " but the journal ends at record ",
                               in->last_sequence, ": ",
                               Records(in->last_sequence + 1, a.sequence()),
                               " cut off with their checkpoints")});
      } else {
        in->Note({VerifyReport::CHECKPOINT_MISSING, a.sequence(), a.index(),
                  absl::StrCat("checkpoint #", a.index(), " (record ",
                               a.sequence(),
                               "), held by the anchors, is not in the "
                               "journal")});
      }
    }
  }

  Span* SpanOf(uint32_t epoch) {
    Span* found = &spans_.front();
    for (Span& s : spans_) {
      if (s.epoch <= epoch) found = &s;
    }
    return found;
  }

  VerifyReport Report() {
    for (size_t i = 0; i < spans_.size(); ++i) {
      const Span& s = spans_[i];
      const bool last = i + 1 == spans_.size();
      if (s.finding.has_value()) {
        const Finding& f = *s.finding;
        const bool acknowledged =
            !last && s.closed_by.has_value() &&
            s.closed_by->first_bad_sequence() == f.sequence &&
            s.closed_by->problem() == f.problem;
        if (!acknowledged) {
          report_.set_intact(false);
          report_.set_problem(f.problem);
          report_.set_first_bad_sequence(f.sequence);
          report_.set_first_bad_checkpoint(f.checkpoint);
          report_.set_detail(f.detail);
          return report_;
        }
      }
      if (!last && s.closed_by.has_value()) {
        *report_.add_acknowledged_breaks() = *s.closed_by;
      }
    }
    report_.set_intact(true);
    return report_;
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
  std::vector<AuditCheckpoint> anchors_;
  size_t next_cp_ = 0;
  LastCheckpoint last_cp_;
  bool partial_ = false;
  uint64_t first_sequence_ = 1;  // a partial export's first record
  uint64_t first_checkpoint_index_ = 0;

  std::vector<Span> spans_;
  uint64_t prev_sequence_ = 0;
  std::string prev_hash_ = GenesisHash();
  VerifyReport report_;
};

}  // namespace

absl::StatusOr<VerifyReport> Walk(Source& source, const VerifyOptions& options,
                                  std::vector<AuditCheckpoint> anchors) {
  if (options.key == nullptr) {
    return absl::InvalidArgumentError("verification needs a public key");
  }
  LIENTHONG_ASSIGN_OR_RETURN(std::vector<AuditCheckpoint> checkpoints,
                             source.Checkpoints());
  return Walker(source, options, std::move(checkpoints), std::move(anchors))
      .Run();
}

}  // namespace lienthong::audit
