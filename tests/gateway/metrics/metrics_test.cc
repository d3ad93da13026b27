#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gateway/metrics/exposition.h"
#include "gateway/metrics/metric.h"
#include "gateway/metrics/registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/metrics/prometheus_parser.h"
#include "tests/testing/scratch_dir.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::metrics {
namespace {

using ::lienthong::metrics::testing::FindSample;
using ::lienthong::metrics::testing::Labels;
using ::lienthong::metrics::testing::ParsedFamily;
using ::lienthong::metrics::testing::ParsePrometheusText;
using ::lienthong::testing::IsOk;
using ::lienthong::testing::ScratchDir;
using ::lienthong::testing::StatusIs;
using ::testing::_;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n');
}

TEST(RenderTest, CountersGaugesAndHistogramsLineByLine) {
  Registry registry;
  Family<Counter>& calls = registry.AddCounter(
      "lienthong_calls_total", "Calls by method and code.", {"method", "code"});
  calls.WithLabels({"Verify", "OK"}).Increment(3);
  calls.WithLabels({"Lookup", "UNAVAILABLE"}).Increment();
  registry.AddGauge("lienthong_calls_in_flight", "Calls in flight.", {"system"})
      .WithLabels({"vneid"})
      .Set(2);
  registry.AddGauge("lienthong_up", "Always 1.").Get().Set(1);
  Histogram& latency = registry
                           .AddHistogram("lienthong_call_duration_seconds",
                                         "Latency.", {"method"}, {0.125, 1, 8})
                           .WithLabels({"Verify"});
  // Powers of two keep the sum exact. 0.125 sits on a bound: le is <=.
  for (double v : {0.0625, 0.125, 0.5, 4.0, 64.0}) latency.Observe(v);

  EXPECT_THAT(
      Lines(registry.Render()),
      ElementsAreArray({
          "# HELP lienthong_call_duration_seconds Latency.",
          "# TYPE lienthong_call_duration_seconds histogram",
          R"(lienthong_call_duration_seconds_bucket{method="Verify",le="0.125"} 2)",
          R"(lienthong_call_duration_seconds_bucket{method="Verify",le="1"} 3)",
          R"(lienthong_call_duration_seconds_bucket{method="Verify",le="8"} 4)",
          R"(lienthong_call_duration_seconds_bucket{method="Verify",le="+Inf"} 5)",
          R"(lienthong_call_duration_seconds_sum{method="Verify"} 68.6875)",
          R"(lienthong_call_duration_seconds_count{method="Verify"} 5)",
          "# HELP lienthong_calls_in_flight Calls in flight.",
          "# TYPE lienthong_calls_in_flight gauge",
          R"(lienthong_calls_in_flight{system="vneid"} 2)",
          "# HELP lienthong_calls_total Calls by method and code.",
          "# TYPE lienthong_calls_total counter",
          R"(lienthong_calls_total{method="Lookup",code="UNAVAILABLE"} 1)",
          R"(lienthong_calls_total{method="Verify",code="OK"} 3)",
          "# HELP lienthong_up Always 1.",
          "# TYPE lienthong_up gauge",
          "lienthong_up 1",
          "",  // the text ends with a newline
      }));
}

TEST(RenderTest, LabelsKeepDeclaredOrderNotAlphabetical) {
  Registry registry;
  registry.AddCounter("x_total", "x", {"zeta", "alpha"})
      .WithLabels({"1", "2"})
      .Increment();
  EXPECT_THAT(Lines(registry.Render()),
              ElementsAre("# HELP x_total x", "# TYPE x_total counter",
                          R"(x_total{zeta="1",alpha="2"} 1)", ""));
}

