#include "gateway/audit/journal_format.h"

#include <cstring>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gateway/audit/crc32c.h"

namespace lienthong::audit {
namespace {

constexpr char kMagic[] = "LTJRNL01";
constexpr size_t kMagicSize = 8;
constexpr size_t kHeaderCrcOffset = kSegmentHeaderSize - 4;
constexpr char kSegmentSuffix[] = ".seg";
constexpr size_t kSegmentDigits = 10;

void PutLe(uint64_t v, int bytes, char* out) {
  for (int i = 0; i < bytes; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

uint64_t GetLe(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) {
    v = (v << 8) | static_cast<unsigned char>(p[i]);
  }
  return v;
}

uint32_t FrameCrc(const char* header, absl::string_view payload) {
  // Over length (4 bytes), then type, flags and write (6), then the payload.
  uint32_t crc = Crc32c(absl::string_view(header, 4));
  crc = Crc32c(absl::string_view(header + 8, 6), crc);
  return Crc32c(payload, crc);
}

enum class Read { kFrame, kZero, kBad };

// True when a frame whose header at `offset` of `bytes` claims a payload of
// `length` bytes has room for it. REQUIRES: a whole header at `offset`.
bool PayloadFits(absl::string_view bytes, uint64_t offset, uint64_t length) {
  return length <= kMaxFramePayload &&
         length <= bytes.size() - offset - kFrameHeaderSize;
}

// Reads the frame at `offset` of `bytes`; `why` says what is wrong.
Read ReadFrame(absl::string_view bytes, uint64_t offset, Frame* frame,
               std::string* why) {
  if (bytes.size() - offset < kFrameHeaderSize) {
    // Too short for a header: zeros are the end, anything else is bad.
    for (size_t i = offset; i < bytes.size(); ++i) {
      if (bytes[i] != 0) {
        *why = "a frame header is cut short by the end of the file";
        return Read::kBad;
      }
    }
    return Read::kZero;
  }
  const char* p = bytes.data() + offset;
  const uint64_t length = GetLe(p, 4);
  if (length == 0) {
    for (size_t i = 4; i < kFrameHeaderSize; ++i) {
      if (p[i] != 0) {
        *why = "a frame has length 0 but a header";
        return Read::kBad;
      }
    }
    return Read::kZero;
  }
  if (!PayloadFits(bytes, offset, length)) {
    *why = absl::StrCat("a frame claims ", length, " bytes, more than fit");
    return Read::kBad;
  }
  absl::string_view payload(p + kFrameHeaderSize, length);
  if (FrameCrc(p, payload) != static_cast<uint32_t>(GetLe(p + 4, 4))) {
    *why = "a frame's checksum does not match its bytes";
    return Read::kBad;
  }
  const uint8_t type = static_cast<uint8_t>(p[8]);
  if (type != static_cast<uint8_t>(FrameType::kRecord) &&
      type != static_cast<uint8_t>(FrameType::kCheckpoint)) {
    *why = absl::StrCat("a frame has the unknown type ", type);
    return Read::kBad;
  }
  frame->type = static_cast<FrameType>(type);
  frame->flags = static_cast<uint8_t>(p[9]);
  frame->write = static_cast<uint32_t>(GetLe(p + 10, 4));
  frame->payload = payload;
  frame->offset = offset;
  frame->size = kFrameHeaderSize + length;
  return Read::kFrame;
}

}  // namespace

uint64_t EndOfNonZero(absl::string_view bytes, uint64_t from) {
  uint64_t end = bytes.size();
  // Word at a time from the back: most of a segment is zeros.
  while (end > from && end - from >= 8) {
    uint64_t word;
    std::memcpy(&word, bytes.data() + end - 8, 8);
    if (word != 0) break;
    end -= 8;
  }
  while (end > from && bytes[end - 1] == 0) --end;
  return end;
}

std::string EncodeSegmentHeader(const SegmentHeader& header) {
  std::string out(kSegmentHeaderSize, '\0');
  std::memcpy(&out[0], kMagic, kMagicSize);
  PutLe(header.number, 8, &out[8]);
  std::memcpy(&out[16], header.journal_id.data(),
              std::min(header.journal_id.size(), kJournalIdSize));
  PutLe(static_cast<uint64_t>(header.created_unix_ns), 8, &out[32]);
  PutLe(Crc32c(absl::string_view(out.data(), kHeaderCrcOffset)), 4,
        &out[kHeaderCrcOffset]);
  return out;
}

absl::StatusOr<SegmentHeader> DecodeSegmentHeader(absl::string_view bytes) {
  if (bytes.size() < kSegmentHeaderSize ||
      std::memcmp(bytes.data(), kMagic, kMagicSize) != 0) {
    return absl::DataLossError("not an audit journal segment (bad magic)");
  }
  if (Crc32c(bytes.substr(0, kHeaderCrcOffset)) !=
      static_cast<uint32_t>(GetLe(bytes.data() + kHeaderCrcOffset, 4))) {
    return absl::DataLossError("the segment header's checksum does not match");
  }
  SegmentHeader header;
  header.number = GetLe(bytes.data() + 8, 8);
  header.journal_id = std::string(bytes.substr(16, kJournalIdSize));
  header.created_unix_ns = static_cast<int64_t>(GetLe(bytes.data() + 32, 8));
  return header;
}

std::string SegmentFileName(uint64_t number) {
  return absl::StrFormat("%0*d%s", static_cast<int>(kSegmentDigits), number,
                         kSegmentSuffix);
}

bool ParseSegmentName(absl::string_view name, uint64_t* number) {
  if (name.size() != kSegmentDigits + sizeof(kSegmentSuffix) - 1 ||
      name.substr(kSegmentDigits) != kSegmentSuffix) {
    return false;
  }
  absl::string_view digits = name.substr(0, kSegmentDigits);
  for (char c : digits) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  return absl::SimpleAtoi(digits, number) && *number > 0;
}

void AppendFrame(FrameType type, uint8_t flags, uint32_t write,
                 absl::string_view payload, std::string* out) {
  const size_t at = out->size();
  out->resize(at + kFrameHeaderSize);
  char* h = &(*out)[at];
  PutLe(payload.size(), 4, h);
  h[8] = static_cast<char>(type);
  h[9] = static_cast<char>(flags);
  PutLe(write, 4, h + 10);
  PutLe(FrameCrc(h, payload), 4, h + 4);
  out->append(payload.data(), payload.size());
}

void MarkEndOfWrite(size_t frame_offset, std::string* out) {
  char* h = &(*out)[frame_offset];
  h[9] = static_cast<char>(static_cast<uint8_t>(h[9]) | kEndOfWrite);
  const uint64_t length = GetLe(h, 4);
  PutLe(FrameCrc(h, absl::string_view(h + kFrameHeaderSize, length)), 4, h + 4);
}

// Judges the bytes after the last whole write (scan->end): a torn last
// write, or damage. `from` is where the scan started, `first_bad` where
// reading stopped, `why` the reason.
void JudgeTail(absl::string_view bytes, uint64_t from, uint64_t first_bad,
               const std::string& why, SegmentScan* scan) {
  const uint64_t nonzero_end = EndOfNonZero(bytes, scan->end);
  if (nonzero_end == scan->end) return;
  scan->tail_bytes = nonzero_end - scan->end;
  // Which writes do the frames still readable there belong to? A torn write
  // leaves frames of its own number only: the one after the last whole
  // write's, 1 in a segment that has none (unknown, 0, when the scan
  // started later).
  uint32_t torn_write = 0;
  if (scan->has_write) {
    torn_write = scan->last_write + 1;
  } else if (from == kSegmentHeaderSize) {
    torn_write = 1;
  }
  bool seen = false;
  uint32_t write = 0;
  // Why the tail is not one unfinished write; empty while it may be.
  std::string not_torn;
  if (scan->tail_bytes > kMaxWriteBytes) {
    not_torn = "more data follows than one write";
  }
  // Every offset that claims a frame that fits costs a checksum of the
  // length it claims: bytes edited to claim long frames at most offsets
  // would take about a terabyte of checksums to judge. A tear leaves whole
  // frames, read once each, and a few partly written ones to step through,
  // far less than this.
  uint64_t budget = 16 * kMaxWriteBytes;
  uint64_t offset = scan->end;
  absl::string_view region = bytes.substr(0, nonzero_end);
  std::string ignored;
  while (not_torn.empty() && offset + kFrameHeaderSize <= nonzero_end) {
    const uint64_t claimed = GetLe(region.data() + offset, 4);
    if (PayloadFits(region, offset, claimed)) {
      if (claimed > budget) {
        not_torn =
            "what follows it claims more frame bytes than one write holds";
        break;
      }
      budget -= claimed;
    }
    Frame frame;
    if (ReadFrame(region, offset, &frame, &ignored) != Read::kFrame) {
      ++offset;  // Resynchronise byte by byte.
      continue;
    }
    // The write after the last whole one, and only it.
    if ((seen && frame.write != write) ||
        (torn_write != 0 && frame.write != torn_write)) {
      not_torn = "frames of another write follow it, so it is not the torn "
                 "last write of a crash";
    }
    seen = true;
    write = frame.write;
    offset += frame.size;
  }
  if (not_torn.empty()) {
    scan->tail = SegmentScan::Tail::kTorn;
    return;
  }
  scan->tail = SegmentScan::Tail::kDamaged;
  scan->damage_offset = first_bad;
  scan->damage = absl::StrCat(why, "; ", not_torn);
}

bool ReadFrameAt(absl::string_view bytes, uint64_t offset, Frame* frame) {
  std::string why;
  return offset >= kSegmentHeaderSize && offset < bytes.size() &&
         ReadFrame(bytes, offset, frame, &why) == Read::kFrame;
}

SegmentScan ScanSegmentBytes(absl::string_view bytes, uint64_t from,
                             uint64_t limit,
                             absl::FunctionRef<bool(const Frame&)> visit) {
  SegmentScan scan;
  scan.end = from;
  const uint64_t stop =
      limit == 0 ? bytes.size() : std::min<uint64_t>(limit, bytes.size());
  std::vector<Frame> write;  // frames of the write being read
  uint64_t offset = from;
  std::string why = "the last write is unfinished";
  while (offset < stop) {
    Frame frame;
    const Read read = ReadFrame(bytes.substr(0, stop), offset, &frame, &why);
    if (read == Read::kZero) break;
    if (read == Read::kBad) break;
    if (!write.empty() && frame.write != write.front().write) {
      why = "a write ends without its end-of-write mark";
      break;
    }
    // No write is longer than the writer makes: frames beyond that are not
    // held (a file of tiny frames without an end-of-write mark would take
    // memory without bound).
    if (offset + frame.size - (write.empty() ? offset : write.front().offset) >
        kMaxWriteBytes) {
      why = "a write is longer than any the writer makes";
      break;
    }
    write.push_back(frame);
    offset += frame.size;
    if ((frame.flags & kEndOfWrite) == 0) continue;
    for (const Frame& f : write) {
      ++scan.frames;
      if (!visit(f)) {
        scan.end = f.offset + f.size;
        return scan;
      }
    }
    scan.has_write = true;
    scan.last_write = frame.write;
    write.clear();
    scan.end = offset;
  }
  if (limit == 0) {
    JudgeTail(bytes, from, offset, why, &scan);
  } else if (offset < stop) {
    // Everything before a live segment's durable end was acknowledged: a
    // frame there that does not read is damage. What lies past the end is
    // not judged.
    scan.tail = SegmentScan::Tail::kDamaged;
    scan.damage_offset = offset;
    scan.tail_bytes = stop - scan.end;
    scan.damage = absl::StrCat(why, " before the journal's durable end");
  }
  // A damaged write was acknowledged (whole writes follow it): its frames
  // before the damage are good and are read. A torn one's never are.
  if (scan.tail == SegmentScan::Tail::kDamaged) {
    for (const Frame& f : write) {
      ++scan.frames;
      if (!visit(f)) break;
    }
  }
  return scan;
}

}  // namespace lienthong::audit
