#include "gateway/log/log.h"

#include <unistd.h>

#include <atomic>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace lienthong::log {
namespace {

std::atomic<int> min_level{static_cast<int>(Level::kInfo)};

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarning:
      return "warning";
    case Level::kError:
      return "error";
  }
  return "info";
}

}  // namespace

void SetLevel(Level level) { min_level.store(static_cast<int>(level)); }

constexpr Level kLevels[] = {Level::kDebug, Level::kInfo, Level::kWarning,
                             Level::kError};

bool ParseLevel(absl::string_view name, Level* level) {
  for (Level l : kLevels) {
    if (name == LevelName(l)) {
      *level = l;
      return true;
    }
  }
  return false;
}

std::string LevelNames() {
  std::string names;
  for (Level l : kLevels) {
    absl::StrAppend(&names, names.empty() ? "" : ", ", LevelName(l));
  }
  return names;
}

std::string JsonEscape(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

void Write(Level level, absl::string_view message,
           absl::Span<const Field> fields) {
  if (static_cast<int>(level) < min_level.load(std::memory_order_relaxed)) {
    return;
  }
  std::string line = absl::StrCat(
      "{\"ts\":\"",
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()),
      "\",\"level\":\"", LevelName(level), "\",\"msg\":\"", JsonEscape(message),
      "\"");
  for (const auto& [key, value] : fields) {
    absl::StrAppend(&line, ",\"", key, "\":\"", JsonEscape(value), "\"");
  }
  line += "}\n";
  // One write(2) per line: atomic for lines under PIPE_BUF on pipes, and
  // never interleaved mid-line on files opened O_APPEND.
  (void)!::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace lienthong::log
