// Structured logging: one JSON object per line on stderr, so that journald,
// Loki or a SIEM can parse it. Callers pass personal data only masked
// (validation::MaskCitizenId); the logger does not know what is personal.
#ifndef LIENTHONG_GATEWAY_LOG_LOG_H_
#define LIENTHONG_GATEWAY_LOG_LOG_H_

#include <initializer_list>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace lienthong::log {

enum class Level { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

using Field = std::pair<absl::string_view, absl::string_view>;

// Sets the lowest level written. Thread-safe.
void SetLevel(Level level);
// Parses "debug", "info", "warning", "error"; returns false otherwise.
bool ParseLevel(absl::string_view name, Level* level);
// Returns the names ParseLevel takes, "debug, info, warning, error".
std::string LevelNames();

// Writes {"ts":..., "level":..., "msg":..., fields...} as one line: to
// stderr at once, or through the stderr sink when one is set.
// Thread-safe; lines from different threads never interleave.
void Write(Level level, absl::string_view message,
           absl::Span<const Field> fields = {});

class AccessFile;

// Sends access lines (WriteAccess) to `file` (a file of its own takes them
// whatever the level; AccessFile::Stderr() as Write would) instead of
// writing each to stderr at once; nullptr goes back to that. REQUIRES: `file`
// stays alive until this is called again with nullptr and no access line is
// being written (the gateway sets it before it serves and clears it once
// stopped). Thread-safe.
void SetAccessFile(AccessFile* file);

// Sends Write's lines to `file`, an AccessFile::Stderr() (the access
// log's, when that is where access lines go), which writes them in
// batches from its own thread: no thread (the HTTP client's, a call's)
// waits for a slow reader of stderr to log a warning. nullptr writes each
// at once again. REQUIRES as SetAccessFile. Thread-safe.
void SetStderrSink(AccessFile* file);

// Writes the "access" line of one call: to the access file when one is set,
// else as Write(Level::kInfo, "access", fields).
void WriteAccess(absl::Span<const Field> fields);

inline void Info(absl::string_view message,
                 std::initializer_list<Field> fields = {}) {
  Write(Level::kInfo, message, fields);
}
inline void Warning(absl::string_view message,
                    std::initializer_list<Field> fields = {}) {
  Write(Level::kWarning, message, fields);
}
inline void Error(absl::string_view message,
                  std::initializer_list<Field> fields = {}) {
  Write(Level::kError, message, fields);
}

// Whether a message repeated while a fault lasts is due again: `every` has
// passed since it was last written at `last`, or the clock stepped back
// past `last` (NTP, a restored snapshot), where a plain `now - last` would
// keep it silent until the clock came round again.
inline bool Due(absl::Time last, absl::Time now, absl::Duration every) {
  return now < last || now - last >= every;
}

// Returns `text` escaped as the inside of a JSON string: quotes,
// backslashes, control characters (validation::IsControlCharacter: C0,
// DEL, C1, the bidirectional overrides and isolates, which would show a
// line reordered) and U+2028/U+2029 (line breaks to JavaScript) as escapes;
// each ill-formed UTF-8 sequence as U+FFFD, so that a line is always valid
// JSON; other UTF-8 as it is.
std::string JsonEscape(absl::string_view text);
// Appends JsonEscape(text) to `out`.
void AppendJsonEscaped(absl::string_view text, std::string* out);

}  // namespace lienthong::log

#endif  // LIENTHONG_GATEWAY_LOG_LOG_H_