TEST(RenderTest, UnlabelledFamiliesStartAtZeroLabelledOnesAppearWhenUsed) {
  Registry registry;
  registry.AddCounter("a_total", "a");
  registry.AddHistogram("b_seconds", "b", {}, {1});
  Family<Gauge>& unused = registry.AddGauge("c", "c", {"system"});
  EXPECT_THAT(
      Lines(registry.Render()),
      ElementsAre("# HELP a_total a", "# TYPE a_total counter", "a_total 0",
                  "# HELP b_seconds b", "# TYPE b_seconds histogram",
                  R"(b_seconds_bucket{le="1"} 0)",
                  R"(b_seconds_bucket{le="+Inf"} 0)", "b_seconds_sum 0",
                  "b_seconds_count 0", ""));
  unused.WithLabels({"vneid"});
  EXPECT_THAT(registry.Render(), HasSubstr("c{system=\"vneid\"} 0\n"));
}

TEST(RenderTest, EscapesHelpAndLabelValues) {
  Registry registry;
  registry
      .AddCounter("x_total", "Path C:\\gateway\nsecond \"line\"", {"client"})
      .WithLabels({"a\\b \"quoted\"\nnext"})
      .Increment();
  EXPECT_THAT(Lines(registry.Render()),
              ElementsAre(R"(# HELP x_total Path C:\\gateway\nsecond "line")",
                          "# TYPE x_total counter",
                          R"(x_total{client="a\\b \"quoted\"\nnext"} 1)", ""));
}

TEST(RenderTest, LabelValuesMayBeUtf8) {
  Registry registry;
  registry.AddCounter("x_total", "Thủ tục hành chính", {"system"})
      .WithLabels({"Cổng dịch vụ công"})
      .Increment();
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("# HELP x_total Thủ tục hành chính\n"));
  EXPECT_THAT(text, HasSubstr("x_total{system=\"Cổng dịch vụ công\"} 1\n"));
  EXPECT_THAT(ParsePrometheusText(text), IsOk());
}

TEST(CounterTest, WholeAndFractionalIncrements) {
  Registry registry;
  Counter& counter = registry.AddCounter("x_total", "x").Get();
  counter.Increment(3);
  EXPECT_THAT(registry.Render(), HasSubstr("\nx_total 3\n"));
  counter.IncrementBy(0.25);
  counter.IncrementBy(-5);  // ignored: counters never go down
  counter.IncrementBy(std::numeric_limits<double>::quiet_NaN());
  counter.IncrementBy(std::numeric_limits<double>::infinity());
  EXPECT_EQ(counter.Value(), 3.25);
  EXPECT_THAT(registry.Render(), HasSubstr("\nx_total 3.25\n"));
}

TEST(CounterTest, WholeCountsStayExactPastTwoToThe53) {
  Registry registry;
  Counter& counter = registry.AddCounter("x_total", "x").Get();
  counter.Increment((std::uint64_t{1} << 60) + 1);
  EXPECT_THAT(registry.Render(), HasSubstr("\nx_total 1152921504606846977\n"));
}

TEST(GaugeTest, SetIncrementDecrement) {
  Registry registry;
  Gauge& gauge = registry.AddGauge("x", "x").Get();
  gauge.Set(10);
  gauge.Increment();
  gauge.Increment(2.5);
  gauge.Decrement(4);
  EXPECT_EQ(gauge.Value(), 9.5);
  gauge.Decrement(20);
  EXPECT_THAT(registry.Render(), HasSubstr("\nx -10.5\n"));
}

TEST(GaugeTest, CallbackIsEvaluatedAtScrapeTimeAndCanBeCleared) {
  Registry registry;
  Family<Gauge>& expiry = registry.AddGauge("lienthong_certificate_expiry_days",
                                            "Days left.", {"certificate"});
  Gauge& server = expiry.WithLabels({"server"});
  server.Set(-1);
  double days = 30;
  server.SetCallback([&days] { return days; });
  EXPECT_THAT(registry.Render(), HasSubstr("{certificate=\"server\"} 30\n"));
  days = 29.5;
  EXPECT_THAT(registry.Render(), HasSubstr("{certificate=\"server\"} 29.5\n"));
  server.SetCallback(nullptr);
  EXPECT_THAT(registry.Render(), HasSubstr("{certificate=\"server\"} -1\n"));
}

