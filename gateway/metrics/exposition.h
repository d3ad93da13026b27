// The lexical rules of the Prometheus text exposition format 0.0.4: which
// metric and label names are valid, how HELP text and label values are
// escaped, and how sample values are written. Registry::Render uses them;
// they are public so that tests and other exporters agree with it.
#ifndef LIENTHONG_GATEWAY_METRICS_EXPOSITION_H_
#define LIENTHONG_GATEWAY_METRICS_EXPOSITION_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace lienthong::metrics {

// The Content-Type of a text-format scrape.
inline constexpr absl::string_view kTextContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// Returns OK when `name` matches [a-zA-Z_:][a-zA-Z0-9_:]*, else
// INVALID_ARGUMENT naming it. Thread-safe.
absl::Status ValidateMetricName(absl::string_view name);

// Returns OK when `name` matches [a-zA-Z_][a-zA-Z0-9_]* and does not start
// with "__" (reserved for Prometheus itself), else INVALID_ARGUMENT.
// Thread-safe.
absl::Status ValidateLabelName(absl::string_view name);

// Returns HELP text with backslash and newline escaped (\\, \n).
std::string EscapeHelp(absl::string_view help);

// Returns a label value with backslash, double quote and newline escaped
// (\\, \", \n), ready to go between the quotes.
std::string EscapeLabelValue(absl::string_view value);

// Returns `value` as a sample value or `le` bound: "NaN", "+Inf", "-Inf";
// whole numbers below 2^53 in magnitude as integers ("42"); otherwise the
// shortest text that reads back as the same double ("0.0005", "2.5",
// "1.5e-07"). Thread-safe.
std::string FormatValue(double value);

// Returns `value` in decimal.
std::string FormatValue(std::uint64_t value);

}  // namespace lienthong::metrics

#endif  // LIENTHONG_GATEWAY_METRICS_EXPOSITION_H_
