#include "gateway/status/bounded_text.h"

#include "absl/strings/str_cat.h"

namespace lienthong {
namespace {

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Bytes gRPC sends for `c` in grpc-message (percent-encoding of the
// unreserved-for-status set: printable ASCII except '%').
size_t EncodedSize(unsigned char c) {
  return (c >= 0x20 && c <= 0x7E && c != '%') ? 1 : 3;
}

}  // namespace

absl::string_view TruncateUtf8(absl::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t end = max_bytes;
  // Back off continuation bytes, then the lead byte of the cut sequence.
  while (end > 0 && IsContinuation(static_cast<unsigned char>(text[end]))) {
    --end;
  }
  return text.substr(0, end);
}

std::string CutWithEllipsis(absl::string_view text, size_t max_bytes) {
  constexpr absl::string_view kEllipsis = "…";
  if (text.size() <= max_bytes) return std::string(text);
  return absl::StrCat(TruncateUtf8(text, max_bytes - kEllipsis.size()),
                      kEllipsis);
}

std::string BoundStatusMessage(absl::string_view message,
                               size_t max_encoded_bytes) {
  size_t encoded = 0;
  for (char c : message) encoded += EncodedSize(static_cast<unsigned char>(c));
  if (encoded <= max_encoded_bytes) return std::string(message);
  constexpr absl::string_view kMark = " [truncated]";
  const size_t budget =
      max_encoded_bytes > kMark.size() ? max_encoded_bytes - kMark.size() : 0;
  size_t used = 0;
  size_t end = 0;
  while (end < message.size()) {
    const size_t next = EncodedSize(static_cast<unsigned char>(message[end]));
    if (used + next > budget) break;
    used += next;
    ++end;
  }
  return absl::StrCat(TruncateUtf8(message, end), kMark);
}

std::string CappedList(absl::Span<const std::string> items, size_t shown) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < shown; ++i) {
    if (i > 0) out += ", ";
    absl::StrAppend(&out, TruncateUtf8(items[i], 128));
  }
  if (items.size() > shown) {
    absl::StrAppend(&out, " and ", items.size() - shown, " more");
  }
  return out;
}

}  // namespace lienthong
