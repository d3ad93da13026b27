#include "tests/gateway/metrics/prometheus_parser.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace lienthong::metrics::testing {
namespace {

bool IsNameStart(char c, bool colon) {
  return absl::ascii_isalpha(static_cast<unsigned char>(c)) || c == '_' ||
         (colon && c == ':');
}

bool IsNameChar(char c, bool colon) {
  return IsNameStart(c, colon) ||
         absl::ascii_isdigit(static_cast<unsigned char>(c));
}

// Consumes a metric (colon = true) or label name from the front of `s`.
bool ConsumeName(absl::string_view* s, bool colon, std::string* name) {
  if (s->empty() || !IsNameStart(s->front(), colon)) return false;
  std::size_t n = 1;
  while (n < s->size() && IsNameChar((*s)[n], colon)) ++n;
  *name = std::string(s->substr(0, n));
  s->remove_prefix(n);
  return true;
}

// Go's strconv.ParseFloat accepts more (hex, "inf", "infinity"); canonical
// output uses only these forms.
bool ParseValue(absl::string_view text, double* value) {
  if (text == "NaN") {
    *value = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (text == "+Inf" || text == "-Inf") {
    *value = text[0] == '+' ? std::numeric_limits<double>::infinity()
                            : -std::numeric_limits<double>::infinity();
    return true;
  }
  absl::string_view s = text;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  std::size_t digits = 0, i = 0;
  while (i < s.size() &&
         absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) {
    ++i;
    ++digits;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() &&
           absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) {
      ++i;
      ++digits;
    }
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    std::size_t exponent_digits = 0;
    while (i < s.size() &&
           absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) {
      ++i;
      ++exponent_digits;
    }
    if (exponent_digits == 0) return false;
  }
  if (i != s.size()) return false;
  const std::string copy(text);
  errno = 0;
  char* end = nullptr;
  *value = std::strtod(copy.c_str(), &end);
  return end == copy.c_str() + copy.size() && errno != ERANGE;
}

// Unescapes HELP text (\\ and \n) or a label value (also \").
bool Unescape(absl::string_view s, bool allow_quote, std::string* out) {
  out->clear();
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out->push_back(s[i]);
      continue;
    }
    if (++i == s.size()) return false;
    switch (s[i]) {
      case '\\':
        out->push_back('\\');
        break;
      case 'n':
        out->push_back('\n');
        break;
      case '"':
        if (!allow_quote) return false;
        out->push_back('"');
        break;
      default:
        return false;
    }
  }
  return true;
}

// Parses {name="value",...} from the front of `s`.
absl::Status ConsumeLabels(absl::string_view* s, Labels* labels) {
  s->remove_prefix(1);  // '{'
  std::set<std::string> seen;
  while (true) {
    if (s->empty()) return absl::InvalidArgumentError("unterminated labels");
    if (s->front() == '}') {
      s->remove_prefix(1);
      return absl::OkStatus();
    }
    std::string name;
    if (!ConsumeName(s, /*colon=*/false, &name)) {
      return absl::InvalidArgumentError("bad label name");
    }
    if (absl::StartsWith(name, "__")) {
      return absl::InvalidArgumentError("reserved label name " + name);
    }
    if (!seen.insert(name).second) {
      return absl::InvalidArgumentError("repeated label " + name);
    }
    if (!absl::ConsumePrefix(s, "=\"")) {
      return absl::InvalidArgumentError("want =\" after label " + name);
    }
    // Find the closing quote, skipping escaped characters.
    std::size_t end = 0;
    while (end < s->size() && (*s)[end] != '"') {
      end += (*s)[end] == '\\' ? 2 : 1;
    }
    if (end >= s->size()) {
      return absl::InvalidArgumentError("unterminated label value");
    }
    std::string value;
    if (!Unescape(s->substr(0, end), /*allow_quote=*/true, &value)) {
      return absl::InvalidArgumentError("bad escape in label value");
    }
    s->remove_prefix(end + 1);
    labels->emplace_back(std::move(name), std::move(value));
    if (absl::ConsumePrefix(s, ",")) continue;
    if (s->empty() || s->front() != '}') {
      return absl::InvalidArgumentError("want , or } after a label");
    }
  }
}

