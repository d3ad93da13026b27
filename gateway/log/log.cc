#include "gateway/log/log.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gateway/log/access_file.h"
#include "gateway/validation/text.h"
#include "unicode/utf8.h"

namespace lienthong::log {
namespace {

std::atomic<int> min_level{static_cast<int>(Level::kInfo)};
std::atomic<AccessFile*> access_file{nullptr};
std::atomic<AccessFile*> stderr_sink{nullptr};

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

// Appends "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC) for `now`. The part up to the
// second is formatted once a second per thread: a busy gateway writes many
// lines in the same second.
void AppendTimestamp(absl::Time now, std::string* line) {
  const int64_t millis = absl::ToUnixMillis(now);
  const int64_t second = millis >= 0 ? millis / 1000 : (millis - 999) / 1000;
  const int ms = static_cast<int>(millis - second * 1000);
  thread_local int64_t cached_second = INT64_MIN;
  thread_local char cached[32];
  thread_local size_t cached_size = 0;
  if (second != cached_second) {
    const absl::CivilSecond t =
        absl::ToCivilSecond(absl::FromUnixSeconds(second), absl::UTCTimeZone());
    const int n =
        std::snprintf(cached, sizeof(cached), "%04lld-%02d-%02dT%02d:%02d:%02d",
                      static_cast<long long>(t.year()), t.month(), t.day(),
                      t.hour(), t.minute(), t.second());
    cached_size =
        n > 0 ? std::min(static_cast<size_t>(n), sizeof(cached) - 1) : 0;
    cached_second = second;
  }
  line->append(cached, cached_size);
  const char fraction[] = {'.', static_cast<char>('0' + ms / 100),
                           static_cast<char>('0' + ms / 10 % 10),
                           static_cast<char>('0' + ms % 10), 'Z'};
  line->append(fraction, sizeof(fraction));
}

// {"ts":..., "level":..., "msg":..., fields...} and a newline, built in one
// buffer: this runs for every call.
std::string Line(Level level, absl::string_view message,
                 absl::Span<const Field> fields) {
  std::string line;
  line.reserve(160 + message.size() + 40 * fields.size());
  line += "{\"ts\":\"";
  AppendTimestamp(absl::Now(), &line);
  absl::StrAppend(&line, "\",\"level\":\"", LevelName(level), "\",\"msg\":\"");
  AppendJsonEscaped(message, &line);
  line.push_back('"');
  for (const auto& [key, value] : fields) {
    line += ",\"";
    AppendJsonEscaped(key, &line);  // the caller's names: literals, usually
    line += "\":\"";
    AppendJsonEscaped(value, &line);
    line.push_back('"');
  }
  line += "}\n";
  return line;
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

void AppendJsonEscaped(absl::string_view text, std::string* out) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  const size_t length = text.size();
  size_t i = 0;
  while (i < length) {
    const unsigned char c = bytes[i];
    if (c >= 0x80) {
      const size_t start = i;
      UChar32 code_point;
      U8_NEXT(bytes, i, length, code_point);
      if (code_point < 0) {
        out->append("\xEF\xBF\xBD");  // U+FFFD
      } else if (validation::IsControlCharacter(
                     static_cast<uint32_t>(code_point)) ||
                 code_point == 0x2028 || code_point == 0x2029) {
        absl::StrAppendFormat(out, "\\u%04x", code_point);
      } else {
        out->append(text.data() + start, i - start);
      }
      continue;
    }
    ++i;
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          absl::StrAppendFormat(out, "\\u%04x", c);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
}

std::string JsonEscape(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  AppendJsonEscaped(text, &out);
  return out;
}

void Write(Level level, absl::string_view message,
           absl::Span<const Field> fields) {
  if (static_cast<int>(level) < min_level.load(std::memory_order_relaxed)) {
    return;
  }
  const std::string line = Line(level, message, fields);
  if (AccessFile* sink = stderr_sink.load(std::memory_order_acquire)) {
    sink->Append(line);
    return;
  }
  // One write(2) per line: atomic for lines under PIPE_BUF on pipes, and
  // never interleaved mid-line on files opened O_APPEND. A signal or a
  // longer line's short write only delays the rest of the line, which
  // follows at once; a line that cannot be written is dropped (there is
  // nowhere else to say so).
  size_t written = 0;
  (void)WriteAll(STDERR_FILENO, line, &written);
}

void SetAccessFile(AccessFile* file) { access_file.store(file); }

void SetStderrSink(AccessFile* file) { stderr_sink.store(file); }

void WriteAccess(absl::Span<const Field> fields) {
  AccessFile* file = access_file.load(std::memory_order_acquire);
  if (file == nullptr) {
    Write(Level::kInfo, "access", fields);
    return;
  }
  if (file->is_stderr() && static_cast<int>(Level::kInfo) <
                               min_level.load(std::memory_order_relaxed)) {
    return;
  }
  file->Append(Line(Level::kInfo, "access", fields));
}

}  // namespace lienthong::log
