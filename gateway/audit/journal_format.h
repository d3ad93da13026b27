// The audit journal's file format: segment files, their header, and the
// frames that hold its entries, with the scan that reads them back and
// tells a crash's torn last write from damage.
//
// A journal is a folder of segment files named by number ("0000000001.seg",
// ...), each of a fixed size, written with zeros ahead of use so that an
// append is a data-only overwrite. A segment holds:
//
//   header (64 bytes)   "LTJRNL01"  8 bytes magic and version
//                       number      u64  the segment's number (1, 2, ...)
//                       journal_id  16 bytes, random, the same in every
//                                   segment of one journal
//                       created     i64  Unix nanoseconds
//                       zeros up to byte 60, then the CRC-32C of bytes 0..59
//   frames, back to back
//   zeros to the end of the file
//
// A frame is one entry (an AuditRecord or AuditCheckpoint, serialized):
//
//   length  u32  payload bytes, 1..kMaxFramePayload
//   crc     u32  CRC-32C of length, type, flags, write and payload
//   type    u8   FrameType
//   flags   u8   kEndOfWrite on the last frame of each write
//   write   u32  the number of the write the frame belongs to, counted in
//                its segment: 1 for the first write, +1 a write
//   payload
//
// Integers are little-endian. Every write of the journal is one run of whole
// frames of one write number whose last is marked kEndOfWrite, followed by
// an fdatasync; only writes whose fdatasync returned are acknowledged. After
// a crash, what follows the last whole write (its end-of-write mark) can only
// be the unfinished last write: at most kMaxWriteBytes, and every frame in
// it of the write number after the last whole write's (1 when the segment
// has none). That is a torn tail, cut off when the journal is opened.
// Anything else that does not read as whole writes (frames of two writes
// after a bad one: an acknowledged write was damaged) is damage, never cut.
// Damage confined to the very last write cannot be told from a tear; the
// journal then cuts that write, and says so in the record it writes when it
// opens (and the anchors hold any checkpoint it carried).
#ifndef LIENTHONG_GATEWAY_AUDIT_JOURNAL_FORMAT_H_
#define LIENTHONG_GATEWAY_AUDIT_JOURNAL_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace lienthong::audit {

inline constexpr size_t kSegmentHeaderSize = 64;
inline constexpr size_t kJournalIdSize = 16;
inline constexpr size_t kFrameHeaderSize = 14;
// Largest payload of one frame (records are a few hundred bytes).
inline constexpr size_t kMaxFramePayload = 1 << 20;
// Largest single write the journal makes: a torn tail is never longer.
inline constexpr size_t kMaxWriteBytes = 8 << 20;
// Smallest segment: a header and room for a full write.
inline constexpr uint64_t kMinSegmentBytes = 1 << 20;

enum class FrameType : uint8_t { kRecord = 1, kCheckpoint = 2 };
inline constexpr uint8_t kEndOfWrite = 1;

struct SegmentHeader {
  uint64_t number = 0;
  std::string journal_id;  // kJournalIdSize raw bytes
  int64_t created_unix_ns = 0;
};

// Returns the 64-byte header.
std::string EncodeSegmentHeader(const SegmentHeader& header);
// Parses a header; DATA_LOSS when the magic or checksum is wrong or `bytes`
// is short.
absl::StatusOr<SegmentHeader> DecodeSegmentHeader(absl::string_view bytes);

// Returns "0000000042.seg" for 42; ParseSegmentName reverses it (false for
// any other name, temporary files included).
std::string SegmentFileName(uint64_t number);
bool ParseSegmentName(absl::string_view name, uint64_t* number);

// Appends one frame of `payload`, part of write number `write`, to `out`.
// REQUIRES: 0 < payload.size() <= kMaxFramePayload.
void AppendFrame(FrameType type, uint8_t flags, uint32_t write,
                 absl::string_view payload, std::string* out);
// Sets kEndOfWrite on the frame that starts at `frame_offset` in `out`
// (recomputing its checksum).
void MarkEndOfWrite(size_t frame_offset, std::string* out);

// Returns one past the last non-zero byte of bytes[from, bytes.size()), or
// `from` when all are zero. REQUIRES: from <= bytes.size().
uint64_t EndOfNonZero(absl::string_view bytes, uint64_t from);

// One frame read from a segment; `payload` points into the segment's bytes.
struct Frame {
  FrameType type = FrameType::kRecord;
  uint8_t flags = 0;
  uint32_t write = 0;
  absl::string_view payload;
  uint64_t offset = 0;  // of the frame's header in the segment file
  uint64_t size = 0;    // header + payload
};

// Reads the one frame at `offset` of a segment's bytes (no scan, no
// end-of-write check: for a place an index remembers). False when there is
// no valid frame there.
bool ReadFrameAt(absl::string_view bytes, uint64_t offset, Frame* frame);

// What scanning a segment found after its last whole write.
struct SegmentScan {
  // Offset just after the last whole write: where the next write goes.
  uint64_t end = kSegmentHeaderSize;
  // Whole writes' frames visited.
  uint64_t frames = 0;
  // The write number of the last whole write; `has_write` false when the
  // segment holds none.
  bool has_write = false;
  uint32_t last_write = 0;
  enum class Tail {
    kClean,    // zeros from `end` to the end of the file
    kTorn,     // at most kMaxWriteBytes of an unfinished write after `end`
    kDamaged,  // anything else: not what a crash leaves
  };
  Tail tail = Tail::kClean;
  // kTorn / kDamaged: the bytes from `end` to the last non-zero byte, and
  // (kDamaged) where the first unreadable frame is and why.
  uint64_t tail_bytes = 0;
  uint64_t damage_offset = 0;
  std::string damage;
};

// Scans the frames of one segment's bytes (`bytes` is the whole file) from
// `from` (a frame boundary, at least kSegmentHeaderSize) and calls `visit`
// for each frame of each whole write, in order, until it returns false;
// when the tail is damaged, also for the good frames of the damaged write
// before its first bad frame (that write was acknowledged).
// A scan from kSegmentHeaderSize knows the number of the segment's first
// write (1); one from later does not, so there an unfinished write of any
// number after no whole write passes for torn.
// When `limit` is not 0, stops at `limit` (a write boundary: the durable
// end of a segment being written) without judging the bytes after it; a
// frame before it that does not read is damage.
// Thread-compatible; `bytes` must not change during the scan beyond
// `limit`.
SegmentScan ScanSegmentBytes(absl::string_view bytes, uint64_t from,
                             uint64_t limit,
                             absl::FunctionRef<bool(const Frame&)> visit);

}  // namespace lienthong::audit

#endif  // LIENTHONG_GATEWAY_AUDIT_JOURNAL_FORMAT_H_