TEST(HistogramTest, BucketsAreCumulativeAndBoundsInclusive) {
  std::vector<double> bounds = {1, 2, 4};
  Histogram histogram(bounds);
  for (double v : {0.5, 1.0, 1.0, 1.5, 3.0, 4.0, 4.5, 100.0}) {
    histogram.Observe(v);
  }
  histogram.Observe(std::numeric_limits<double>::quiet_NaN());  // ignored
  const Histogram::Snapshot snapshot = histogram.Collect();
  EXPECT_THAT(snapshot.cumulative, ElementsAre(3, 4, 6, 8));
  EXPECT_EQ(snapshot.count, 8u);
  EXPECT_EQ(snapshot.sum, 115.5);
}

TEST(HistogramTest, DefaultLatencyBucketsRunFromHalfAMillisecondTo30Seconds) {
  const std::vector<double> buckets = DefaultLatencyBuckets();
  ASSERT_FALSE(buckets.empty());
  EXPECT_EQ(buckets.front(), 0.0005);
  EXPECT_EQ(buckets.back(), 30.0);
  EXPECT_TRUE(std::is_sorted(buckets.begin(), buckets.end()));
  Registry registry;
  registry.AddHistogram("x_seconds", "x");
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("x_seconds_bucket{le=\"0.0005\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("x_seconds_bucket{le=\"0.0025\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("x_seconds_bucket{le=\"30\"} 0\n"));
}

TEST(FormatValueTest, Table) {
  struct Case {
    double value;
    const char* text;
  };
  const Case kCases[] = {
      {0, "0"},
      {-0.0, "0"},
      {42, "42"},
      {-7, "-7"},
      {0.0005, "0.0005"},
      {2.5, "2.5"},
      {0.1, "0.1"},
      {1.5e-7, "1.5e-07"},
      {1e21, "1e+21"},
      {9007199254740991.0, "9007199254740991"},
      {std::numeric_limits<double>::quiet_NaN(), "NaN"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
  };
  for (const Case& c : kCases) {
    EXPECT_EQ(FormatValue(c.value), c.text) << c.value;
  }
  // Whatever the notation, the text reads back as the same double.
  for (double v : {1.0 / 3, 123456789012345678.0, 6.02214076e23, 1e-300,
                   -2.2250738585072014e-308}) {
    EXPECT_EQ(std::strtod(FormatValue(v).c_str(), nullptr), v) << v;
  }
}

TEST(SeriesTest, ReferencesAreStableAndShared) {
  Registry registry;
  Family<Counter>& family = registry.AddCounter("x_total", "x", {"a"});
  Counter& first = family.WithLabels({"1"});
  for (int i = 0; i < 100; ++i) family.WithLabels({absl::StrCat(i)});
  EXPECT_EQ(&family.WithLabels({"1"}), &first);
  std::string one = "1";
  EXPECT_EQ(&family.WithLabels({one}), &first);
  EXPECT_EQ(family.size(), 100u);
}

TEST(SeriesTest, CardinalityIsCapped) {
  Registry registry;
  Family<Counter>& family = registry.AddCounter("x_total", "x", {"id"});
  for (std::size_t i = 0; i < kMaxSeriesPerFamily; ++i) {
    family.WithLabels({absl::StrCat(i)}).Increment();
  }
  Counter& overflow = family.WithLabels({"one too many"});
  overflow.Increment();
  EXPECT_EQ(&family.WithLabels({"another"}), &overflow);
  EXPECT_EQ(family.size(), kMaxSeriesPerFamily);
  const std::string text = registry.Render();
  EXPECT_THAT(text, Not(HasSubstr("one too many")));
  EXPECT_THAT(ParsePrometheusText(text), IsOk());
}

TEST(ConcurrencyTest, EightThreadsSumCorrectly) {
  Registry registry;
  Family<Counter>& calls = registry.AddCounter("x_total", "x", {"code"});
  Gauge& in_flight = registry.AddGauge("y", "y").Get();
  Family<Histogram>& latency =
      registry.AddHistogram("z_seconds", "z", {}, {0.5, 1});
  constexpr int kThreads = 8;
  constexpr int kPerThread = 100000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      // One thread caches the series, the others look it up each time.
      Counter& ok = calls.WithLabels({"OK"});
      for (int i = 0; i < kPerThread; ++i) {
        ok.Increment();
        calls.WithLabels({"UNAVAILABLE"}).IncrementBy(0.5);
        in_flight.Increment();
        latency.Get().Observe(i % 2 == 0 ? 0.25 : 2.0);
        in_flight.Decrement();
      }
    });
  }
  // Scrapes while the counts move must always parse.
  for (int i = 0; i < 20; ++i) {
    ASSERT_THAT(ParsePrometheusText(registry.Render()), IsOk());
  }
  for (std::thread& thread : threads) thread.join();

  constexpr std::uint64_t kTotal = std::uint64_t{kThreads} * kPerThread;
  EXPECT_EQ(calls.WithLabels({"OK"}).WholeValue(), kTotal);
  EXPECT_EQ(calls.WithLabels({"UNAVAILABLE"}).Value(), kTotal * 0.5);
  EXPECT_EQ(in_flight.Value(), 0);
  const Histogram::Snapshot snapshot = latency.Get().Collect();
  EXPECT_THAT(snapshot.cumulative, ElementsAre(kTotal / 2, kTotal / 2, kTotal));
  EXPECT_EQ(snapshot.sum, kTotal / 2 * 0.25 + kTotal / 2 * 2.0);
}

