// Tampering with a journal of 100,501 records, as someone with write access
// to the files and without the signing key would: each change is caught,
// with the right first bad record or checkpoint; the ones that only the
// anchors outside the journal can show are caught with them; a gateway
// opened on a forged journal stays not ready and signs nothing; and a torn
// last write from a crash is cut off and reported, not taken for tampering.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/audit/audit_log.h"
#include "gateway/audit/journal_format.h"
#include "gateway/audit/query.h"
#include "gateway/audit/verify.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/audit/test_util.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::audit {
namespace {

using ::lienthong::audit::testutil::AppendMany;
using ::lienthong::audit::testutil::Entry;
using ::lienthong::audit::testutil::ReadAll;
using ::lienthong::audit::testutil::ReadEntries;
using ::lienthong::audit::testutil::Rechain;
using ::lienthong::audit::testutil::RecordAt;
using ::lienthong::audit::testutil::SampleRecord;
using ::lienthong::audit::testutil::ScratchDir;
using ::lienthong::audit::testutil::TestOptions;
using ::lienthong::audit::testutil::WriteEntries;
using ::lienthong::testing::IsOk;
using ::testing::HasSubstr;

// Appended after the LOG_OPENED record: records 2..100501, periodic
// checkpoints at 1000, 2000, ..., 100000, a clean stop at 100501.
constexpr uint64_t kAppended = 100500;
constexpr uint64_t kLast = kAppended + 1;
constexpr uint64_t kSegmentBytes = 16 << 20;

// One journal made once for the whole program and rewritten for each case.
struct Golden {
  Golden() {
    options = TestOptions(dir);
    options.segment_bytes = kSegmentBytes;
    auto log = AuditLog::Open(options);
    EXPECT_THAT(log, IsOk());
    if (!log.ok()) return;
    EXPECT_THAT(AppendMany(**log, 1, kAppended), IsOk());
    EXPECT_THAT((*log)->Close(), IsOk());
    key = (*log)->public_key();
    log->reset();
    entries = ReadEntries(options.journal_dir);
  }

  // The checkpoint that signs `sequence` or the first after it; the last
  // one before it.
  const AuditCheckpoint& FirstFrom(uint64_t sequence) const {
    for (const Entry& e : entries) {
      if (e.is_checkpoint && e.checkpoint.sequence() >= sequence) {
        return e.checkpoint;
      }
    }
    return entries.back().checkpoint;
  }
  const AuditCheckpoint& LastBefore(uint64_t sequence) const {
    const AuditCheckpoint* last = nullptr;
    for (const Entry& e : entries) {
      if (e.is_checkpoint && e.checkpoint.sequence() < sequence) {
        last = &e.checkpoint;
      }
    }
    return *last;
  }

  ScratchDir dir;
  AuditLog::Options options;
  std::optional<PublicKey> key;
  std::vector<Entry> entries;
};

const Golden& GetGolden() {
  static Golden golden;  // Removes its directory at exit.
  return golden;
}

struct Expected {
  VerifyReport::Problem problem;
  uint64_t first_bad_sequence;
  uint64_t first_bad_checkpoint = 0;  // 0: not checked
};

struct TamperCase {
  const char* name;
  std::function<void(std::vector<Entry>&)> tamper;
  std::function<Expected(const Golden&)> expected;
  bool with_anchors = false;
};

class TamperTest : public ::testing::TestWithParam<TamperCase> {
 protected:
  void SetUp() override {
    golden_ = &GetGolden();
    ASSERT_TRUE(golden_->key.has_value());
    ASSERT_GT(golden_->entries.size(), kLast);
  }

  // The golden log's options with its store, journal and anchor file in
  // `dir`, the anchor file a copy of the golden one's.
  AuditLog::Options OptionsIn(const ScratchDir& dir) const {
    AuditLog::Options options = golden_->options;
    options.path = dir.File("audit.db");
    options.journal_dir = dir.File("journal");
    options.anchor_file = dir.File("anchors.jsonl");
    std::filesystem::copy_file(golden_->options.anchor_file,
                               options.anchor_file);
    return options;
  }

  // Writes `entries` as a journal and returns its folder.
  std::string Write(const std::vector<Entry>& entries, const std::string& name) {
    const std::string journal = scratch_.File(name);
    EXPECT_THAT(WriteEntries(journal, entries, kSegmentBytes), IsOk());
    return journal;
  }

