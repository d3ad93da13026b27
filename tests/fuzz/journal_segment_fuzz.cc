// The audit journal's segment scan (gateway/audit/journal_format.h), which
// opening a journal and `lienthong audit verify` run over files that anyone
// with write access to the store can edit. Any bytes after a segment header
// give a scan without a crash whose frames are whole, in bounds, back to
// back from the start and read the same again by ReadFrameAt, whose end and
// tail verdict agree with the bytes, and which a durable-end limit or a
// visitor that stops reproduces. Segments built from whole writes and then
// cut short or changed in one byte give exactly the frames and verdict the
// header promises: every write before the change, a cut last write is a
// tear, a changed acknowledged write followed by others is damage.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "gateway/audit/journal_format.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using lienthong::audit::Frame;
using lienthong::audit::FrameType;
using lienthong::audit::kEndOfWrite;
using lienthong::audit::kFrameHeaderSize;
using lienthong::audit::kMaxWriteBytes;
using lienthong::audit::kSegmentHeaderSize;
using lienthong::audit::ReadFrameAt;
using lienthong::audit::ScanSegmentBytes;
using lienthong::audit::SegmentScan;
using Tail = lienthong::audit::SegmentScan::Tail;

std::string Header() {
  lienthong::audit::SegmentHeader header;
  header.number = 1;
  header.journal_id = std::string(lienthong::audit::kJournalIdSize, 'j');
  return lienthong::audit::EncodeSegmentHeader(header);
}

bool AllZero(const std::string& bytes, uint64_t from) {
  return std::all_of(bytes.begin() + static_cast<long>(from), bytes.end(),
                     [](char c) { return c == 0; });
}

// Scans `bytes` and checks what holds for any bytes; returns the scan and
// the frames visited.
SegmentScan CheckedScan(const std::string& bytes, std::vector<Frame>* frames) {
  const SegmentScan scan =
      ScanSegmentBytes(bytes, kSegmentHeaderSize, 0, [&](const Frame& f) {
        frames->push_back(f);
        return true;
      });
  FUZZ_CHECK(scan.end >= kSegmentHeaderSize && scan.end <= bytes.size());
  FUZZ_CHECK(scan.frames == frames->size());
  uint64_t next = kSegmentHeaderSize;
  size_t whole = 0;  // frames of whole writes: those before scan.end
  for (const Frame& f : *frames) {
    FUZZ_CHECK(f.offset == next && f.size > kFrameHeaderSize);
    FUZZ_CHECK(f.offset + f.size <= bytes.size());
    Frame again;
    FUZZ_CHECK(ReadFrameAt(bytes, f.offset, &again));
    FUZZ_CHECK(again.type == f.type && again.flags == f.flags &&
               again.write == f.write && again.size == f.size &&
               again.payload == f.payload);
    next = f.offset + f.size;
    if (next <= scan.end) ++whole;
  }
  if (whole > 0) {
    const Frame& last = (*frames)[whole - 1];
    FUZZ_CHECK(last.offset + last.size == scan.end);
    FUZZ_CHECK((last.flags & kEndOfWrite) != 0);
    FUZZ_CHECK(scan.has_write && scan.last_write == last.write);
  } else {
    FUZZ_CHECK(scan.end == kSegmentHeaderSize && !scan.has_write);
  }
  switch (scan.tail) {
    case Tail::kClean:
      FUZZ_CHECK(whole == frames->size());
      FUZZ_CHECK(AllZero(bytes, scan.end));
      break;
    case Tail::kTorn:
      FUZZ_CHECK(whole == frames->size());
      FUZZ_CHECK(scan.tail_bytes > 0 && scan.tail_bytes <= kMaxWriteBytes);
      FUZZ_CHECK(bytes[scan.end + scan.tail_bytes - 1] != 0);
      FUZZ_CHECK(AllZero(bytes, scan.end + scan.tail_bytes));
      break;
    case Tail::kDamaged:
      FUZZ_CHECK(!scan.damage.empty());
      FUZZ_CHECK(scan.damage_offset >= scan.end &&
                 scan.damage_offset <= bytes.size());
      break;
  }

  // The same bytes with the durable end at scan.end: the whole writes, and
  // nothing judged after them.
  size_t limited = 0;
  const SegmentScan up_to_end = ScanSegmentBytes(
      bytes, kSegmentHeaderSize, scan.end, [&](const Frame& f) {
        FUZZ_CHECK(limited < whole && f.offset == (*frames)[limited].offset);
        ++limited;
        return true;
      });
  if (scan.end > kSegmentHeaderSize) {
    FUZZ_CHECK(limited == whole && up_to_end.tail == Tail::kClean &&
               up_to_end.end == scan.end);
  }
  // A visitor that stops at the first frame of a whole write.
  if (whole > 0) {
    const SegmentScan first = ScanSegmentBytes(
        bytes, kSegmentHeaderSize, 0, [](const Frame&) { return false; });
    FUZZ_CHECK(first.frames == 1 &&
               first.end == (*frames)[0].offset + (*frames)[0].size);
  }
  return scan;
}

