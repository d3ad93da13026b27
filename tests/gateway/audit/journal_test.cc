// Tests of the journal's format (frames, segments, the scan that tells a
// torn last write from damage) and of Journal, its writer (with the log
// over it where what a crash left decides where it goes on).
#include "gateway/audit/journal.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gateway/audit/audit_log.h"
#include "gateway/audit/crc32c.h"
#include "gateway/audit/journal_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/audit/test_util.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::audit {
namespace {

using ::lienthong::audit::testutil::AppendMany;
using ::lienthong::audit::testutil::FaultyIo;
using ::lienthong::audit::testutil::ReadAll;
using ::lienthong::audit::testutil::SampleRecord;
using ::lienthong::audit::testutil::ScratchDir;
using ::lienthong::audit::testutil::TestOptions;
using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(Crc32cTest, KnownValues) {
  // RFC 3720 B.4 and the usual check value.
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  EXPECT_EQ(Crc32c("6789", Crc32c("12345")), Crc32c("123456789"));
}

// One write of frames with payloads `payloads`, numbered `write`.
std::string Write(uint32_t write, const std::vector<std::string>& payloads) {
  std::string out;
  size_t last = 0;
  for (const std::string& p : payloads) {
    last = out.size();
    AppendFrame(FrameType::kRecord, 0, write, p, &out);
  }
  MarkEndOfWrite(last, &out);
  return out;
}

// A segment's bytes: a header, `body`, zeros to `size`.
std::string Segment(const std::string& body, size_t size = 64 << 10) {
  SegmentHeader header;
  header.number = 1;
  header.journal_id = std::string(kJournalIdSize, 'j');
  std::string bytes = EncodeSegmentHeader(header) + body;
  bytes.resize(size, '\0');
  return bytes;
}

std::vector<std::string> Payloads(const std::string& bytes, SegmentScan* scan) {
  std::vector<std::string> out;
  *scan = ScanSegmentBytes(bytes, kSegmentHeaderSize, 0, [&](const Frame& f) {
    out.emplace_back(f.payload);
    return true;
  });
  return out;
}

TEST(JournalFormatTest, WholeWritesAreReadBackAndTheEndIsClean) {
  const std::string body = Write(1, {"a", "bb"}) + Write(2, {"ccc"});
  SegmentScan scan;
  EXPECT_THAT(Payloads(Segment(body), &scan), ElementsAre("a", "bb", "ccc"));
  EXPECT_EQ(scan.tail, SegmentScan::Tail::kClean);
  EXPECT_EQ(scan.end, kSegmentHeaderSize + body.size());
  EXPECT_EQ(scan.last_write, 2u);
  auto header = DecodeSegmentHeader(Segment(body));
  ASSERT_THAT(header, IsOk());
  EXPECT_EQ(header->number, 1u);
}

TEST(JournalFormatTest, AnUnfinishedLastWriteIsATornTail) {
  const std::string whole = Write(1, {"first", "second"});
  const std::string last = Write(2, {std::string(300, 'x'), "y"});
  for (size_t kept : {size_t{5}, size_t{20}, last.size() - 1}) {
    SCOPED_TRACE(kept);
    SegmentScan scan;
    EXPECT_THAT(Payloads(Segment(whole + last.substr(0, kept)), &scan),
                ElementsAre("first", "second"));
    EXPECT_EQ(scan.tail, SegmentScan::Tail::kTorn);
    EXPECT_EQ(scan.end, kSegmentHeaderSize + whole.size());
  }
  // Its first sector lost, a later one kept: still one unfinished write.
  std::string holed = last;
  std::fill(holed.begin(), holed.begin() + 100, '\0');
  SegmentScan scan;
  EXPECT_THAT(Payloads(Segment(whole + holed), &scan),
              ElementsAre("first", "second"));
  EXPECT_EQ(scan.tail, SegmentScan::Tail::kTorn);
  EXPECT_EQ(scan.tail_bytes, holed.size());
}

TEST(JournalFormatTest, DamageBeforeAcknowledgedWritesIsNotATear) {
  const std::string w1 = Write(1, {"one"});
  std::string w2 = Write(2, {std::string(200, 'b')});
  const std::string w3 = Write(3, {"three"});
  w2[50] ^= 0x01;  // a bit flips in an acknowledged write
  SegmentScan scan;
  EXPECT_THAT(Payloads(Segment(w1 + w2 + w3), &scan), ElementsAre("one"));
  EXPECT_EQ(scan.tail, SegmentScan::Tail::kDamaged);
  EXPECT_EQ(scan.damage_offset, kSegmentHeaderSize + w1.size());
  EXPECT_THAT(scan.damage, HasSubstr("checksum"));
}

TEST(JournalFormatTest, ASegmentsDamagedFirstWriteFollowedByOneIsNotATear) {
  // Write 1 damaged, write 2 whole after it: only write 2's frames read,
  // which a tear could also leave, but a segment's first write is write 1.
  std::string w1 = Write(1, {std::string(40, 'a')});
  const std::string w2 = Write(2, {"two"});
  w1[30] ^= 0x10;
  SegmentScan scan;
  EXPECT_TRUE(Payloads(Segment(w1 + w2), &scan).empty());
  EXPECT_EQ(scan.tail, SegmentScan::Tail::kDamaged);
  EXPECT_EQ(scan.damage_offset, kSegmentHeaderSize);
  // An unfinished write numbered 2 alone: not a tear of a segment's first.
  const std::string two = Write(2, {"two", "more"});
  // (Damage: the damaged write's good frames are read.)
  EXPECT_THAT(Payloads(Segment(two.substr(0, two.size() - 1)), &scan),
              ElementsAre("two"));
  EXPECT_EQ(scan.tail, SegmentScan::Tail::kDamaged);
  // Write 1 torn, its first frame lost and its last kept: a tear.
  std::string torn = Write(1, {std::string(40, 'a'), "b"});
  std::fill(torn.begin(), torn.begin() + 20, '\0');
  EXPECT_TRUE(Payloads(Segment(torn), &scan).empty());
  EXPECT_EQ(scan.tail, SegmentScan::Tail::kTorn);
}

TEST(JournalFormatTest, ATailThatClaimsLongFramesEverywhereIsDamage) {
  // After a whole write, bytes that claim a long frame at three offsets in
  // four, none of them with a matching checksum: a store edited to make
  // opening and verifying check each of those claims (about a terabyte of
  // checksums for a tail of kMaxWriteBytes). It is judged damage, by what
  // the checks up to a bound found, instead.
  const std::string whole = Write(1, {"first"});
  std::string tail;
  const size_t tail_size = kMaxWriteBytes - 16;
  tail.reserve(tail_size);
  while (tail.size() < tail_size) tail.append({'\0', '\0', '\x0f', '\0'});
  SegmentScan scan;
  const size_t segment_size = kMaxWriteBytes + (1 << 20);
  EXPECT_THAT(Payloads(Segment(whole + tail, segment_size), &scan),
              ElementsAre("first"));
  EXPECT_EQ(scan.tail, SegmentScan::Tail::kDamaged);
  EXPECT_EQ(scan.end, kSegmentHeaderSize + whole.size());
  EXPECT_EQ(scan.damage_offset, scan.end);
  EXPECT_THAT(scan.damage, HasSubstr("checksum"));
  EXPECT_THAT(scan.damage, HasSubstr("more frame bytes than one write holds"));
}

TEST(JournalFormatTest, AFrameWithoutItsWritesEndMarkIsNotVisited) {
  std::string unmarked;
  AppendFrame(FrameType::kRecord, 0, 1, "orphan", &unmarked);
  SegmentScan scan;
  EXPECT_TRUE(Payloads(Segment(unmarked), &scan).empty());
  EXPECT_EQ(scan.tail, SegmentScan::Tail::kTorn);
}

TEST(JournalFormatTest, AWriteLongerThanTheWriterMakesIsDamageNotHeld) {
  // Tiny frames of one write without its end mark, past the longest write:
  // the scan stops holding them there (they took memory without bound).
  std::string body;
  const size_t frames = kMaxWriteBytes / (kFrameHeaderSize + 1) + 1000;
  for (size_t i = 0; i < frames; ++i) {
    AppendFrame(FrameType::kRecord, 0, 1, "x", &body);
  }
  SegmentScan scan;
  const std::vector<std::string> read =
      Payloads(Segment(body, kSegmentHeaderSize + body.size() + 4096), &scan);
  EXPECT_LE(read.size(), kMaxWriteBytes / (kFrameHeaderSize + 1));
  EXPECT_EQ(scan.tail, SegmentScan::Tail::kDamaged);
  EXPECT_THAT(scan.damage, HasSubstr("longer than any the writer makes"));
}

TEST(JournalFormatTest, ALimitStopsAtADurableEndWithoutJudging) {
  const std::string w1 = Write(1, {"one"});
  const std::string w2 = Write(2, {"two"});
  const std::string bytes = Segment(w1 + w2 + "garbage");
  std::vector<std::string> seen;
  SegmentScan scan = ScanSegmentBytes(bytes, kSegmentHeaderSize,
                                      kSegmentHeaderSize + w1.size(),
                                      [&](const Frame& f) {
                                        seen.emplace_back(f.payload);
                                        return true;
                                      });
  EXPECT_THAT(seen, ElementsAre("one"));
  EXPECT_EQ(scan.tail, SegmentScan::Tail::kClean);
}

TEST(JournalFormatTest, SegmentNamesAndHeaders) {
  uint64_t n = 0;
  EXPECT_EQ(SegmentFileName(42), "0000000042.seg");
  EXPECT_TRUE(ParseSegmentName("0000000042.seg", &n));
  EXPECT_EQ(n, 42u);
  EXPECT_FALSE(ParseSegmentName("0000000042.seg.tmp", &n));
  EXPECT_FALSE(ParseSegmentName("42.seg", &n));
  std::string bytes = Segment("");
  bytes[20] ^= 1;
  EXPECT_THAT(DecodeSegmentHeader(bytes),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("checksum")));
}

