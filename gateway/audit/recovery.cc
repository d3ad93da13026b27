#include "gateway/audit/recovery.h"

#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/audit/anchor.h"
#include "gateway/audit/archive.h"
#include "gateway/status/status_macros.h"

namespace lienthong::audit {
namespace {

constexpr char kOperatorAction[] =
    "; inspect it with `lienthong audit verify` and open a new epoch with "
    "`lienthong audit new-epoch`";

struct Entry {
  JournalPosition at;
  bool is_checkpoint = false;
  bool parsed = false;
  AuditRecord record;
  AuditCheckpoint checkpoint;
};

std::string Where(const JournalPosition& at) {
  return absl::StrCat("segment ", at.segment, " offset ", at.offset);
}

// Reads segment `number` (to `end` when not 0) into `out`, in order.
absl::Status ReadSegment(const std::string& dir, uint64_t number, uint64_t end,
                         std::vector<Entry>* out, std::string* damage) {
  std::vector<Entry> entries;
  JournalScanHooks hooks;
  hooks.on_damage = [&](const JournalPosition& at, const std::string& why) {
    if (damage->empty()) *damage = absl::StrCat(Where(at), ": ", why);
  };
  LIENTHONG_RETURN_IF_ERROR(ReadJournal(
      dir, {number, 0}, {number, end},
      [&](const JournalPosition& at, const Frame& frame) {
        Entry e;
        e.at = at;
        e.is_checkpoint = frame.type == FrameType::kCheckpoint;
        const int size = static_cast<int>(frame.payload.size());
        e.parsed = e.is_checkpoint
                       ? e.checkpoint.ParseFromArray(frame.payload.data(), size)
                       : e.record.ParseFromArray(frame.payload.data(), size);
        entries.push_back(std::move(e));
        return true;
      },
      hooks));
  out->insert(out->begin(), entries.begin(), entries.end());
  return absl::OkStatus();
}

Recovery NotReady(std::string reason) {
  Recovery r;
  r.ready = false;
  r.reason = absl::StrCat("audit log not ready: ", reason, kOperatorAction);
  return r;
}

// How many segments back from the journal's end an open looks for an
// anchored checkpoint further behind than one (anchoring failed for a
// while): at the default 64 MiB a segment, the last GiB of the journal.
constexpr size_t kAnchorSearchSegments = 16;

// Follows the checkpoints from `last` back, each the one its successor
// names as previous (by hash), to the one numbered like `anchored`, in at
// most kAnchorSearchSegments segments from the journal's end. Returns
// whether that checkpoint is `anchored`; nullopt when the chain does not
// reach it there (further back, or archived).
absl::StatusOr<std::optional<bool>> ChainReaches(
    const std::string& dir, const JournalTail& tail,
    const AuditCheckpoint& last, const AuditCheckpoint& anchored) {
  std::string expected = last.prev_checkpoint_hash();
  uint64_t want = last.index() - 1;
  for (size_t back = 0;
       back < tail.segments.size() && back < kAnchorSearchSegments; ++back) {
    const uint64_t number =
        tail.segments[tail.segments.size() - 1 - back].number;
    const uint64_t end = number == tail.end.segment ? tail.end.offset : 0;
    std::vector<AuditCheckpoint> checkpoints;
    LIENTHONG_RETURN_IF_ERROR(
        ReadJournal(dir, {number, 0}, {number, end},
                    [&](const JournalPosition&, const Frame& frame) {
                      AuditCheckpoint checkpoint;
                      if (frame.type == FrameType::kCheckpoint &&
                          checkpoint.ParseFromArray(
                              frame.payload.data(),
                              static_cast<int>(frame.payload.size()))) {
                        checkpoints.push_back(std::move(checkpoint));
                      }
                      return true;
                    }));
    for (auto it = checkpoints.rbegin(); it != checkpoints.rend(); ++it) {
      // A checkpoint of a broken span, numbered again by a new epoch, is
      // not the one named.
      if (it->index() != want || it->checkpoint_hash() != expected) continue;
      absl::StatusOr<std::string> hash = CheckpointHash(*it);
      if (!hash.ok() || *hash != expected) continue;
      if (want == anchored.index()) {
        return std::optional<bool>(expected == anchored.checkpoint_hash());
      }
      expected = it->prev_checkpoint_hash();
      --want;
    }
  }
  return std::optional<bool>();
}

// Compares the last checkpoint with the anchor file's latest (the highest
// index, wherever its line is: an older line appended after it must not
// stand in for it); returns a reason when they disagree, and notes what it
// checked in `details`.
absl::StatusOr<std::optional<std::string>> CheckAnchor(
    const RecoveryOptions& options, const JournalTail& tail,
    const AuditCheckpoint& last, std::string* details) {
  if (options.anchor_file.empty()) {
    absl::StrAppend(details, "; anchors=none configured");
    return std::nullopt;
  }
  absl::StatusOr<std::optional<AuditCheckpoint>> anchor =
      ReadLastAnchor(options.anchor_file);
  if (!anchor.ok()) {
    return absl::StrCat("the anchor file cannot be read: ",
                        anchor.status().message());
  }
  if (!anchor->has_value()) {
    // Every checkpoint is anchored once it is durable in the journal: an
    // anchor file without any beside a journal past its first checkpoint
    // (a crash can come between the two) was removed or emptied, which
    // would hide a cut journal end. Anchoring turned on later, or anchors
    // that always failed, look the same: an operator says so with a new
    // epoch, whose checkpoint starts the file.
    if (last.index() <= 1) {
      absl::StrAppend(details,
                      "; anchors=file missing or empty at the "
                      "journal's first checkpoint");
      return std::nullopt;
    }
    return absl::StrCat(
        "the journal holds checkpoint #", last.index(), " (record ",
        last.sequence(), ") but the anchor file ", options.anchor_file,
        " holds none: it was removed or emptied, so a cut journal end would "
        "not show");
  }
  const AuditCheckpoint& a = **anchor;
  if (absl::Status sig = VerifyCheckpoint(a, *options.key); !sig.ok()) {
    return absl::StrCat("the anchor file's latest checkpoint (#", a.index(),
                        ") does not verify: ", sig.message());
  }
  if (a.index() > last.index()) {
    return absl::StrCat(
        "the anchor file holds checkpoint #", a.index(), " (record ",
        a.sequence(), ") but the journal's last is #", last.index(),
        " (record ", last.sequence(),
        "): the journal's end was cut or its checkpoints removed");
  }
  if (a.index() == last.index() &&
      a.checkpoint_hash() != last.checkpoint_hash()) {
    return absl::StrCat("checkpoint #", a.index(),
                        " in the journal is not the one in the anchor file");
  }
  // One behind (a crash between the journal's write and the anchor's): the
  // journal's last checkpoint names the one before it, which must be the
  // anchored one. Another journal signed with the same key (a replica's)
  // names another.
  if (a.index() + 1 == last.index() &&
      a.checkpoint_hash() != last.prev_checkpoint_hash()) {
    return absl::StrCat("checkpoint #", a.index(),
                        " in the anchor file is not the one the journal's #",
                        last.index(),
                        " follows: the journal is not the anchored one");
  }
  if (a.index() == last.index()) {
    absl::StrAppend(details, "; anchors=last checkpoint matches");
    return std::nullopt;
  }
  if (a.index() + 1 == last.index()) {
    absl::StrAppend(details, "; anchors=file one checkpoint behind, matches");
    return std::nullopt;
  }
  // Further behind: anchoring failed for a while (the log said so, and
  // /readyz).
  LIENTHONG_ASSIGN_OR_RETURN(std::optional<bool> reached,
                             ChainReaches(options.journal_dir, tail, last, a));
  const uint64_t behind = last.index() - a.index();
  if (reached.has_value() && !*reached) {
    return absl::StrCat("checkpoint #", a.index(),
                        " in the anchor file is not the one the journal's #",
                        last.index(), " goes back to (", behind,
                        " checkpoints behind): the journal is not the "
                        "anchored one");
  }
  // Not reached: only `lienthong audit verify --anchors` compares it.
  absl::StrAppend(details, "; anchors=file ", behind,
                  " checkpoints behind the journal, ",
                  reached.has_value() ? "matches"
                                      : "not compared (not in its last "
                                        "segments)");
  return std::nullopt;
}

// For a journal that holds nothing whole: a reason when what is kept
// beside it says it held records (checkpoints in the anchor file, archives
// anchored in the journal's folder), so that its segments were removed or
// lost and beginning again at record 1 would hide that.
std::optional<std::string> CheckNothingWasKept(const RecoveryOptions& options) {
  absl::StatusOr<std::vector<lienthong::v1::AuditArchiveAnchor>> archived =
      ReadArchiveAnchors(options.journal_dir);
  if (!archived.ok()) {
    return absl::StrCat("the archive anchors cannot be read: ",
                        archived.status().message());
  }
  if (!archived->empty()) {
    return absl::StrCat("the journal holds nothing after archive ",
                        archived->back().manifest().archive(), " (record ",
                        archived->back().manifest().last_sequence(),
                        "): its live segments were removed or lost");
  }
  if (options.anchor_file.empty()) return std::nullopt;
  absl::StatusOr<std::optional<AuditCheckpoint>> anchor =
      ReadLastAnchor(options.anchor_file);
  if (!anchor.ok()) {
    return absl::StrCat("the anchor file cannot be read: ",
                        anchor.status().message());
  }
  if (anchor->has_value()) {
    return absl::StrCat(
        "the journal holds nothing, but the anchor file holds checkpoint #",
        (*anchor)->index(), " (record ", (*anchor)->sequence(),
        "): the journal's segments were removed or lost (for a journal "
        "meant to begin anew, move the anchor file aside)");
  }
  return std::nullopt;
}

// The checkpoints after the record they sign (entries r+1..c): each
// valid, each the next of the one before. Returns the first problem.
std::optional<std::string> CheckCheckpoints(const std::vector<Entry>& entries,
                                            int r, int c,
                                            const PublicKey& key) {
  for (int i = r + 1; i <= c; ++i) {
    const AuditCheckpoint& cp = entries[i].checkpoint;
    if (absl::Status sig = VerifyCheckpoint(cp, key); !sig.ok()) {
      return absl::StrCat("checkpoint #", cp.index(), " at ",
                          Where(entries[i].at), ": ", sig.message());
    }
    if (i > r + 1) {
      const AuditCheckpoint& prev = entries[i - 1].checkpoint;
      if (cp.index() != prev.index() + 1 ||
          cp.prev_checkpoint_hash() != prev.checkpoint_hash()) {
        return absl::StrCat("checkpoint #", cp.index(),
                            " does not follow checkpoint #", prev.index());
      }
    }
  }
  return std::nullopt;
}

// Every record after the last checkpoint (entry c): numbered and linked in
// turn from `*sequence` and `*hash`, its hash right, and no epoch record
// (new-epoch writes one with its checkpoint; unsigned, anyone could have
// written it, and the next checkpoint would sign it). Leaves the head in
// them; returns the first problem.
std::optional<std::string> CheckRecordsAfter(const std::vector<Entry>& entries,
                                             int c, uint64_t* sequence,
                                             std::string* hash) {
  for (size_t i = static_cast<size_t>(c) + 1; i < entries.size(); ++i) {
    const AuditRecord& rec = entries[i].record;
    if (entries[i].is_checkpoint || rec.sequence() != *sequence + 1 ||
        rec.prev_hash() != *hash || !RecordHashMatches(rec)) {
      return absl::StrCat("record ", *sequence + 1, " (at ",
                          Where(entries[i].at),
                          ") does not continue the chain");
    }
    if (rec.kind() == AuditRecord::EPOCH_OPENED) {
      return absl::StrCat("record ", rec.sequence(), " (at ",
                          Where(entries[i].at),
                          ") is an epoch record that no checkpoint signs");
    }
    *sequence = rec.sequence();
    *hash = rec.hash();
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<Recovery> RecoverJournal(const JournalTail& tail,
                                        const RecoveryOptions& options) {
  if (tail.damaged) {
    return NotReady(absl::StrCat("the journal is damaged at ",
                                 Where(tail.damage_at), " (", tail.damage,
                                 ")"));
  }
  // Back from the end to the last checkpoint: in the last segment, or the
  // seal at the end of the one before (also when the last segment holds
  // nothing whole: its first write was torn).
  std::vector<Entry> entries;
  std::string damage;
  uint64_t segment = tail.end.segment;
  LIENTHONG_RETURN_IF_ERROR(ReadSegment(options.journal_dir, segment,
                                        tail.end.offset, &entries, &damage));
  auto last_checkpoint = [&]() -> int {
    for (int i = static_cast<int>(entries.size()) - 1; i >= 0; --i) {
      if (entries[i].is_checkpoint) return i;
    }
    return -1;
  };
  auto last_record_before = [&](int end) -> int {
    for (int i = end - 1; i >= 0; --i) {
      if (!entries[i].is_checkpoint) return i;
    }
    return -1;
  };
  const bool has_earlier =
      !tail.segments.empty() && tail.segments.front().number < segment;
  if ((last_checkpoint() < 0 || last_record_before(last_checkpoint()) < 0) &&
      has_earlier) {
    LIENTHONG_RETURN_IF_ERROR(ReadSegment(options.journal_dir, segment - 1, 0,
                                          &entries, &damage));
  }
  if (!damage.empty()) {
    return NotReady(absl::StrCat("the journal is damaged at ", damage));
  }
  Recovery out;
  if (entries.empty()) {
    if (std::optional<std::string> problem = CheckNothingWasKept(options)) {
      return NotReady(*problem);
    }
    out.ready = true;
    out.details = "journal=new";
    if (tail.torn_bytes > 0) {
      absl::StrAppend(&out.details, "; torn_tail_bytes=", tail.torn_bytes,
                      " (cut at ", Where(tail.end), ")");
    }
    return out;
  }
  for (const Entry& e : entries) {
    if (!e.parsed) {
      return NotReady(absl::StrCat("an entry at ", Where(e.at),
                                   " cannot be read"));
    }
  }
  const int c = last_checkpoint();
  const int r = c < 0 ? -1 : last_record_before(c);
  if (c < 0 || r < 0) {
    return NotReady("no signed checkpoint was found at the journal's end");
  }
  if (std::optional<std::string> problem =
          CheckCheckpoints(entries, r, c, *options.key)) {
    return NotReady(*problem);
  }
  const AuditRecord& signed_record = entries[r].record;
  const AuditCheckpoint& checkpoint = entries[c].checkpoint;
  if (!RecordHashMatches(signed_record) ||
      checkpoint.sequence() != signed_record.sequence() ||
      checkpoint.hash() != signed_record.hash()) {
    return NotReady(absl::StrCat(
        "record ", signed_record.sequence(), " is not the record its checkpoint #",
        checkpoint.index(), " signs: the chain was rewritten"));
  }
  uint64_t sequence = signed_record.sequence();
  std::string hash = signed_record.hash();
  if (std::optional<std::string> problem =
          CheckRecordsAfter(entries, c, &sequence, &hash)) {
    return NotReady(*problem);
  }
  const uint64_t every = checkpoint.checkpoint_every();
  if (every == 0 || sequence >= checkpoint.sequence() + every) {
    return NotReady(absl::StrCat(
        "records ", checkpoint.sequence() + 1, "..", sequence,
        " go past the checkpoint due at record ",
        checkpoint.sequence() + every, ", which is missing"));
  }
  out.clean_stop = static_cast<size_t>(c) + 1 == entries.size() &&
                   checkpoint.reason() == AuditCheckpoint::CLEAN_STOP;
  out.segment_sealed = static_cast<size_t>(c) + 1 == entries.size() &&
                       checkpoint.reason() == AuditCheckpoint::SEGMENT_SEALED &&
                       entries[c].at.segment == tail.end.segment;
  out.details = absl::StrCat(
      "previous_stop=", out.clean_stop ? "clean" : "not clean",
      "; last_checkpoint=", checkpoint.index(), " (record ",
      checkpoint.sequence(), "); records_after_checkpoint=",
      sequence - checkpoint.sequence(), " verified");
  if (tail.torn_bytes > 0) {
    absl::StrAppend(&out.details, "; torn_tail_bytes=", tail.torn_bytes,
                    " (an unfinished write, never acknowledged, cut at ",
                    Where(tail.end), ")");
  }
  LIENTHONG_ASSIGN_OR_RETURN(
      std::optional<std::string> anchor_problem,
      CheckAnchor(options, tail, checkpoint, &out.details));
  if (anchor_problem.has_value()) return NotReady(*anchor_problem);
  out.ready = true;
  out.head.sequence = sequence;
  out.head.hash = hash;
  out.head.checkpoint_index = checkpoint.index();
  out.head.checkpoint_hash = checkpoint.checkpoint_hash();
  out.head.checkpoint_sequence = checkpoint.sequence();
  out.head.checkpoint_every = checkpoint.checkpoint_every();
  out.head.epoch = checkpoint.epoch();
  return out;
}

}  // namespace lienthong::audit