TEST(RegistrationTest, InvalidNamesAreRejected) {
  const char* const kBadMetricNames[] = {"",    "1abc", "a-b",  "a b",
                                         "a.b", "é",    "x{y}", "a\nb"};
  for (const char* name : kBadMetricNames) {
    Registry registry;
    EXPECT_THAT(registry.TryAddCounter(name, "x"),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("invalid metric name")))
        << name;
  }
  const char* const kBadLabelNames[] = {"",    "1a",       "a:b",
                                        "a-b", "__name__", "__x"};
  for (const char* label : kBadLabelNames) {
    Registry registry;
    EXPECT_THAT(registry.TryAddGauge("x", "x", {"ok", label}),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("invalid label name")))
        << label;
  }
  Registry registry;
  EXPECT_THAT(registry.TryAddCounter("ns:sub_total", "colons are fine", {"_a"}),
              IsOk());
  EXPECT_THAT(
      registry.TryAddCounter("y_total", "x", {"a", "b", "a"}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"a\" repeats")));
  EXPECT_THAT(registry.TryAddHistogram("h", "x", {"le"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("le")));
  EXPECT_THAT(registry.TryAddGauge("g", "gauges may use le", {"le"}), IsOk());
}

TEST(RegistrationTest, BadBucketsAreRejected) {
  const std::vector<double> kBad[] = {
      {1, 1},
      {2, 1},
      {1, std::numeric_limits<double>::infinity()},
      {std::numeric_limits<double>::quiet_NaN()},
  };
  for (const std::vector<double>& buckets : kBad) {
    Registry registry;
    EXPECT_THAT(
        registry.TryAddHistogram("h", "x", {}, buckets),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bucket")));
  }
  Registry registry;
  EXPECT_THAT(registry.TryAddHistogram("only_inf", "x", {}, {}), IsOk());
  EXPECT_THAT(ParsePrometheusText(registry.Render()), IsOk());
}

TEST(RegistrationTest, DuplicatesAndCollisionsAreRejected) {
  Registry registry;
  ASSERT_THAT(registry.TryAddCounter("x_total", "x"), IsOk());
  EXPECT_THAT(registry.TryAddCounter("x_total", "again"),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("x_total")));
  EXPECT_THAT(registry.TryAddGauge("x_total", "as a gauge"),
              StatusIs(absl::StatusCode::kAlreadyExists, _));
  ASSERT_THAT(registry.TryAddHistogram("h_seconds", "x"), IsOk());
  EXPECT_THAT(
      registry.TryAddGauge("h_seconds_count", "x"),
      StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("h_seconds_count")));
  ASSERT_THAT(registry.TryAddCounter("k_sum", "x"), IsOk());
  EXPECT_THAT(registry.TryAddHistogram("k", "x"),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("k_sum")));
  // The failed histogram reserved nothing.
  EXPECT_THAT(registry.TryAddGauge("k_bucket", "x"), IsOk());
}