absl::Status ParseSampleLine(absl::string_view line, ParsedSample* sample) {
  absl::string_view s = line;
  if (!ConsumeName(&s, /*colon=*/true, &sample->name)) {
    return absl::InvalidArgumentError("bad metric name");
  }
  if (!s.empty() && s.front() == '{') {
    absl::Status status = ConsumeLabels(&s, &sample->labels);
    if (!status.ok()) return status;
  }
  if (!absl::ConsumePrefix(&s, " ")) {
    return absl::InvalidArgumentError("want one space before the value");
  }
  const std::vector<absl::string_view> fields = absl::StrSplit(s, ' ');
  if (fields.size() > 2) {
    return absl::InvalidArgumentError("extra text after the sample");
  }
  if (!ParseValue(fields[0], &sample->value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad value \"", fields[0], "\""));
  }
  if (fields.size() == 2) {
    std::int64_t timestamp;
    if (fields[1].empty() || fields[1][0] == '+' ||
        !absl::SimpleAtoi(fields[1], &timestamp)) {
      return absl::InvalidArgumentError("bad timestamp");
    }
    sample->timestamp_ms = timestamp;
  }
  return absl::OkStatus();
}

// The family a sample of `family` may be called, by type.
bool BelongsTo(const ParsedFamily& family, absl::string_view name) {
  if (name == family.name) return family.type != "histogram";
  if (family.type == "histogram") {
    return name == family.name + "_bucket" || name == family.name + "_sum" ||
           name == family.name + "_count";
  }
  if (family.type == "summary") {
    return name == family.name + "_sum" || name == family.name + "_count";
  }
  return false;
}

std::string SeriesKey(const ParsedSample& sample) {
  Labels labels = sample.labels;
  std::sort(labels.begin(), labels.end());
  std::string key = sample.name;
  for (const auto& [name, value] : labels) {
    absl::StrAppend(&key, "\x1f", name, "=", value);
  }
  return key;
}

absl::Status CheckHistogram(const ParsedFamily& family) {
  struct Series {
    std::vector<std::pair<double, double>> buckets;  // le, cumulative count
    std::optional<double> sum, count;
  };
  std::map<std::string, Series> by_labels;  // labels without le
  for (const ParsedSample& sample : family.samples) {
    ParsedSample key_sample;
    std::optional<double> le;
    for (const auto& [name, value] : sample.labels) {
      if (name == "le") {
        double bound;
        if (!ParseValue(value, &bound) || std::isnan(bound)) {
          return absl::InvalidArgumentError(
              absl::StrCat(family.name, ": bad le \"", value, "\""));
        }
        le = bound;
      } else {
        key_sample.labels.emplace_back(name, value);
      }
    }
    Series& series = by_labels[SeriesKey(key_sample)];
    const bool is_bucket = sample.name == family.name + "_bucket";
    if (is_bucket != le.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          family.name, ": le belongs on _bucket samples and only there"));
    }
    if (is_bucket) {
      if (!series.buckets.empty()) {
        const auto& [last_le, last_count] = series.buckets.back();
        if (!(last_le < *le)) {
          return absl::InvalidArgumentError(
              absl::StrCat(family.name, ": buckets not in increasing le"));
        }
        if (sample.value < last_count) {
          return absl::InvalidArgumentError(
              absl::StrCat(family.name, ": buckets not cumulative"));
        }
      }
      series.buckets.emplace_back(*le, sample.value);
    } else if (sample.name == family.name + "_sum") {
      series.sum = sample.value;
    } else {
      series.count = sample.value;
    }
  }
  for (const auto& [key, series] : by_labels) {
    if (series.buckets.empty() || !std::isinf(series.buckets.back().first)) {
      return absl::InvalidArgumentError(
          absl::StrCat(family.name, ": no le=\"+Inf\" bucket"));
    }
    if (!series.sum.has_value() || !series.count.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat(family.name, ": _sum or _count missing"));
    }
    if (*series.count != series.buckets.back().second) {
      return absl::InvalidArgumentError(
          absl::StrCat(family.name, ": _count differs from the +Inf bucket"));
    }
  }
  return absl::OkStatus();
}

