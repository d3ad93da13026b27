#include "gateway/audit/epoch.h"

#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/audit/anchor.h"
#include "gateway/audit/archive.h"
#include "gateway/audit/journal.h"
#include "gateway/audit/record.h"
#include "gateway/audit/recovery.h"
#include "gateway/audit/verify.h"
#include "gateway/status/status_macros.h"
#include "gateway/validation/text.h"

namespace lienthong::audit {
namespace {

// Record and checkpoint numbers from here on are no gateway's (the index
// keeps them as SQLite integers, and the next one must fit too).
constexpr uint64_t kMaxNumber = std::numeric_limits<int64_t>::max();

// The last record and checkpoint that can be read, whatever their state:
// in the journal, else at the end of the last archive. One numbered
// kMaxNumber or more, in the broken part, is passed over, so the new epoch
// is not numbered out of every query's reach, nor wrapped to 0.
absl::StatusOr<ChainHead> FindLast(
    const std::string& dir, const std::string& anchor_file,
    const std::vector<lienthong::v1::AuditArchiveAnchor>& archived) {
  ChainHead found =
      archived.empty() ? ChainHead() : ArchiveHead(archived.back().manifest());
  found.epoch = std::max<uint32_t>(found.epoch, 1);
  LIENTHONG_RETURN_IF_ERROR(ReadJournal(
      dir, {}, {}, [&](const JournalPosition&, const Frame& frame) {
        const int size = static_cast<int>(frame.payload.size());
        if (frame.type == FrameType::kRecord) {
          AuditRecord record;
          if (record.ParseFromArray(frame.payload.data(), size) &&
              record.sequence() >= found.sequence &&
              record.sequence() < kMaxNumber) {
            found.sequence = record.sequence();
            found.hash = record.hash();
          }
          return true;
        }
        AuditCheckpoint checkpoint;
        if (checkpoint.ParseFromArray(frame.payload.data(), size) &&
            checkpoint.index() >= found.checkpoint_index &&
            checkpoint.index() < kMaxNumber) {
          found.checkpoint_index = checkpoint.index();
          found.checkpoint_hash = checkpoint.checkpoint_hash();
          found.epoch = std::max(found.epoch, checkpoint.epoch());
        }
        return true;
      }));
  // The new checkpoint's index is past any the anchors hold, so it never
  // collides with a checkpoint that was cut from the journal.
  if (!anchor_file.empty()) {
    absl::StatusOr<std::vector<AuditCheckpoint>> anchors =
        ReadAnchorFile(anchor_file);
    if (anchors.ok()) {
      for (const AuditCheckpoint& a : *anchors) {
        if (a.index() >= kMaxNumber) continue;
        found.checkpoint_index = std::max(found.checkpoint_index, a.index());
        found.epoch = std::max(found.epoch, a.epoch());
      }
    }
  }
  return found;
}

// Verifies and recovers the journal as the gateway would, and describes the
// break they find (epoch, who and when are left to the caller). Fails with
// FAILED_PRECONDITION when there is no break to acknowledge.
absl::StatusOr<lienthong::v1::AuditBreak> DescribeBreak(
    const NewEpochOptions& options, const Journal& journal) {
  const PublicKey& public_key = options.key->public_key();
  VerifyOptions verify;
  verify.key = &public_key;
  verify.key_pinned = options.key_pinned;
  verify.anchor_file = options.anchor_file;
  LIENTHONG_ASSIGN_OR_RETURN(VerifyReport report,
                             VerifyJournal(options.journal_dir, verify));
  LIENTHONG_ASSIGN_OR_RETURN(
      Recovery recovery,
      RecoverJournal(journal.tail(),
                     {options.journal_dir, &public_key, options.anchor_file}));
  if (report.intact() && recovery.ready) {
    return absl::FailedPreconditionError(
        "the journal verifies and the gateway would open it: there is no "
        "break to acknowledge");
  }
  lienthong::v1::AuditBreak epoch_break;
  if (!report.intact()) {
    epoch_break.set_first_bad_sequence(report.first_bad_sequence());
    epoch_break.set_first_bad_checkpoint(report.first_bad_checkpoint());
    epoch_break.set_problem(report.problem());
    epoch_break.set_detail(report.detail());
  } else {
    epoch_break.set_detail(recovery.reason);
  }
  return epoch_break;
}

// Readies the journal's end for the epoch's frames. A damaged end stays as it
// is; a torn one (a crash's) is cut as the gateway would.
absl::Status PrepareTail(Journal& journal) {
  if (journal.tail().damaged) return journal.StartAfterDamage();
  LIENTHONG_RETURN_IF_ERROR(journal.CutTornTail());
  if (journal.remaining() < 64 * 1024) {
    LIENTHONG_RETURN_IF_ERROR(journal.NextSegment());
  }
  return absl::OkStatus();
}

// Returns the EPOCH_OPENED record that follows `found`, hashed.
absl::StatusOr<AuditRecord> EpochRecord(
    const ChainHead& found, const lienthong::v1::AuditBreak& epoch_break,
    const std::string& node) {
  AuditRecord record;
  record.set_sequence(found.sequence + 1);
  record.set_prev_hash(found.hash);
  *record.mutable_time() = epoch_break.time();
  record.set_node(node);
  record.set_kind(AuditRecord::EPOCH_OPENED);
  *record.mutable_epoch_break() = epoch_break;
  record.set_details(absl::StrCat("epoch=", epoch_break.epoch(),
                                  "; after record ", found.sequence,
                                  " and checkpoint #", found.checkpoint_index));
  LIENTHONG_ASSIGN_OR_RETURN(std::string hash, ComputeRecordHash(record));
  record.set_hash(hash);
  return record;
}

// Returns the signed EPOCH checkpoint over `record`, following `found`.
absl::StatusOr<AuditCheckpoint> EpochCheckpoint(
    const NewEpochOptions& options, const ChainHead& found,
    const AuditRecord& record, const lienthong::v1::AuditBreak& epoch_break) {
  AuditCheckpoint checkpoint;
  checkpoint.set_index(found.checkpoint_index + 1);
  checkpoint.set_first_sequence(record.sequence());
  checkpoint.set_sequence(record.sequence());
  checkpoint.set_hash(record.hash());
  checkpoint.set_prev_checkpoint_hash(found.checkpoint_hash);
  checkpoint.set_reason(AuditCheckpoint::EPOCH);
  checkpoint.set_checkpoint_every(options.checkpoint_every);
  checkpoint.set_epoch(epoch_break.epoch());
  checkpoint.set_node(options.node);
  *checkpoint.mutable_time() = epoch_break.time();
  return SignCheckpoint(*options.key, std::move(checkpoint));
}

// Writes the record and its checkpoint to the journal in one write, then
// publishes the checkpoint to the anchor file.
absl::Status WriteEpoch(Journal& journal, const AuditRecord& record,
                        const AuditCheckpoint& checkpoint,
                        const std::string& anchor_file) {
  std::string frames;
  AppendFrame(FrameType::kRecord, 0, journal.next_write(),
              record.SerializeAsString(), &frames);
  const size_t last = frames.size();
  AppendFrame(FrameType::kCheckpoint, 0, journal.next_write(),
              checkpoint.SerializeAsString(), &frames);
  MarkEndOfWrite(last, &frames);
  LIENTHONG_RETURN_IF_ERROR(journal.Write(frames));
  LIENTHONG_ASSIGN_OR_RETURN(std::unique_ptr<AnchorSink> anchors,
                             AnchorSink::Open({anchor_file, true}));
  return anchors->Publish({checkpoint});
}

}  // namespace

absl::StatusOr<NewEpochResult> OpenNewEpoch(const NewEpochOptions& options) {
  if (options.key == nullptr || options.journal_dir.empty() ||
      options.opened_by.empty() || options.reason.empty() ||
      options.node.empty()) {
    return absl::InvalidArgumentError(
        "a new epoch needs the journal, the signing key, who opens it and why");
  }
  if (options.node.size() > kMaxNodeBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a new epoch's node name is at most ", kMaxNodeBytes, " bytes"));
  }
  // Signed into the journal for good: text a reader cannot parse back (a
  // proto string must be UTF-8) would itself break the chain it mends.
  for (const auto& [text, what] :
       {std::pair{&options.node, "node name"},
        std::pair{&options.opened_by, "who opens it"},
        std::pair{&options.reason, "reason"}}) {
    if (absl::Status valid =
            validation::ValidateText(*text, kMaxEpochTextBytes);
        !valid.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("a new epoch's ", what, ": ", valid.message()));
    }
  }
  LIENTHONG_ASSIGN_OR_RETURN(
      std::vector<lienthong::v1::AuditArchiveAnchor> archived,
      ReadArchiveAnchors(options.journal_dir));
  Journal::Options journal_options;
  journal_options.dir = options.journal_dir;
  journal_options.segment_bytes = options.segment_bytes;
  journal_options.prepare_in_background = false;
  journal_options.first_segment = FirstLiveSegment(archived);
  LIENTHONG_ASSIGN_OR_RETURN(std::unique_ptr<Journal> journal,
                             Journal::Open(journal_options));
  LIENTHONG_ASSIGN_OR_RETURN(lienthong::v1::AuditBreak epoch_break,
                             DescribeBreak(options, *journal));
  LIENTHONG_ASSIGN_OR_RETURN(
      ChainHead found,
      FindLast(options.journal_dir, options.anchor_file, archived));
  epoch_break.set_epoch(found.epoch + 1);
  epoch_break.set_opened_by(options.opened_by);
  epoch_break.set_reason(options.reason);
  LIENTHONG_RETURN_IF_ERROR(
      ToProtoTime(absl::Now(), epoch_break.mutable_time()));

  LIENTHONG_RETURN_IF_ERROR(PrepareTail(*journal));
  LIENTHONG_ASSIGN_OR_RETURN(AuditRecord record,
                             EpochRecord(found, epoch_break, options.node));
  LIENTHONG_ASSIGN_OR_RETURN(
      AuditCheckpoint checkpoint,
      EpochCheckpoint(options, found, record, epoch_break));
  LIENTHONG_RETURN_IF_ERROR(
      WriteEpoch(*journal, record, checkpoint, options.anchor_file));

  NewEpochResult result;
  result.epoch_break = std::move(epoch_break);
  result.sequence = record.sequence();
  result.checkpoint_index = checkpoint.index();
  return result;
}

}  // namespace lienthong::audit