Journal::Options SmallJournal(const ScratchDir& dir, JournalIo* io = nullptr) {
  Journal::Options options;
  options.dir = dir.File("journal");
  options.segment_bytes = 1 << 20;
  options.io = io;
  return options;
}

TEST(JournalTest, SegmentsArePreallocatedWithZerosAndWritesAreReadBack) {
  ScratchDir dir;
  std::string id;
  {
    auto journal = Journal::Open(SmallJournal(dir));
    ASSERT_THAT(journal, IsOk());
    id = (*journal)->tail().journal_id;
    EXPECT_EQ(id.size(), kJournalIdSize);
    ASSERT_THAT((*journal)->Write(Write((*journal)->next_write(), {"r1"})),
                IsOk());
    ASSERT_THAT((*journal)->Write(Write((*journal)->next_write(), {"r2"})),
                IsOk());
    EXPECT_EQ((*journal)->durable_end(), (*journal)->end());
    ASSERT_THAT((*journal)->NextSegment(), IsOk());
    ASSERT_THAT((*journal)->Write(Write((*journal)->next_write(), {"r3"})),
                IsOk());
  }
  struct stat st;
  ASSERT_EQ(::stat(dir.File("journal/0000000001.seg").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 1 << 20);  // written in full ahead of use
  EXPECT_EQ(st.st_mode & 0777, 0600);
  std::vector<std::string> read;
  ASSERT_THAT(ReadJournal(dir.File("journal"), {}, {},
                          [&](const JournalPosition& at, const Frame& f) {
                            read.push_back(absl::StrCat(f.payload, " segment ",
                                                        at.segment, " write ",
                                                        f.write));
                            return true;
                          }),
              IsOk());
  // Writes are numbered from 1 in each segment.
  EXPECT_THAT(read, ElementsAre("r1 segment 1 write 1", "r2 segment 1 write 2",
                                "r3 segment 2 write 1"));
  auto reopened = Journal::Open(SmallJournal(dir));
  ASSERT_THAT(reopened, IsOk());
  EXPECT_EQ((*reopened)->tail().journal_id, id);
  EXPECT_EQ((*reopened)->end().segment, 2u);
  EXPECT_EQ((*reopened)->next_write(), 2u);
  EXPECT_FALSE((*reopened)->tail().damaged);
}

// A journal no longer written makes no files behind its owner's back (an
// AuditLog's Close stops the preparing thread), and a segment still needed
// is made when it is.
TEST(JournalTest,
     AfterStopPreparingNoSegmentIsMadeAheadAndTheNextIsMadeOnDemand) {
  ScratchDir dir;
  auto journal = Journal::Open(SmallJournal(dir));
  ASSERT_THAT(journal, IsOk());
  (*journal)->StopPreparing();
  // Past half the segment, where the next one would be asked for.
  const std::string record(600 << 10, 'r');
  ASSERT_THAT((*journal)->Write(Write((*journal)->next_write(), {record})),
              IsOk());
  absl::SleepFor(absl::Milliseconds(200));  // time for a thread to make one
  EXPECT_NE(::access(dir.File("journal/0000000002.seg").c_str(), F_OK), 0);
  ASSERT_THAT((*journal)->NextSegment(), IsOk());  // no wait for the thread
  EXPECT_EQ((*journal)->end().segment, 2u);
  EXPECT_EQ(::access(dir.File("journal/0000000002.seg").c_str(), F_OK), 0);
  ASSERT_THAT((*journal)->Write(Write((*journal)->next_write(), {"r2"})),
              IsOk());
}

// A restart with smaller segments goes on to the end of the segment made
// with the larger size, and no further.
TEST(JournalTest, ASmallerSegmentSizeLaterKeepsToTheFilesOwnSize) {
  ScratchDir dir;
  Journal::Options big = SmallJournal(dir);
  big.segment_bytes = 4 << 20;
  const std::string half_mib(512 << 10, 'r');
  {
    auto journal = Journal::Open(big);
    ASSERT_THAT(journal, IsOk());
    for (int i = 0; i < 4; ++i) {
      ASSERT_THAT(
          (*journal)->Write(Write((*journal)->next_write(), {half_mib})),
          IsOk());
    }
  }
  auto journal = Journal::Open(SmallJournal(dir));  // 1 MiB segments
  ASSERT_THAT(journal, IsOk());
  EXPECT_EQ((*journal)->end().segment, 1u);
  EXPECT_GT((*journal)->end().offset, 2u << 20);
  EXPECT_EQ((*journal)->remaining(), (4u << 20) - (*journal)->end().offset);
  while ((*journal)->remaining() > half_mib.size() + 4096) {
    ASSERT_THAT((*journal)->Write(Write((*journal)->next_write(), {half_mib})),
                IsOk());
  }
  EXPECT_FALSE(
      (*journal)
          ->Write(Write((*journal)->next_write(), {half_mib, half_mib}))
          .ok());
  struct stat st;
  ASSERT_EQ(::stat(dir.File("journal/0000000001.seg").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 4 << 20);
  // The next segment has its own file's size too (made ahead at the old
  // size, or at the new one).
  ASSERT_THAT((*journal)->NextSegment(), IsOk());
  ASSERT_EQ(::stat(dir.File("journal/0000000002.seg").c_str(), &st), 0);
  EXPECT_EQ((*journal)->remaining(),
            static_cast<uint64_t>(st.st_size) - (*journal)->end().offset);
}

TEST(JournalTest, AFailedWriteIsZeroedBeforeTheNextAndNeverRead) {
  ScratchDir dir;
  FaultyIo io;
  auto journal = Journal::Open(SmallJournal(dir, &io));
  ASSERT_THAT(journal, IsOk());
  Journal& j = **journal;
  ASSERT_THAT(j.Write(Write(j.next_write(), {"kept"})), IsOk());
  const JournalPosition before = j.end();
  io.set_mode(FaultyIo::Mode::kWriteThenFail);
  EXPECT_THAT(j.Write(Write(j.next_write(), {"unknown fate"})),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("cannot")));
  EXPECT_EQ(j.end(), before);
  io.set_mode(FaultyIo::Mode::kPass);
  ASSERT_THAT(j.Write(Write(j.next_write(), {"next"})), IsOk());
  std::vector<std::string> read;
  ASSERT_THAT(ReadJournal(dir.File("journal"), {}, {},
                          [&](const JournalPosition&, const Frame& f) {
                            read.emplace_back(f.payload);
                            return true;
                          }),
              IsOk());
  EXPECT_THAT(read, ElementsAre("kept", "next"));
  EXPECT_EQ(ReadAll(dir.File("journal/0000000001.seg")).find("unknown fate"),
            std::string::npos);
}

TEST(JournalTest, OpeningFindsATornTailAndCutsItOnlyWhenAsked) {
  ScratchDir dir;
  std::string torn;
  {
    auto journal = Journal::Open(SmallJournal(dir));
    ASSERT_THAT(journal, IsOk());
    ASSERT_THAT((*journal)->Write(Write((*journal)->next_write(), {"whole"})),
                IsOk());
    torn = Write((*journal)->next_write(), {std::string(500, 't')});
  }
  // A crash: half of the next write reached the disk.
  {
    std::string path = dir.File("journal/0000000001.seg");
    std::string bytes = ReadAll(path);
    const size_t at = bytes.find("whole") + 5;
    bytes.replace(at, 250, torn.substr(0, 250));
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  }
  auto journal = Journal::Open(SmallJournal(dir));
  ASSERT_THAT(journal, IsOk());
  EXPECT_EQ((*journal)->tail().torn_bytes, 250u);
  EXPECT_THAT((*journal)->Write(Write(9, {"x"})),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("torn")));
  ASSERT_THAT((*journal)->CutTornTail(), IsOk());
  ASSERT_THAT((*journal)->Write(Write((*journal)->next_write(), {"after"})),
              IsOk());
  std::vector<std::string> read;
  ASSERT_THAT(ReadJournal(dir.File("journal"), {}, {},
                          [&](const JournalPosition&, const Frame& f) {
                            read.emplace_back(f.payload);
                            return true;
                          }),
              IsOk());
  EXPECT_THAT(read, ElementsAre("whole", "after"));
}