  // Opens a log on `options`, whose journal (the golden one, cleanly
  // stopped) ends in a torn write of `torn` bytes: it opens ready with the
  // write cut, its LOG_OPENED record (sequence kLast + 1) reports the cut,
  // the chain goes on after it, and the journal verifies with its anchors.
  void ExpectTornWriteCutAndChainContinued(const AuditLog::Options& options,
                                           uint64_t torn) {
    auto log = AuditLog::Open(options);
    ASSERT_THAT(log, IsOk());
    EXPECT_TRUE((*log)->ready()) << (*log)->Readiness();
    EXPECT_EQ((*log)->stats().torn_tail_bytes_cut, torn);
    auto next = (*log)->AppendSync(SampleRecord(1, (*log)->citizen_key()));
    ASSERT_THAT(next, IsOk());
    EXPECT_EQ(next->sequence(), kLast + 2);  // after the LOG_OPENED record
    ASSERT_THAT((*log)->Close(), IsOk());
    log->reset();
    const std::vector<Entry> entries = ReadEntries(options.journal_dir);
    const AuditRecord& opened = entries[RecordAt(entries, kLast + 1)].record;
    EXPECT_EQ(opened.kind(), AuditRecord::LOG_OPENED);
    EXPECT_THAT(opened.details(),
                HasSubstr(absl::StrCat("torn_tail_bytes=", torn)));
    EXPECT_THAT(opened.details(), HasSubstr("previous_stop=clean"));
    const VerifyReport after = Verify(options.journal_dir, true);
    EXPECT_TRUE(after.intact()) << after.detail();
    EXPECT_EQ(after.torn_tail_bytes(), 0u);
  }

  VerifyReport Verify(const std::string& journal, bool with_anchors) {
    VerifyOptions options;
    options.key = &*golden_->key;
    options.key_pinned = true;
    if (with_anchors) options.anchor_file = golden_->options.anchor_file;
    const absl::Time start = absl::Now();
    auto report = VerifyJournal(journal, options);
    EXPECT_THAT(report, IsOk());
    std::cout << "  verified in " << absl::Now() - start << ": "
              << (report.ok() ? report->ShortDebugString() : "") << "\n";
    return report.ok() ? *report : VerifyReport();
  }

