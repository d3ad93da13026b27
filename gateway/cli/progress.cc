#include "gateway/cli/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace lienthong::cli {
namespace {

// Erases from the cursor to the end of the line (ECMA-48 EL), so that a
// shorter redraw leaves no tail of the longer line before it.
constexpr char kClearToEndOfLine[] = "\x1b[K";

int64_t Cells(int64_t count, int64_t total, int width) {
  if (total <= 0 || count <= 0) return 0;
  if (count >= total) return width;
  return count * width / total;
}

}  // namespace

std::string RenderBar(const ProgressCounts& counts, int width) {
  const int64_t done = Cells(counts.done, counts.total, width);
  const int64_t ended =
      std::max(done, Cells(counts.done + std::max<int64_t>(counts.failed, 0),
                           counts.total, width));
  std::string bar = "[";
  bar.append(static_cast<size_t>(done), '#');
  bar.append(static_cast<size_t>(ended - done), 'x');
  bar.append(static_cast<size_t>(width - ended), '.');
  bar.push_back(']');
  return bar;
}

std::string RenderPercent(const ProgressCounts& counts) {
  int64_t percent = 0;
  if (counts.total > 0) {
    const int64_t ended =
        std::max<int64_t>(counts.done, 0) + std::max<int64_t>(counts.failed, 0);
    percent = std::min<int64_t>(100, ended * 100 / counts.total);
  }
  return absl::StrFormat("[%3d%%]", percent);
}

std::string FormatElapsed(absl::Duration elapsed) {
  const int64_t seconds = std::max<int64_t>(0, absl::ToInt64Seconds(elapsed));
  if (seconds < 60) return absl::StrCat(seconds, " s");
  if (seconds < 3600) {
    return absl::StrFormat("%d min %02d s", seconds / 60, seconds % 60);
  }
  return absl::StrFormat("%d h %02d min", seconds / 3600, seconds / 60 % 60);
}

bool IsTerminal(const std::ostream& out) {
  const int fd = &out == &std::cout   ? STDOUT_FILENO
                 : &out == &std::cerr ? STDERR_FILENO
                                      : -1;
  if (fd < 0 || isatty(fd) != 1) return false;
  const char* term = std::getenv("TERM");
  return term == nullptr || std::strcmp(term, "dumb") != 0;
}

ProgressBar::ProgressBar(std::ostream& out, Mode mode,
                         absl::Duration plain_interval)
    : out_(out), mode_(mode), plain_interval_(plain_interval) {}

std::string ProgressBar::Line(const ProgressCounts& counts,
                              absl::string_view text) const {
  if (mode_ == Mode::kTerminal) {
    return absl::StrCat("\r", RenderBar(counts, kWidth), " ", text,
                        kClearToEndOfLine);
  }
  return absl::StrCat(RenderPercent(counts), " ", text, "\n");
}

void ProgressBar::Show(const ProgressCounts& counts, absl::string_view text,
                       absl::Time now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (finished_) return;
  if (mode_ == Mode::kPlain && printed_ &&
      now - last_printed_ < plain_interval_) {
    return;
  }
  out_ << Line(counts, text) << std::flush;
  printed_ = true;
  last_printed_ = now;
  line_open_ = mode_ == Mode::kTerminal;
}

void ProgressBar::Finish(const ProgressCounts& counts, absl::string_view text) {
  std::lock_guard<std::mutex> lock(mu_);
  if (finished_) return;
  finished_ = true;
  out_ << Line(counts, text);
  if (mode_ == Mode::kTerminal) out_ << "\n";
  out_ << std::flush;
  line_open_ = false;
}

void ProgressBar::Break() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!line_open_) return;
  out_ << "\n" << std::flush;
  line_open_ = false;
}

QuietProgress::QuietProgress(std::ostream& err, absl::Duration after)
    : start_(absl::Now()),
      after_(after),
      bar_(err,
           IsTerminal(err) ? ProgressBar::Mode::kTerminal
                           : ProgressBar::Mode::kPlain,
           absl::Seconds(10)) {}

void QuietProgress::Update(const ProgressCounts& counts,
                           absl::string_view what) {
  const absl::Time now = absl::Now();
  counts_ = counts;
  text_ = absl::StrCat(what, ", ", FormatElapsed(now - start_));
  if (!shown_ && now - start_ < after_) return;
  shown_ = true;
  bar_.Show(counts_, text_, now);
}

void QuietProgress::Finish() {
  if (shown_) bar_.Finish(counts_, text_);
}

}  // namespace lienthong::cli