// A power cut during a new segment's first write, a group commit of several
// pages, after a later page reached the disk but not the first: the segment
// is still the journal's end. Its torn write is cut and the log goes on in
// it, not in the sealed segment before (which would move on to it later and
// write over the start of the torn write, leaving the rest as damage).
TEST(JournalTest, ATornFirstWriteWhoseFirstPageWasLostIsStillTheEnd) {
  ScratchDir dir;
  AuditLog::Options options = TestOptions(dir);  // 1 MiB segments
  options.anchor_file.clear();  // the crash image drops later checkpoints
  {
    auto log = AuditLog::Open(options);
    ASSERT_THAT(log, IsOk());
    ASSERT_THAT(AppendMany(**log, 1, 2500), IsOk());
    ASSERT_THAT((*log)->Close(), IsOk());
  }
  // The crash image: the first segment ends with its seal, and the first
  // write into the second (20 records) reached the disk but for its first
  // page.
  auto segments = ListSegments(options.journal_dir);
  ASSERT_THAT(segments, IsOk());
  ASSERT_GE(segments->size(), 2u);
  for (size_t i = 1; i < segments->size(); ++i) {
    std::filesystem::remove((*segments)[i].path);
  }
  auto header = DecodeSegmentHeader(ReadAll(segments->front().path));
  ASSERT_THAT(header, IsOk());
  SegmentHeader next = *header;
  next.number = header->number + 1;
  auto key = CitizenKey::FromBytes(testutil::kTestHmacKey);
  ASSERT_THAT(key, IsOk());
  std::string write;
  size_t last = 0;
  for (int i = 0; i < 20; ++i) {
    last = write.size();
    AppendFrame(FrameType::kRecord, 0, 1,
                SampleRecord(i, *key).SerializeAsString(), &write);
  }
  MarkEndOfWrite(last, &write);
  constexpr size_t kPage = 4096;
  ASSERT_GT(write.size(), kPage);
  std::string bytes = EncodeSegmentHeader(next) + write;
  bytes.resize(options.segment_bytes, '\0');
  std::fill(bytes.begin() + kSegmentHeaderSize, bytes.begin() + kPage, '\0');
  std::ofstream(
      absl::StrCat(options.journal_dir, "/", SegmentFileName(next.number)),
      std::ios::binary | std::ios::trunc)
      << bytes;
  {
    Journal::Options journal_options;
    journal_options.dir = options.journal_dir;
    journal_options.segment_bytes = options.segment_bytes;
    auto journal = Journal::Open(journal_options);
    ASSERT_THAT(journal, IsOk());
    EXPECT_FALSE((*journal)->tail().damaged);
    EXPECT_EQ((*journal)->end().segment, next.number);
    EXPECT_EQ((*journal)->end().offset, kSegmentHeaderSize);
    EXPECT_GT((*journal)->tail().torn_bytes, 0u);
  }

  options.path = dir.File("restarted.db");  // the index was ahead of it
  {
    auto log = AuditLog::Open(options);
    ASSERT_THAT(log, IsOk());
    EXPECT_TRUE((*log)->ready()) << (*log)->Readiness();
    EXPECT_GT((*log)->stats().torn_tail_bytes_cut, 0u);
    ASSERT_THAT((*log)->Close(), IsOk());
  }
  auto log = AuditLog::Open(options);
  ASSERT_THAT(log, IsOk());
  ASSERT_TRUE((*log)->ready()) << (*log)->Readiness();
  auto report = (*log)->Verify();
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->intact()) << report->DebugString();
  ASSERT_THAT((*log)->Close(), IsOk());
}

// A FIFO named as a segment (someone with write access to the folder) is
// refused at once: opened blocking, it hung the start and verify.
TEST(JournalTest, ASegmentThatIsNotAFileIsRefusedWithoutWaiting) {
  ScratchDir dir;
  const std::string path = dir.File(SegmentFileName(9));
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  EXPECT_THAT(MappedSegment::Open(path), StatusIs(absl::StatusCode::kDataLoss,
                                                  HasSubstr("is not a file")));
}

TEST(JournalTest, SegmentsOfAnotherJournalAreRefused) {
  ScratchDir a, b;
  ASSERT_THAT(Journal::Open(SmallJournal(a)).status(), IsOk());
  {
    auto other = Journal::Open(SmallJournal(b));
    ASSERT_THAT(other, IsOk());
    ASSERT_THAT((*other)->NextSegment(), IsOk());
  }
  std::filesystem::copy_file(b.File("journal/0000000002.seg"),
                             a.File("journal/0000000002.seg"),
                             std::filesystem::copy_options::overwrite_existing);
  EXPECT_THAT(Journal::Open(SmallJournal(a)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("another journal")));
}

}  // namespace
}  // namespace lienthong::audit
