#include "gateway/metrics/registry.h"

#include <cmath>
#include <cstdlib>
#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gateway/log/log.h"
#include "gateway/metrics/exposition.h"

namespace lienthong::metrics {
namespace {

template <typename T>
constexpr absl::string_view TypeName() {
  if constexpr (std::is_same_v<T, Counter>) {
    return "counter";
  } else if constexpr (std::is_same_v<T, Gauge>) {
    return "gauge";
  } else {
    return "histogram";
  }
}

// Appends `name{labels} value\n`; `extra` is one more rendered label (le).
void AppendSample(absl::string_view name, absl::string_view labels,
                  absl::string_view extra, absl::string_view value,
                  std::string* out) {
  out->append(name.data(), name.size());
  if (!labels.empty() || !extra.empty()) {
    out->push_back('{');
    out->append(labels.data(), labels.size());
    if (!labels.empty() && !extra.empty()) out->push_back(',');
    out->append(extra.data(), extra.size());
    out->push_back('}');
  }
  out->push_back(' ');
  out->append(value.data(), value.size());
  out->push_back('\n');
}

void AppendSeries(absl::string_view name, absl::string_view labels,
                  const Counter& counter, const std::vector<std::string>&,
                  std::string* out) {
  // Whole counts print exactly even past 2^53.
  const std::string value = counter.FractionalValue() == 0.0
                                ? FormatValue(counter.WholeValue())
                                : FormatValue(counter.Value());
  AppendSample(name, labels, "", value, out);
}

void AppendSeries(absl::string_view name, absl::string_view labels,
                  const Gauge& gauge, const std::vector<std::string>&,
                  std::string* out) {
  AppendSample(name, labels, "", FormatValue(gauge.Value()), out);
}

void AppendSeries(absl::string_view name, absl::string_view labels,
                  const Histogram& histogram,
                  const std::vector<std::string>& le, std::string* out) {
  const Histogram::Snapshot snapshot = histogram.Collect();
  const std::string bucket = absl::StrCat(name, "_bucket");
  for (std::size_t i = 0; i < le.size(); ++i) {
    AppendSample(bucket, labels, le[i], FormatValue(snapshot.cumulative[i]),
                 out);
  }
  AppendSample(absl::StrCat(name, "_sum"), labels, "",
               FormatValue(snapshot.sum), out);
  AppendSample(absl::StrCat(name, "_count"), labels, "",
               FormatValue(snapshot.count), out);
}

std::vector<std::string> RenderLe(const std::vector<double>& bounds,
                                  bool is_histogram) {
  std::vector<std::string> le;
  if (!is_histogram) return le;
  for (double bound : bounds) {
    le.push_back(absl::StrCat("le=\"", FormatValue(bound), "\""));
  }
  le.push_back("le=\"+Inf\"");
  return le;
}

[[noreturn]] void Die(absl::string_view message, absl::string_view name) {
  log::Error(message, {{"metric", name}});
  std::abort();
}

template <typename T>
T& OrDie(absl::StatusOr<T*> family, absl::string_view name) {
  if (!family.ok()) Die(family.status().message(), name);
  return **family;
}

}  // namespace

template <typename T>
Family<T>::Family(std::string name, std::string help,
                  std::vector<std::string> label_names,
                  std::vector<double> bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      bounds_(std::move(bounds)),
      le_(RenderLe(bounds_, std::is_same_v<T, Histogram>)) {}

template <typename T>
std::unique_ptr<T> Family<T>::NewMetric() const {
  if constexpr (std::is_same_v<T, Histogram>) {
    return std::make_unique<Histogram>(bounds_);
  } else {
    return std::make_unique<T>();
  }
}

template <typename T>
T& Family<T>::WithLabels(absl::Span<const absl::string_view> label_values) {
  if (label_values.size() != label_names_.size()) {
    Die(absl::StrCat("metrics: WithLabels got ", label_values.size(),
                     " label values, the family declares ",
                     label_names_.size()),
        name_);
  }
  absl::MutexLock lock(&mu_);
  auto it = series_.find(label_values);
  if (it != series_.end()) return *it->second.metric;
  if (series_.size() >= kMaxSeriesPerFamily) {
    if (overflow_ == nullptr) {
      log::Warning(
          "metrics: series limit reached, updates to new label values are "
          "dropped; a label is probably not from a small closed set",
          {{"metric", name_}});
      overflow_ = NewMetric();
    }
    return *overflow_;
  }
  Series series;
  for (std::size_t i = 0; i < label_values.size(); ++i) {
    if (i > 0) series.labels.push_back(',');
    absl::StrAppend(&series.labels, label_names_[i], "=\"",
                    EscapeLabelValue(label_values[i]), "\"");
  }
  series.metric = NewMetric();
  T& metric = *series.metric;
  series_.emplace(
      std::vector<std::string>(label_values.begin(), label_values.end()),
      std::move(series));
  return metric;
}

template <typename T>
std::size_t Family<T>::size() const {
  absl::MutexLock lock(&mu_);
  return series_.size();
}

template <typename T>
void Family<T>::Render(std::string* out) const {
  absl::MutexLock lock(&mu_);
  if (series_.empty()) return;
  // No blank after the name when there is no help text.
  absl::StrAppend(out, "# HELP ", name_, help_.empty() ? "" : " ",
                  EscapeHelp(help_), "\n", "# TYPE ", name_, " ", TypeName<T>(),
                  "\n");
  for (const auto& [values, series] : series_) {
    AppendSeries(name_, series.labels, *series.metric, le_, out);
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

Registry::~Registry() = default;

template <typename T>
absl::StatusOr<Family<T>*> Registry::Add(absl::string_view name,
                                         absl::string_view help,
                                         std::vector<std::string> label_names,
                                         std::vector<double> buckets) {
  constexpr bool kHistogram = std::is_same_v<T, Histogram>;
  if (absl::Status status = ValidateMetricName(name); !status.ok()) {
    return status;
  }
  for (std::size_t i = 0; i < label_names.size(); ++i) {
    if (absl::Status status = ValidateLabelName(label_names[i]); !status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("metric ", name, ": ", status.message()));
    }
    if (kHistogram && label_names[i] == "le") {
      return absl::InvalidArgumentError(absl::StrCat(
          "metric ", name, ": a histogram may not declare the label \"le\""));
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (label_names[j] == label_names[i]) {
        return absl::InvalidArgumentError(absl::StrCat(
            "metric ", name, ": label \"", label_names[i], "\" repeats"));
      }
    }
  }
  if constexpr (kHistogram) {
    for (std::size_t i = 0; i < buckets.size(); ++i) {
      if (!std::isfinite(buckets[i])) {
        return absl::InvalidArgumentError(
            absl::StrCat("histogram ", name,
                         ": bucket bounds must be finite (+Inf is implicit)"));
      }
      if (i > 0 && !(buckets[i - 1] < buckets[i])) {
        return absl::InvalidArgumentError(absl::StrCat(
            "histogram ", name, ": bucket bounds must strictly increase"));
      }
    }
  } else {
    buckets.clear();
  }

  std::vector<std::string> names = {std::string(name)};
  if (kHistogram) {
    for (absl::string_view suffix : {"_bucket", "_sum", "_count"}) {
      names.push_back(absl::StrCat(name, suffix));
    }
  }
  absl::MutexLock lock(&mu_);
  for (const std::string& taken : names) {
    if (names_.contains(taken)) {
      return absl::AlreadyExistsError(absl::StrCat(
          "metric ", name, ": the name ", taken, " is already registered"));
    }
  }
  names_.insert(names.begin(), names.end());
  auto family = std::unique_ptr<Family<T>>(
      new Family<T>(std::string(name), std::string(help),
                    std::move(label_names), std::move(buckets)));
  Family<T>* result = family.get();
  families_.emplace(std::string(name), std::move(family));
  // A family without labels has exactly one series: export it from the
  // start, at zero, as Prometheus clients conventionally do.
  if (result->label_names().empty()) result->Get();
  return result;
}

absl::StatusOr<Family<Counter>*> Registry::TryAddCounter(
    absl::string_view name, absl::string_view help,
    std::vector<std::string> label_names) {
  return Add<Counter>(name, help, std::move(label_names), {});
}

absl::StatusOr<Family<Gauge>*> Registry::TryAddGauge(
    absl::string_view name, absl::string_view help,
    std::vector<std::string> label_names) {
  return Add<Gauge>(name, help, std::move(label_names), {});
}

absl::StatusOr<Family<Histogram>*> Registry::TryAddHistogram(
    absl::string_view name, absl::string_view help,
    std::vector<std::string> label_names, std::vector<double> buckets) {
  return Add<Histogram>(name, help, std::move(label_names), std::move(buckets));
}

Family<Counter>& Registry::AddCounter(absl::string_view name,
                                      absl::string_view help,
                                      std::vector<std::string> label_names) {
  return OrDie(TryAddCounter(name, help, std::move(label_names)), name);
}

Family<Gauge>& Registry::AddGauge(absl::string_view name,
                                  absl::string_view help,
                                  std::vector<std::string> label_names) {
  return OrDie(TryAddGauge(name, help, std::move(label_names)), name);
}

Family<Histogram>& Registry::AddHistogram(absl::string_view name,
                                          absl::string_view help,
                                          std::vector<std::string> label_names,
                                          std::vector<double> buckets) {
  return OrDie(
      TryAddHistogram(name, help, std::move(label_names), std::move(buckets)),
      name);
}

std::string Registry::Render() const {
  std::string out;
  absl::MutexLock lock(&mu_);
  for (const auto& [name, family] : families_) family->Render(&out);
  return out;
}

}  // namespace lienthong::metrics