using RegistryDeathTest = ::testing::Test;

TEST_F(RegistryDeathTest, AddAbortsOnProgrammingErrors) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Registry registry;
  registry.AddCounter("x_total", "x", {"a", "b"});
  EXPECT_DEATH(registry.AddCounter("x_total", "x"), "already registered");
  EXPECT_DEATH(registry.AddGauge("bad-name", "x"), "invalid metric name");
  Family<Counter>& family = registry.AddCounter("y_total", "y", {"a", "b"});
  EXPECT_DEATH(family.WithLabels({"only one"}), "declares 2");
}

// Builds a registry that uses every feature the parser must accept.
void Populate(Registry* registry) {
  Family<Counter>& calls = registry->AddCounter(
      "lienthong_calls_total", "Calls.\nBy method \\ code.",
      {"method", "client", "system", "code"});
  calls.WithLabels({"Verify", "ubnd-hy", "vneid", "OK"}).Increment(41);
  calls.WithLabels({"Lookup", "x\"y\\z\nw", "c06", "UNAVAILABLE"})
      .IncrementBy(2.5);
  registry->AddCounter("lienthong_token_refreshes_total", "Token refreshes.")
      .Get()
      .Increment(7);
  Family<Gauge>& breaker = registry->AddGauge(
      "lienthong_breaker_state", "0 closed 1 open 2 half.", {"system"});
  breaker.WithLabels({"vneid"}).Set(0);
  breaker.WithLabels({"c06"}).SetCallback([] { return 2.0; });
  registry->AddGauge("lienthong_weird_values", "Odd values.", {"kind"})
      .WithLabels({"nan"})
      .Set(std::numeric_limits<double>::quiet_NaN());
  registry->AddGauge("lienthong_weird_values_2", "", {"kind"})
      .WithLabels({"neg_inf"})
      .Set(-std::numeric_limits<double>::infinity());
  Family<Histogram>& latency = registry->AddHistogram(
      "lienthong_call_duration_seconds", "Call latency.", {"method", "system"});
  Histogram& verify = latency.WithLabels({"Verify", "vneid"});
  for (int i = 0; i < 1000; ++i) verify.Observe(i * 0.0017);
  latency.WithLabels({"Lookup", "c06"}).Observe(31);
  latency.WithLabels({"Sync", "portal"});  // no observations
}

