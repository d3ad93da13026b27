// A strict parser of the Prometheus text exposition format 0.0.4, for tests:
// it accepts what Prometheus's own parser accepts only in its canonical,
// single-spaced form, and checks the format's rules that are easy to break
// (one group per family, TYPE before samples, no duplicate series, histogram
// buckets cumulative and ending in +Inf equal to _count).
//
// Stricter than Prometheus on purpose: no blanks inside braces or around
// tokens beyond the single separating space, no leading or trailing blanks,
// no CR, the last line ends in '\n', values are decimal, NaN, +Inf or -Inf,
// label names starting with "__" are refused.
//
//   ASSERT_OK_AND_ASSIGN(auto families,
//   ParsePrometheusText(registry.Render()));
#ifndef LIENTHONG_TESTS_GATEWAY_METRICS_PROMETHEUS_PARSER_H_
#define LIENTHONG_TESTS_GATEWAY_METRICS_PROMETHEUS_PARSER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace lienthong::metrics::testing {

using Labels = std::vector<std::pair<std::string, std::string>>;

struct ParsedSample {
  std::string name;  // as written, e.g. x_bucket
  Labels labels;     // unescaped, in the order written
  double value = 0.0;
  std::optional<std::int64_t> timestamp_ms;
};

struct ParsedFamily {
  std::string name;
  std::string type = "untyped";  // counter, gauge, histogram, summary, untyped
  std::optional<std::string> help;  // unescaped
  std::vector<ParsedSample> samples;
};

// Returns the families in the order they appear, or INVALID_ARGUMENT naming
// the first offending line ("line 3: ...").
absl::StatusOr<std::vector<ParsedFamily>> ParsePrometheusText(
    absl::string_view text);

// Returns the sample named `name` with exactly `labels` (in that order), or
// nullptr.
const ParsedSample* FindSample(const std::vector<ParsedFamily>& families,
                               absl::string_view name, const Labels& labels);

}  // namespace lienthong::metrics::testing

#endif  // LIENTHONG_TESTS_GATEWAY_METRICS_PROMETHEUS_PARSER_H_