class Parser {
 public:
  absl::StatusOr<std::vector<ParsedFamily>> Parse(absl::string_view text) {
    if (text.empty()) return std::move(families_);
    if (text.back() != '\n') {
      return Error(0, "the last line does not end in a newline");
    }
    text.remove_suffix(1);
    int number = 0;
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      ++number;
      absl::Status status = ParseLine(line);
      if (!status.ok()) return Error(number, status.message());
    }
    for (const ParsedFamily& family : families_) {
      if (family.type == "histogram" && !family.samples.empty()) {
        absl::Status status = CheckHistogram(family);
        if (!status.ok()) return Error(number, status.message());
      }
    }
    return std::move(families_);
  }

 private:
  static absl::Status Error(int line, absl::string_view message) {
    return absl::InvalidArgumentError(
        absl::StrCat("line ", line, ": ", message));
  }

  absl::Status ParseLine(absl::string_view line) {
    if (line.empty()) return absl::OkStatus();  // blank lines are allowed
    if (absl::StrContains(line, '\r')) {
      return absl::InvalidArgumentError("carriage return");
    }
    if (absl::ascii_isspace(static_cast<unsigned char>(line.front())) ||
        absl::ascii_isspace(static_cast<unsigned char>(line.back()))) {
      return absl::InvalidArgumentError("leading or trailing blank");
    }
    if (line.front() == '#') return ParseComment(line);
    ParsedSample sample;
    absl::Status status = ParseSampleLine(line, &sample);
    if (!status.ok()) return status;
    return AddSample(std::move(sample));
  }

  absl::Status ParseComment(absl::string_view line) {
    const bool help = absl::StartsWith(line, "# HELP ");
    const bool type = absl::StartsWith(line, "# TYPE ");
    if (!help && !type) return absl::OkStatus();  // a plain comment
    absl::string_view rest = line.substr(7);
    std::string name;
    if (!ConsumeName(&rest, /*colon=*/true, &name)) {
      return absl::InvalidArgumentError("bad metric name in HELP or TYPE");
    }
    absl::StatusOr<ParsedFamily*> found = FamilyFor(name);
    if (!found.ok()) return found.status();
    ParsedFamily& family = **found;
    if (!family.samples.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("HELP or TYPE for ", name, " after its samples"));
    }
    if (help) {
      if (family.help.has_value()) {
        return absl::InvalidArgumentError("second HELP for " + name);
      }
      if (!rest.empty() && !absl::ConsumePrefix(&rest, " ")) {
        return absl::InvalidArgumentError("want a space after the name");
      }
      std::string text;
      if (!Unescape(rest, /*allow_quote=*/false, &text)) {
        return absl::InvalidArgumentError("bad escape in HELP");
      }
      family.help = std::move(text);
      return absl::OkStatus();
    }
    if (!typed_.insert(name).second) {
      return absl::InvalidArgumentError("second TYPE for " + name);
    }
    if (!absl::ConsumePrefix(&rest, " ")) {
      return absl::InvalidArgumentError("want a type after the name");
    }
    static const std::set<std::string, std::less<>>* const kTypes =
        new std::set<std::string, std::less<>>{"counter", "gauge", "histogram",
                                               "summary", "untyped"};
    if (kTypes->find(rest) == kTypes->end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown type \"", rest, "\""));
    }
    family.type = std::string(rest);
    return absl::OkStatus();
  }

  // Returns the family named `name`: the current one, or a new group. Fails
  // when the name had its group already or is a sample name of another
  // family (x_count of the histogram x).
  absl::StatusOr<ParsedFamily*> FamilyFor(const std::string& name) {
    if (!families_.empty() && families_.back().name == name) {
      return &families_.back();
    }
    for (const ParsedFamily& family : families_) {
      if (family.name == name || BelongsTo(family, name)) {
        return absl::InvalidArgumentError(
            absl::StrCat(name, " appears outside the group of ", family.name));
      }
    }
    families_.emplace_back();
    families_.back().name = name;
    return &families_.back();
  }

  absl::Status AddSample(ParsedSample sample) {
    ParsedFamily* family = nullptr;
    if (!families_.empty() && BelongsTo(families_.back(), sample.name)) {
      family = &families_.back();
    } else {
      absl::StatusOr<ParsedFamily*> found = FamilyFor(sample.name);
      if (!found.ok()) return found.status();
      family = *found;
      if (!BelongsTo(*family, sample.name)) {
        return absl::InvalidArgumentError(
            absl::StrCat("sample ", sample.name, " does not fit the ",
                         family->type, " ", family->name));
      }
    }
    if (family->type == "counter" && sample.value < 0) {
      return absl::InvalidArgumentError("negative counter");
    }
    if (!series_.insert(SeriesKey(sample)).second) {
      return absl::InvalidArgumentError("duplicate series " + sample.name);
    }
    family->samples.push_back(std::move(sample));
    return absl::OkStatus();
  }

  std::vector<ParsedFamily> families_;
  std::set<std::string> typed_;
  std::set<std::string> series_;
};

}  // namespace

absl::StatusOr<std::vector<ParsedFamily>> ParsePrometheusText(
    absl::string_view text) {
  return Parser().Parse(text);
}

const ParsedSample* FindSample(const std::vector<ParsedFamily>& families,
                               absl::string_view name, const Labels& labels) {
  for (const ParsedFamily& family : families) {
    for (const ParsedSample& sample : family.samples) {
      if (sample.name == name && sample.labels == labels) return &sample;
    }
  }
  return nullptr;
}

}  // namespace lienthong::metrics::testing