TEST(ParseRenderedTest, RenderParsesStrictlyAndRoundTrips) {
  Registry registry;
  Populate(&registry);
  const std::string text = registry.Render();
  absl::StatusOr<std::vector<ParsedFamily>> parsed = ParsePrometheusText(text);
  ASSERT_THAT(parsed, IsOk()) << text;
  const std::vector<ParsedFamily>& families = *parsed;

  std::vector<std::string> names;
  for (const ParsedFamily& family : families) names.push_back(family.name);
  EXPECT_THAT(
      names,
      ElementsAre("lienthong_breaker_state", "lienthong_call_duration_seconds",
                  "lienthong_calls_total", "lienthong_token_refreshes_total",
                  "lienthong_weird_values", "lienthong_weird_values_2"));
  EXPECT_EQ(families[2].type, "counter");
  EXPECT_EQ(families[2].help, "Calls.\nBy method \\ code.");
  EXPECT_EQ(families[1].type, "histogram");
  EXPECT_EQ(families[0].type, "gauge");
  EXPECT_EQ(families[5].help, "");

  const auto value = [&](absl::string_view name, const Labels& labels) {
    const testing::ParsedSample* sample = FindSample(families, name, labels);
    EXPECT_NE(sample, nullptr) << name;
    return sample == nullptr ? -12345.0 : sample->value;
  };
  EXPECT_EQ(value("lienthong_calls_total", {{"method", "Verify"},
                                            {"client", "ubnd-hy"},
                                            {"system", "vneid"},
                                            {"code", "OK"}}),
            41);
  EXPECT_EQ(value("lienthong_calls_total", {{"method", "Lookup"},
                                            {"client", "x\"y\\z\nw"},
                                            {"system", "c06"},
                                            {"code", "UNAVAILABLE"}}),
            2.5);
  EXPECT_EQ(value("lienthong_token_refreshes_total", {}), 7);
  EXPECT_EQ(value("lienthong_breaker_state", {{"system", "c06"}}), 2);
  EXPECT_TRUE(std::isnan(value("lienthong_weird_values", {{"kind", "nan"}})));
  EXPECT_EQ(value("lienthong_weird_values_2", {{"kind", "neg_inf"}}),
            -std::numeric_limits<double>::infinity());

  // Histogram samples match the observations made.
  const Labels verify_labels = {{"method", "Verify"}, {"system", "vneid"}};
  const std::vector<double> bounds = DefaultLatencyBuckets();
  double expected_sum = 0;
  std::vector<std::uint64_t> expected(bounds.size() + 1, 0);
  for (int i = 0; i < 1000; ++i) {
    const double v = i * 0.0017;
    expected_sum += v;
    for (std::size_t b = 0; b <= bounds.size(); ++b) {
      if (b == bounds.size() || v <= bounds[b]) ++expected[b];
    }
  }
  for (std::size_t b = 0; b <= bounds.size(); ++b) {
    Labels labels = verify_labels;
    labels.emplace_back("le",
                        b == bounds.size() ? "+Inf" : FormatValue(bounds[b]));
    EXPECT_EQ(value("lienthong_call_duration_seconds_bucket", labels),
              static_cast<double>(expected[b]))
        << labels.back().second;
  }
  EXPECT_DOUBLE_EQ(value("lienthong_call_duration_seconds_sum", verify_labels),
                   expected_sum);
  EXPECT_EQ(value("lienthong_call_duration_seconds_count", verify_labels),
            1000);
  EXPECT_EQ(value("lienthong_call_duration_seconds_bucket",
                  {{"method", "Lookup"}, {"system", "c06"}, {"le", "30"}}),
            0);
  EXPECT_EQ(value("lienthong_call_duration_seconds_count",
                  {{"method", "Sync"}, {"system", "portal"}}),
            0);
}

// The real parser, when the machine has it (Debian's prometheus package).
TEST(ParseRenderedTest, PromtoolAcceptsRender) {
  constexpr char kPromtool[] = "/usr/bin/promtool";
  if (access(kPromtool, X_OK) != 0) {
    GTEST_SKIP() << kPromtool << " is not installed";
  }
  Registry registry;
  Populate(&registry);
  // Removed with its content afterwards (TEST_TMPDIR is checked for
  // leftovers).
  const ScratchDir dir("promtool");
  const std::string input = dir.File("lienthong_metrics.prom");
  const std::string output = dir.File("lienthong_promtool.out");
  {
    std::ofstream file(input, std::ios::binary);
    file << registry.Render();
    ASSERT_TRUE(file.good());
  }
  const int rc = std::system(absl::StrCat(kPromtool, " check metrics < ", input,
                                          " > ", output, " 2>&1")
                                 .c_str());
  std::ifstream result(output);
  const std::string report((std::istreambuf_iterator<char>(result)),
                           std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0) << report;
}