  const Golden* golden_ = nullptr;
  ScratchDir scratch_;
};

TEST_F(TamperTest, UntouchedJournalIsIntactWithItsAnchors) {
  const VerifyReport report = Verify(golden_->options.journal_dir, true);
  EXPECT_TRUE(report.intact()) << report.DebugString();
  EXPECT_EQ(report.records_checked(), kLast);
  EXPECT_EQ(report.last_sequence(), kLast);
  EXPECT_EQ(report.last_checkpoint_sequence(), kLast);
  EXPECT_GE(report.checkpoints_checked(), 102u);  // opened, 100 periodic, stop
  EXPECT_EQ(report.anchors_checked(), report.checkpoints_checked());
  EXPECT_TRUE(report.key_pinned());
  // Rewritten by the test's writer as it is, it still verifies: the
  // tampering below is judged on content, not on file layout.
  EXPECT_TRUE(Verify(Write(golden_->entries, "same"), true).intact());
}

TEST_F(TamperTest, AnotherKeyIsABadSignatureAtTheFirstCheckpoint) {
  ScratchDir other;
  ASSERT_THAT(GenerateSigningKeyFile(other.File("other.pem")), IsOk());
  auto other_key = PublicKey::FromPemFile(other.File("other.pem"));
  ASSERT_THAT(other_key, IsOk());
  VerifyOptions options;
  options.key = &*other_key;
  auto report = VerifyJournal(golden_->options.journal_dir, options);
  ASSERT_THAT(report, IsOk());
  EXPECT_FALSE(report->intact());
  EXPECT_EQ(report->problem(), VerifyReport::BAD_SIGNATURE);
  EXPECT_EQ(report->first_bad_sequence(), 1u);
  EXPECT_EQ(report->first_bad_checkpoint(), 1u);
  EXPECT_THAT(report->detail(), HasSubstr("another key"));
}

// Returns `entries` cut after record `cut` and the checkpoints that sign
// it, with everything after them.
std::vector<Entry> CutAfter(std::vector<Entry> entries, uint64_t cut) {
  size_t at = RecordAt(entries, cut) + 1;
  while (at < entries.size() && entries[at].is_checkpoint &&
         entries[at].checkpoint.sequence() == cut) {
    ++at;  // keep the checkpoints of the last record kept
  }
  entries.resize(at);
  return entries;
}

// Appends to `entries` an EPOCH_OPENED record for epoch 2 that names
// `problem` at `first_bad_sequence` as its break: linked and hashed right,
// as new-epoch writes it (epoch.cc), but without the EPOCH checkpoint that
// signs it, which takes the key.
void AppendForgedEpoch(std::vector<Entry>& entries,
                       VerifyReport::Problem problem,
                       uint64_t first_bad_sequence) {
  const AuditRecord* last = nullptr;
  for (const Entry& e : entries) {
    if (!e.is_checkpoint) last = &e.record;
  }
  Entry forged;
  AuditRecord& r = forged.record;
  r.set_sequence(last->sequence() + 1);
  r.set_prev_hash(last->hash());
  *r.mutable_time() = last->time();
  r.set_node(last->node());
  r.set_kind(AuditRecord::EPOCH_OPENED);
  lienthong::v1::AuditBreak& epoch_break = *r.mutable_epoch_break();
  epoch_break.set_epoch(2);
  epoch_break.set_first_bad_sequence(first_bad_sequence);
  epoch_break.set_problem(problem);
  epoch_break.set_opened_by("Nguyen Van B, security team");
  epoch_break.set_reason("ticket SEC-142: inspected");
  *epoch_break.mutable_time() = last->time();
  r.set_details(absl::StrCat("epoch=2; after record ", last->sequence()));
  r.set_hash(*ComputeRecordHash(r));
  entries.push_back(std::move(forged));
}

// The limit without anchors: a journal cut after a checkpoint, together
// with everything after it, reads as a journal that ended there. The
// anchors show the cut.
TEST_F(TamperTest, ATailCutWithItsCheckpointsNeedsTheAnchors) {
  for (uint64_t cut : {uint64_t{90000}, uint64_t{90500}}) {
    SCOPED_TRACE(cut);
    const std::vector<Entry> entries = CutAfter(golden_->entries, cut);
    const std::string journal = Write(entries, absl::StrCat("cut", cut));
    const VerifyReport alone = Verify(journal, false);
    EXPECT_TRUE(alone.intact()) << alone.detail();
    EXPECT_EQ(alone.last_sequence(), cut);
    const VerifyReport anchored = Verify(journal, true);
    EXPECT_FALSE(anchored.intact());
    EXPECT_EQ(anchored.problem(), VerifyReport::TRUNCATED) << anchored.detail();
    EXPECT_EQ(anchored.first_bad_sequence(), cut + 1);
    EXPECT_EQ(anchored.first_bad_checkpoint(),
              golden_->FirstFrom(cut + 1).index());
  }
}

// Must show: the same cut, followed by an epoch record that names it as
// the break it acknowledges. Anyone can write that record (record hashes
// are unkeyed); without the EPOCH checkpoint that signs it, it opens no
// epoch and acknowledges nothing.
TEST_F(TamperTest, AForgedEpochRecordDoesNotAcknowledgeATailCut) {
  constexpr uint64_t kCut = 90000;
  std::vector<Entry> entries = CutAfter(golden_->entries, kCut);
  AppendForgedEpoch(entries, VerifyReport::TRUNCATED, kCut + 1);
  const VerifyReport report = Verify(Write(entries, "forged_epoch"), true);
  EXPECT_FALSE(report.intact());
  EXPECT_EQ(report.acknowledged_breaks_size(), 0);
  EXPECT_EQ(VerifyReport::Problem_Name(report.problem()),
            VerifyReport::Problem_Name(VerifyReport::CHECKPOINT_MISSING))
      << report.detail();
  EXPECT_EQ(report.first_bad_sequence(), kCut + 1) << report.detail();
}

// Nor does a gateway opened on such a journal go on: new-epoch writes the
// epoch record and its checkpoint in one write, so an epoch record after
// the last checkpoint is forged, and the gateway's next checkpoint would
// sign it. Also when the anchors agree with the journal (the record
// appended after the clean stop).
TEST_F(TamperTest, AGatewayOpenedAfterAForgedEpochRecordIsNotReady) {
  for (const bool cut : {true, false}) {
    SCOPED_TRACE(cut ? "after a tail cut" : "after the clean stop");
    ScratchDir dir;
    AuditLog::Options options = OptionsIn(dir);
    std::vector<Entry> entries = golden_->entries;
    if (cut) entries = CutAfter(std::move(entries), 90000);
    AppendForgedEpoch(entries, VerifyReport::TRUNCATED,
                      cut ? uint64_t{90001} : kLast + 1);
    ASSERT_THAT(WriteEntries(options.journal_dir, entries, kSegmentBytes),
                IsOk());
    auto log = AuditLog::Open(options);
    ASSERT_THAT(log, IsOk());
    EXPECT_FALSE((*log)->ready());
    EXPECT_THAT((*log)->Readiness().message(),
                HasSubstr("an epoch record that no checkpoint signs"));
    EXPECT_THAT((*log)->Close(), IsOk());
  }
}

// Must show: the anchor file is append-only, not ordered. A copy of an
// older line appended to it (here, of the checkpoint the cut journal now
// ends with) does not pass for its latest anchor at the gateway's open
// check: the gateway would sign a history forking from the anchored one.
TEST_F(TamperTest, AnOldAnchorAppendedDoesNotHideACut) {
  constexpr uint64_t kCut = 90000;
  ScratchDir dir;
  AuditLog::Options options = OptionsIn(dir);
  std::ofstream(options.anchor_file, std::ios::app | std::ios::binary)
      << CheckpointJsonLine(golden_->LastBefore(kCut + 1));
  ASSERT_THAT(WriteEntries(options.journal_dir,
                           CutAfter(golden_->entries, kCut), kSegmentBytes),
              IsOk());
  auto log = AuditLog::Open(options);
  ASSERT_THAT(log, IsOk());
  EXPECT_FALSE((*log)->ready());
  EXPECT_THAT((*log)->Readiness().message(),
              HasSubstr("anchor file holds checkpoint"));
  EXPECT_THAT((*log)->Close(), IsOk());
}

TEST_P(TamperTest, IsCaughtAtTheFirstBadRecordOrCheckpoint) {
  const TamperCase& c = GetParam();
  std::vector<Entry> entries = golden_->entries;
  c.tamper(entries);
  const VerifyReport report = Verify(Write(entries, c.name), c.with_anchors);
  const Expected expected = c.expected(*golden_);
  EXPECT_FALSE(report.intact());
  EXPECT_EQ(VerifyReport::Problem_Name(report.problem()),
            VerifyReport::Problem_Name(expected.problem))
      << report.detail();
  EXPECT_EQ(report.first_bad_sequence(), expected.first_bad_sequence)
      << report.detail();
  if (expected.first_bad_checkpoint != 0) {
    EXPECT_EQ(report.first_bad_checkpoint(), expected.first_bad_checkpoint)
        << report.detail();
  }
}

// Mutators.
void EditRecord(std::vector<Entry>& e, uint64_t sequence,
                const std::function<void(AuditRecord&)>& edit) {
  edit(e[RecordAt(e, sequence)].record);
}
void EraseRecords(std::vector<Entry>& e, uint64_t from, uint64_t to) {
  e.erase(std::remove_if(e.begin(), e.end(),
                         [&](const Entry& x) {
                           return !x.is_checkpoint &&
                                  x.record.sequence() >= from &&
                                  x.record.sequence() <= to;
                         }),
          e.end());
}
size_t CheckpointAt(const std::vector<Entry>& e, uint64_t sequence,
                    AuditCheckpoint::Reason reason) {
  for (size_t i = 0; i < e.size(); ++i) {
    if (e[i].is_checkpoint && e[i].checkpoint.sequence() == sequence &&
        e[i].checkpoint.reason() == reason) {
      return i;
    }
  }
  return e.size();
}
void EditRechainAndDropLaterCheckpoints(std::vector<Entry>& e,
                                        uint64_t sequence) {
  const size_t at = RecordAt(e, sequence);
  e[at].record.set_outcome("NOT_FOUND");
  Rechain(e, at);
  e.erase(std::remove_if(e.begin() + static_cast<long>(at), e.end(),
                         [](const Entry& x) { return x.is_checkpoint; }),
          e.end());
}

Expected At(VerifyReport::Problem problem, uint64_t sequence) {
  return {problem, sequence, 0};
}

INSTANTIATE_TEST_SUITE_P(
    Journal, TamperTest,
    ::testing::Values(
        TamperCase{"edit_a_field",
                   [](std::vector<Entry>& e) {
                     EditRecord(e, 31337, [](AuditRecord& r) {
                       r.set_caller(r.caller() + "x");
                     });
                   },
                   [](const Golden&) { return At(VerifyReport::EDITED, 31337); }},
        TamperCase{"edit_the_stored_hash",
                   [](std::vector<Entry>& e) {
                     EditRecord(e, 31337, [](AuditRecord& r) {
                       r.set_hash(std::string(64, 'b'));
                     });
                   },
                   [](const Golden&) { return At(VerifyReport::EDITED, 31337); }},
        TamperCase{"shift_time_1ns",
                   [](std::vector<Entry>& e) {
                     EditRecord(e, 31337, [](AuditRecord& r) {
                       r.mutable_time()->set_nanos((r.time().nanos() + 1) %
                                                   1000000000);
                     });
                   },
                   [](const Golden&) { return At(VerifyReport::EDITED, 31337); }},
        TamperCase{"edit_and_rehash_one_record",
                   [](std::vector<Entry>& e) {
                     EditRecord(e, 31337, [](AuditRecord& r) {
                       r.set_outcome("NOT_FOUND");
                       r.set_hash(*ComputeRecordHash(r));
                     });
                   },
                   [](const Golden&) { return At(VerifyReport::EDITED, 31337); }},
        TamperCase{"delete_one",
                   [](std::vector<Entry>& e) { EraseRecords(e, 50001, 50001); },
                   [](const Golden&) { return At(VerifyReport::DELETED, 50001); }},
        TamperCase{"delete_a_range",
                   [](std::vector<Entry>& e) { EraseRecords(e, 50001, 50100); },
                   [](const Golden&) { return At(VerifyReport::DELETED, 50001); }},
        TamperCase{"delete_one_and_renumber",
                   [](std::vector<Entry>& e) {
                     EraseRecords(e, 50001, 50001);
                     for (Entry& x : e) {
                       if (!x.is_checkpoint && x.record.sequence() > 50001) {
                         x.record.set_sequence(x.record.sequence() - 1);
                       }
                     }
                   },
                   [](const Golden&) { return At(VerifyReport::DELETED, 50001); }},
        TamperCase{"swap_two",
                   [](std::vector<Entry>& e) {
                     std::swap(e[RecordAt(e, 60007)], e[RecordAt(e, 70003)]);
                   },
                   [](const Golden&) {
                     return At(VerifyReport::REORDERED, 60007);
                   }},
        TamperCase{"insert_one",
                   [](std::vector<Entry>& e) {
                     const size_t at = RecordAt(e, 70001);
                     Entry forged;
                     forged.record =
                         SampleRecord(7, *CitizenKey::FromBytes(
                                             testutil::kTestHmacKey));
                     forged.record.set_sequence(70001);
                     *forged.record.mutable_time() = e[at].record.time();
                     forged.record.set_prev_hash(e[at].record.prev_hash());
                     forged.record.set_hash(*ComputeRecordHash(forged.record));
                     e.insert(e.begin() + static_cast<long>(at), forged);
                     for (size_t i = at + 1; i < e.size(); ++i) {
                       if (!e[i].is_checkpoint) {
                         e[i].record.set_sequence(e[i].record.sequence() + 1);
                       }
                     }
                   },
                   [](const Golden&) { return At(VerifyReport::INSERTED, 70001); }},
        TamperCase{"truncate_records_keep_checkpoints",
                   [](std::vector<Entry>& e) { EraseRecords(e, 98766, kLast); },
                   [](const Golden&) {
                     return At(VerifyReport::TRUNCATED, 98766);
                   }},
        TamperCase{"rechain_after_edit",
                   [](std::vector<Entry>& e) {
                     const size_t at = RecordAt(e, 55555);
                     e[at].record.set_outcome("NOT_FOUND");
                     Rechain(e, at);
                   },
                   [](const Golden& g) {
                     const AuditCheckpoint& c = g.FirstFrom(55555);
                     return Expected{VerifyReport::BAD_SIGNATURE, c.sequence(),
                                     c.index()};
                   }},
        TamperCase{"rechain_and_patch_checkpoint_hashes",
                   [](std::vector<Entry>& e) {
                     const size_t at = RecordAt(e, 55555);
                     e[at].record.set_outcome("NOT_FOUND");
                     Rechain(e, at);
                     std::string head;
                     for (Entry& x : e) {
                       if (!x.is_checkpoint) head = x.record.hash();
                       if (x.is_checkpoint) x.checkpoint.set_hash(head);
                     }
                   },
                   [](const Golden& g) {
                     const AuditCheckpoint& c = g.FirstFrom(55555);
                     return Expected{VerifyReport::BAD_SIGNATURE, c.sequence(),
                                     c.index()};
                   }},
        TamperCase{"flip_a_checkpoint_signature",
                   [](std::vector<Entry>& e) {
                     AuditCheckpoint& c =
                         e[CheckpointAt(e, 3000, AuditCheckpoint::PERIODIC)]
                             .checkpoint;
                     std::string sig = c.signature();
                     sig[10] = sig[10] == '0' ? '1' : '0';
                     c.set_signature(sig);
                   },
                   [](const Golden& g) {
                     return Expected{VerifyReport::BAD_SIGNATURE, 3000,
                                     g.FirstFrom(3000).index()};
                   }},
        // Must show: delete one checkpoint.
        TamperCase{"delete_one_checkpoint",
                   [](std::vector<Entry>& e) {
                     e.erase(e.begin() + static_cast<long>(CheckpointAt(
                                             e, 37000, AuditCheckpoint::PERIODIC)));
                   },
                   [](const Golden& g) {
                     return Expected{VerifyReport::CHECKPOINT_MISSING, 37000,
                                     g.FirstFrom(37000).index()};
                   }},
        TamperCase{"delete_the_first_checkpoint",
                   [](std::vector<Entry>& e) {
                     e.erase(e.begin() + static_cast<long>(
                                             CheckpointAt(e, 1, AuditCheckpoint::OPENED)));
                   },
                   [](const Golden&) {
                     return Expected{VerifyReport::CHECKPOINT_MISSING, 1, 1};
                   }},
        // A checkpoint replaced by a copy of an older one (a replay).
        TamperCase{"replace_a_checkpoint_with_an_older_one",
                   [](std::vector<Entry>& e) {
                     e[CheckpointAt(e, 21000, AuditCheckpoint::PERIODIC)]
                         .checkpoint =
                         e[CheckpointAt(e, 20000, AuditCheckpoint::PERIODIC)]
                             .checkpoint;
                   },
                   [](const Golden& g) {
                     return Expected{VerifyReport::BAD_SIGNATURE, 20000,
                                     g.FirstFrom(20000).index()};
                   }},
        // Must show: delete the last checkpoint. The last periodic one is
        // missed by the chain; the clean stop's, the very last, by the
        // anchors (the journal alone then ends like a crash).
        TamperCase{"delete_the_last_periodic_checkpoint",
                   [](std::vector<Entry>& e) {
                     e.erase(e.begin() + static_cast<long>(CheckpointAt(
                                             e, 100000, AuditCheckpoint::PERIODIC)));
                   },
                   [](const Golden& g) {
                     return Expected{VerifyReport::CHECKPOINT_MISSING, 100000,
                                     g.FirstFrom(100000).index()};
                   }},
        TamperCase{"delete_the_last_checkpoint",
                   [](std::vector<Entry>& e) { e.pop_back(); },
                   [](const Golden& g) {
                     return Expected{VerifyReport::CHECKPOINT_MISSING, kLast,
                                     g.entries.back().checkpoint.index()};
                   },
                   /*with_anchors=*/true},
        // Must show: edit, re-hash and drop the later checkpoints. The
        // cadence shows it without anchors (the next checkpoint is due
        // `checkpoint_every` records later), the anchors name the first
        // dropped checkpoint.
        TamperCase{"edit_rehash_drop_later_checkpoints",
                   [](std::vector<Entry>& e) {
                     EditRechainAndDropLaterCheckpoints(e, 55555);
                   },
                   [](const Golden& g) {
                     const AuditCheckpoint& last = g.LastBefore(55555);
                     return Expected{VerifyReport::CHECKPOINT_MISSING,
                                     last.sequence() + last.checkpoint_every(),
                                     last.index() + 1};
                   }},
        TamperCase{"edit_rehash_drop_later_checkpoints_anchored",
                   [](std::vector<Entry>& e) {
                     EditRechainAndDropLaterCheckpoints(e, 55555);
                   },
                   [](const Golden& g) {
                     const AuditCheckpoint& next = g.FirstFrom(55555);
                     return Expected{VerifyReport::CHECKPOINT_MISSING,
                                     next.sequence(), next.index()};
                   },
                   /*with_anchors=*/true},
        // The same, cut short of the cadence: only the anchors show it.
        TamperCase{"edit_rehash_drop_later_checkpoints_cut_short",
                   [](std::vector<Entry>& e) {
                     const uint64_t due = 56000;
                     EditRechainAndDropLaterCheckpoints(e, 55555);
                     EraseRecords(e, due - 1, kLast);
                   },
                   [](const Golden& g) {
                     const AuditCheckpoint& next = g.FirstFrom(55555);
                     return Expected{VerifyReport::TRUNCATED, 55999,
                                     next.index()};
                   },
                   /*with_anchors=*/true}),
    [](const ::testing::TestParamInfo<TamperCase>& info) {
      return std::string(info.param.name);
    });

// A byte flipped in a frame, its checksum not fixed: the frame is damaged
// and no whole write follows it that a crash could explain.
TEST_F(TamperTest, ADamagedFrameIsCorruptAtItsRecord) {
  const std::string journal = Write(golden_->entries, "corrupt");
  const std::string needle = golden_->entries[RecordAt(golden_->entries, 31337)]
                                 .record.request_sha256();
  ASSERT_EQ(testutil::FlipBitAfter(journal, needle, 3, 0x04), 1);
  const VerifyReport report = Verify(journal, false);
  EXPECT_FALSE(report.intact());
  EXPECT_EQ(report.problem(), VerifyReport::CORRUPT) << report.detail();
  EXPECT_EQ(report.first_bad_sequence(), 31337u);
  EXPECT_THAT(report.detail(), HasSubstr("checksum"));
}

// Must show: edit, re-hash and drop the later checkpoints, then start and
// stop a gateway on it: it must not sign the forged head.
// A blank line after the anchors (an editor's, a log shipper's) must not
// hide them: the check reads past it.
TEST_F(TamperTest, AGatewayOpenedOnAForgedJournalIsNotReadyAndSignsNothing) {
  for (const auto& [cut_short, blank_line] :
       {std::pair(false, false), std::pair(true, false),
        std::pair(true, true)}) {
    SCOPED_TRACE(cut_short ? "cut short of the cadence" : "whole");
    SCOPED_TRACE(blank_line ? "a blank line after the anchors" : "");
    ScratchDir dir;
    AuditLog::Options options = OptionsIn(dir);
    if (blank_line) std::ofstream(options.anchor_file, std::ios::app) << "\n";
    std::vector<Entry> entries = golden_->entries;
    EditRechainAndDropLaterCheckpoints(entries, 55555);
    if (cut_short) EraseRecords(entries, 55999, kLast);
    ASSERT_THAT(WriteEntries(options.journal_dir, entries, kSegmentBytes),
                IsOk());
    auto before = ListSegments(options.journal_dir);
    ASSERT_THAT(before, IsOk());
    std::string bytes_before;
    for (const auto& s : *before) bytes_before += ReadAll(s.path);
    const std::string anchors_before = ReadAll(options.anchor_file);

    auto log = AuditLog::Open(options);
    ASSERT_THAT(log, IsOk());
    EXPECT_FALSE((*log)->ready());
    EXPECT_FALSE((*log)->healthy());
    std::cout << "  " << (*log)->Readiness() << "\n";
    // Whole: the last segments hold no checkpoint; cut short: the anchors
    // hold checkpoints the journal lacks.
    EXPECT_THAT((*log)->Readiness().message(),
                HasSubstr(cut_short ? "anchor file holds checkpoint"
                                    : "no signed checkpoint"));
    EXPECT_THAT((*log)->Readiness().message(), HasSubstr("new-epoch"));
    auto refused = (*log)->AppendSync(SampleRecord(1, (*log)->citizen_key()));
    EXPECT_TRUE(absl::IsUnavailable(refused.status()));
    EXPECT_THAT(refused.status().message(), HasSubstr("not ready"));
    EXPECT_THAT((*log)->Close(), IsOk());
    log->reset();

    // Nothing was written or signed: not the journal, not the anchors.
    auto after = ListSegments(options.journal_dir);
    ASSERT_THAT(after, IsOk());
    std::string bytes_after;
    for (const auto& s : *after) {
      const std::string b = ReadAll(s.path);
      // A segment prepared ahead holds only zeros after its header.
      if (s.number > before->back().number) {
        EXPECT_EQ(b.find_first_not_of('\0', kSegmentHeaderSize),
                  std::string::npos);
        continue;
      }
      bytes_after += b;
    }
    EXPECT_TRUE(bytes_after == bytes_before);
    EXPECT_EQ(ReadAll(options.anchor_file), anchors_before);
  }
}

// Must show: a torn last record after a crash is cut off and reported, the
// journal then continues and verifies.
TEST_F(TamperTest, ATornLastWriteIsCutAndReportedNotTakenForTampering) {
  ScratchDir dir;
  AuditLog::Options options = OptionsIn(dir);
  ASSERT_THAT(WriteEntries(options.journal_dir, golden_->entries, kSegmentBytes),
              IsOk());
  // The crash: the next write (two records) got half-way to the disk.
  auto segments = ListSegments(options.journal_dir);
  ASSERT_THAT(segments, IsOk());
  const std::string path = segments->back().path;
  std::string bytes = ReadAll(path);
  uint64_t end = 0;
  uint32_t last_write = 0;
  ScanSegmentBytes(bytes, kSegmentHeaderSize, 0, [&](const Frame& f) {
    end = f.offset + f.size;
    last_write = f.write;
    return true;
  });
  std::string write;
  for (int i = 0; i < 2; ++i) {
    AuditRecord r = SampleRecord(i, *CitizenKey::FromBytes(testutil::kTestHmacKey));
    r.set_sequence(kLast + 1 + i);
    AppendFrame(FrameType::kRecord, i == 1 ? kEndOfWrite : 0, last_write + 1,
                r.SerializeAsString(), &write);
  }
  bytes.replace(end, write.size() * 2 / 3, write.substr(0, write.size() * 2 / 3));
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;

  const VerifyReport before = Verify(options.journal_dir, true);
  EXPECT_TRUE(before.intact()) << before.detail();
  EXPECT_EQ(before.torn_tail_bytes(), write.size() * 2 / 3);
  EXPECT_EQ(before.last_sequence(), kLast);

  ExpectTornWriteCutAndChainContinued(options, write.size() * 2 / 3);
}

// The crash came while the first write of a new segment was on its way to
// the disk: the segment has its header and a torn write, nothing whole.
// Recovery reads back into the segment before for the signed head (not a
// new journal from genesis), cuts the torn write and goes on.
TEST_F(TamperTest, ATornFirstWriteOfANewSegmentIsCutAndTheChainGoesOn) {
  ScratchDir dir;
  AuditLog::Options options = OptionsIn(dir);
  ASSERT_THAT(
      WriteEntries(options.journal_dir, golden_->entries, kSegmentBytes),
      IsOk());
  auto segments = ListSegments(options.journal_dir);
  ASSERT_THAT(segments, IsOk());
  auto header = DecodeSegmentHeader(ReadAll(segments->back().path));
  ASSERT_THAT(header, IsOk());
  SegmentHeader next = *header;
  next.number = header->number + 1;
  std::string write;
  for (int i = 0; i < 2; ++i) {
    AuditRecord r =
        SampleRecord(i, *CitizenKey::FromBytes(testutil::kTestHmacKey));
    r.set_sequence(kLast + 1 + i);
    AppendFrame(FrameType::kRecord, i == 1 ? kEndOfWrite : 0, 1,
                r.SerializeAsString(), &write);
  }
  const size_t torn = write.size() * 2 / 3;
  std::string bytes = EncodeSegmentHeader(next) + write.substr(0, torn);
  bytes.resize(kSegmentBytes, '\0');
  std::ofstream(
      absl::StrCat(options.journal_dir, "/", SegmentFileName(next.number)),
      std::ios::binary | std::ios::trunc)
      << bytes;

  ExpectTornWriteCutAndChainContinued(options, torn);
}

}  // namespace
}  // namespace lienthong::audit
