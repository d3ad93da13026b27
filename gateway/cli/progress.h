// ProgressBar: the progress of a long job, either as one line redrawn in
// place on a terminal ("[#####x....] 312/415 delivered, ...") or, when the
// output is a log or a pipe, as plain lines at a fixed interval
// ("[ 75%] 312/415 delivered, ..."); plus the pieces it is made of
// (RenderBar, FormatElapsed) and the terminal test (IsTerminal).
#ifndef LIENTHONG_GATEWAY_CLI_PROGRESS_H_
#define LIENTHONG_GATEWAY_CLI_PROGRESS_H_

#include <cstdint>
#include <mutex>
#include <ostream>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace lienthong::cli {

// Items of a job: `done` succeeded, `failed` ended in failure, of `total`.
struct ProgressCounts {
  int64_t done = 0;
  int64_t failed = 0;
  int64_t total = 0;
};

// Returns the bar: '[', `width` cells ('#' done, 'x' failed, '.' still to
// do, each rounded down), ']'. Counts beyond the total fill the bar; a total
// of 0 or less shows an empty bar. REQUIRES: width > 0. Thread-safe.
std::string RenderBar(const ProgressCounts& counts, int width);

// Returns the share of the total that is done or failed, "[ 75%]", rounded
// down and at most 100%; "[  0%]" for a total of 0 or less. Thread-safe.
std::string RenderPercent(const ProgressCounts& counts);

// Returns a short duration for people: "0 s", "12 s", "2 min 05 s",
// "1 h 02 min" (rounded down to the unit shown). Negative is "0 s".
// Thread-safe.
std::string FormatElapsed(absl::Duration elapsed);

// Returns true when `out` is the process's standard output or error, that
// is a terminal, and TERM is not "dumb": only then is a line redrawn in
// place.
// Thread-safe.
bool IsTerminal(const std::ostream& out);

class ProgressBar {
 public:
  enum class Mode {
    // Redraw one line: '\r', bar, text, clear to the end of the line.
    kTerminal,
    // A line "[ 75%] text" at most every `plain_interval`.
    kPlain,
  };

  inline static constexpr int kWidth = 30;

  // Writes to `out`, which must outlive the bar.
  ProgressBar(std::ostream& out, Mode mode, absl::Duration plain_interval);

  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Shows `counts` with `text`, e.g. "312/415 delivered, 0 dead-lettered,
  // 12 s". Terminal: redraws the line. Plain: prints a line on the first
  // call and then when `now` is at least `plain_interval` after the last
  // printed line. Does nothing after Finish. Thread-safe.
  void Show(const ProgressCounts& counts, absl::string_view text,
            absl::Time now);

  // Shows the final state and ends the line: terminal, the line redrawn and
  // a newline; plain, the line printed whatever the interval. Only the first
  // call does anything. Thread-safe.
  void Finish(const ProgressCounts& counts, absl::string_view text);

  // Ends a half-drawn terminal line so that a message can follow on its own
  // line; the next Show draws afresh below it. Call it before writing to
  // the terminal by other means. Thread-safe.
  void Break();

 private:
  std::string Line(const ProgressCounts& counts, absl::string_view text) const;

  std::ostream& out_;
  const Mode mode_;
  const absl::Duration plain_interval_;

  std::mutex mu_;
  bool line_open_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool printed_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time last_printed_ ABSL_GUARDED_BY(mu_);
};

// The progress of work that is usually quick (an offline check, a
// rebuild) on the error stream: nothing until `after` has passed, so quick
// runs and scripts see only the result; then a ProgressBar, redrawn on a
// terminal, a line every 10 s otherwise. Not thread-safe.
class QuietProgress {
 public:
  QuietProgress(std::ostream& err, absl::Duration after);

  // Notes where the work is, `what` followed by the time since the start
  // ("312 records checked, 12 s"); shows it once `after` has passed.
  void Update(const ProgressCounts& counts, absl::string_view what);
  // Shows the last update as the final line, when anything was shown.
  void Finish();

 private:
  const absl::Time start_;
  const absl::Duration after_;
  ProgressBar bar_;
  bool shown_ = false;
  ProgressCounts counts_;
  std::string text_;
};

}  // namespace lienthong::cli

#endif  // LIENTHONG_GATEWAY_CLI_PROGRESS_H_