// The parser must be strict, or the tests above prove nothing.
TEST(StrictParserTest, RejectsMalformedText) {
  struct Case {
    const char* name;
    const char* text;
  };
  const Case kCases[] = {
      {"no final newline", "x 1"},
      {"no value", "x\n"},
      {"two spaces", "x  1\n"},
      {"trailing blank", "x 1 \n"},
      {"leading blank", " x 1\n"},
      {"tab", "x\t1\n"},
      {"carriage return", "x 1\r\n"},
      {"bad value", "x one\n"},
      {"lower-case inf", "x inf\n"},
      {"hex value", "x 0x10\n"},
      {"bad exponent", "x 1e\n"},
      {"bad timestamp", "x 1 12.5\n"},
      {"extra field", "x 1 2 3\n"},
      {"bad metric name", "1x 1\n"},
      {"dash in name", "x-y 1\n"},
      {"unterminated labels", "x{a=\"1\" 1\n"},
      {"unquoted value", "x{a=1} 1\n"},
      {"space in labels", "x{a=\"1\", b=\"2\"} 1\n"},
      {"bad label name", "x{1a=\"1\"} 1\n"},
      {"colon in label name", "x{a:b=\"1\"} 1\n"},
      {"reserved label name", "x{__name__=\"x\"} 1\n"},
      {"repeated label", "x{a=\"1\",a=\"2\"} 1\n"},
      {"bad escape", "x{a=\"\\t\"} 1\n"},
      {"unterminated value", "x{a=\"1} 1\n"},
      {"bad help escape", "# HELP x a \\\" b\n"},
      {"unknown type", "# TYPE x timer\n"},
      {"type with extra", "# TYPE x counter gauge\n"},
      {"second type", "# TYPE x counter\n# TYPE x counter\n"},
      {"second help", "# HELP x a\n# HELP x b\n"},
      {"type after samples", "x 1\n# TYPE x gauge\n"},
      {"duplicate series", "x{a=\"1\"} 1\nx{a=\"1\"} 2\n"},
      {"split group", "x 1\ny 1\nx{a=\"2\"} 1\n"},
      {"negative counter", "# TYPE x_total counter\nx_total -1\n"},
      {"bare histogram sample", "# TYPE h histogram\nh 1\n"},
      {"histogram without +Inf",
       "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n"},
      {"histogram not cumulative",
       "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"
       "h_sum 1\nh_count 1\n"},
      {"histogram le out of order",
       "# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\n"
       "h_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"},
      {"histogram count differs",
       "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n"},
      {"histogram bad le",
       "# TYPE h histogram\nh_bucket{le=\"x\"} 2\nh_sum 1\nh_count 2\n"},
      {"histogram le on sum",
       "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum{le=\"1\"} 1\n"
       "h_count 2\n"},
      {"histogram missing count",
       "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\n"},
      {"histogram sample outside its group",
       "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"
       "y 1\nh_count{a=\"b\"} 1\n"},
  };
  for (const Case& c : kCases) {
    EXPECT_THAT(ParsePrometheusText(c.text),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("line")))
        << c.name;
  }
}

TEST(StrictParserTest, AcceptsWellFormedText) {
  const char* const kGood[] = {
      "",
      "x 1\n",
      "x{} 1\n",
      "x{a=\"1\",} 1\n",
      "x 1 1700000000000\n",
      "x -1.5e-3\n",
      "x +Inf\n",
      "x NaN\n",
      "ns:x 1\n",
      "# a comment\nx 1\n\n",
      "# HELP x\n# TYPE x gauge\nx 1\n",
      "# TYPE x gauge\n# HELP x Two\\nlines \\\\ here\nx 1\n",
      "# TYPE h histogram\nh_bucket{a=\"1\",le=\"0.5\"} 1\n"
      "h_bucket{a=\"1\",le=\"+Inf\"} 1\nh_sum{a=\"1\"} 0.25\n"
      "h_count{a=\"1\"} 1\n",
  };
  for (const char* text : kGood) {
    EXPECT_THAT(ParsePrometheusText(text), IsOk()) << text;
  }
  absl::StatusOr<std::vector<ParsedFamily>> parsed = ParsePrometheusText(
      "# HELP x A \\\\ b\\nc\n# TYPE x counter\nx{a=\"q\\\"\\\\\\n\"} 2 17\n");
  ASSERT_THAT(parsed, IsOk());
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_EQ((*parsed)[0].help, "A \\ b\nc");
  ASSERT_EQ((*parsed)[0].samples.size(), 1u);
  EXPECT_THAT(
      (*parsed)[0].samples[0].labels,
      ElementsAre(std::make_pair(std::string("a"), std::string("q\"\\\n"))));
  EXPECT_EQ((*parsed)[0].samples[0].timestamp_ms, 17);
  EXPECT_THAT(ParsePrometheusText("x 1\n")->front().samples, Not(IsEmpty()));
}

}  // namespace
}  // namespace lienthong::metrics