// Reads bytes from the input one at a time; zeros once it is used up.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t Byte() { return at_ < size_ ? data_[at_++] : 0; }
  bool Done() const { return at_ >= size_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t at_ = 0;
};

struct BuiltWrite {
  uint64_t start = 0;
  uint64_t end = 0;
  std::vector<uint64_t> frame_starts;
  std::vector<std::string> payloads;
};

// A segment of whole writes described by the input (up to 8 writes of 1 to
// 4 frames of 1 to 64 bytes), then one change: none, zeros from a point to
// the end (a crash), or one byte altered (damage); checks the outcome.
void BuiltSegment(Input& in) {
  std::string bytes = Header();
  std::vector<BuiltWrite> writes;
  const int count = 1 + in.Byte() % 8;
  for (int w = 0; w < count; ++w) {
    BuiltWrite write;
    write.start = bytes.size();
    const int frames = 1 + in.Byte() % 4;
    for (int f = 0; f < frames; ++f) {
      // Bytes of 0x80 and above: no frame can start inside a payload (its
      // length would be over kMaxFramePayload), so only the frames built
      // here are found when a damaged one is stepped through.
      std::string payload(1 + in.Byte() % 64, '\0');
      for (char& c : payload) c = static_cast<char>(in.Byte() | 0x80);
      write.frame_starts.push_back(bytes.size());
      const FrameType type =
          in.Byte() % 2 == 0 ? FrameType::kRecord : FrameType::kCheckpoint;
      lienthong::audit::AppendFrame(type, 0, static_cast<uint32_t>(w + 1),
                                    payload, &bytes);
      write.payloads.push_back(std::move(payload));
    }
    lienthong::audit::MarkEndOfWrite(write.frame_starts.back(), &bytes);
    write.end = bytes.size();
    writes.push_back(std::move(write));
  }
  const uint64_t body_end = bytes.size();
  bytes.resize(body_end + 256, '\0');  // the segment's unused zeros
  const std::string original = bytes;

  const uint8_t change = in.Byte() % 3;
  const uint64_t high = in.Byte();
  const uint64_t at = kSegmentHeaderSize +
                      (high << 8 | in.Byte()) % (body_end - kSegmentHeaderSize);
  if (change == 1) {
    std::fill(bytes.begin() + static_cast<long>(at), bytes.end(), '\0');
  } else if (change == 2) {
    bytes[at] = static_cast<char>(bytes[at] ^ (1 + in.Byte() % 255));
  }

  std::vector<Frame> frames;
  const SegmentScan scan = CheckedScan(bytes, &frames);

  // The writes kept exactly as written come first; `kept` of them.
  size_t kept = 0;
  while (kept < writes.size() &&
         std::equal(bytes.begin() + static_cast<long>(writes[kept].start),
                    bytes.begin() + static_cast<long>(writes[kept].end),
                    original.begin() + static_cast<long>(writes[kept].start))) {
    ++kept;
  }
  size_t kept_frames = 0;
  for (size_t w = 0; w < kept; ++w) {
    kept_frames += writes[w].payloads.size();
  }
  const uint64_t kept_end =
      kept == 0 ? kSegmentHeaderSize : writes[kept - 1].end;

  if (change == 0 || kept == writes.size()) {
    FUZZ_CHECK(scan.tail == Tail::kClean && scan.end == body_end &&
               frames.size() == kept_frames);
    return;
  }
  if (change == 1) {
    // A crash: the writes before the cut, then at most a torn one.
    FUZZ_CHECK(scan.end == kept_end && frames.size() == kept_frames);
    FUZZ_CHECK(scan.tail ==
               (AllZero(bytes, kept_end) ? Tail::kClean : Tail::kTorn));
    return;
  }
  // One byte changed, in write `kept`, in its frame `bad`. A changed length
  // makes the checksum cover other bytes, which match only by chance: no
  // exact expectation then.
  const BuiltWrite& changed = writes[kept];
  size_t bad = 0;
  while (bad + 1 < changed.frame_starts.size() &&
         changed.frame_starts[bad + 1] <= at) {
    ++bad;
  }
  if (at - changed.frame_starts[bad] < 4) return;
  FUZZ_CHECK(scan.end == kept_end);
  if (kept + 1 == writes.size()) {
    // The last write: it cannot be told from a tear.
    FUZZ_CHECK(scan.tail == Tail::kTorn && frames.size() == kept_frames);
  } else {
    // Acknowledged writes follow it: damage, found at the changed frame,
    // and the changed write's frames before it are still read.
    FUZZ_CHECK(scan.tail == Tail::kDamaged);
    FUZZ_CHECK(scan.damage_offset == changed.frame_starts[bad]);
    FUZZ_CHECK(frames.size() == kept_frames + bad);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The first byte picks: even, these bytes after a segment header; odd, a
  // segment built from whole writes the rest describes.
  if (size < 1) return 0;
  if (data[0] % 2 == 0) {
    std::string bytes = Header();
    bytes.append(reinterpret_cast<const char*>(data) + 1, size - 1);
    std::vector<Frame> frames;
    CheckedScan(bytes, &frames);
  } else {
    Input in(data + 1, size - 1);
    BuiltSegment(in);
  }
  return 0;
}
