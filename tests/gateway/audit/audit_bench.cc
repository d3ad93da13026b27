// Benchmark of the audit log: appends per second with 1, 8 and 64
// concurrent appenders (each waits for its record to be durable, as a call
// does before its answer is released), the rate of unwaited appends, the
// fdatasync latency of the journal's disk, and the time to verify a journal
// of --records records (default 1,000,000).
//
//   audit_bench [--records=N] [--seconds=S] [--export] [--dir=DIR]
//
// --export also times exporting that journal to JSON lines and verifying
// the file offline. Runs in a scratch directory under $TMPDIR (or DIR),
// removed at exit.
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gateway/audit/audit_log.h"
#include "gateway/audit/journal.h"
#include "gateway/audit/query.h"
#include "gateway/audit/verify.h"
#include "tests/gateway/audit/test_util.h"

namespace lienthong::audit {
namespace {

using testutil::AppendMany;
using testutil::SampleRecord;
using testutil::ScratchDir;
using testutil::TestOptions;

struct Log {
  std::unique_ptr<AuditLog> log;
  testutil::FaultyIo* io = nullptr;  // Pass-through; counts writes.
  std::string journal_dir;
};

Log OpenLog(const ScratchDir& dir, const std::string& name) {
  static testutil::FaultyIo* const ios = new testutil::FaultyIo[8];
  static int next = 0;
  AuditLog::Options options = TestOptions(dir);
  options.path = dir.File(name + ".db");
  options.journal_dir = dir.File(name + "-journal");
  options.anchor_file = dir.File(name + "-anchors.jsonl");
  options.segment_bytes = 64ull << 20;  // the gateway's default
  options.index_interval = absl::Seconds(1);
  Log out;
  out.io = &ios[next++ % 8];
  options.io = out.io;
  auto log = AuditLog::Open(options);
  if (!log.ok()) {
    std::fprintf(stderr, "%s\n", log.status().ToString().c_str());
    std::exit(1);
  }
  out.log = *std::move(log);
  out.journal_dir = options.journal_dir;
  return out;
}

// User + system CPU of this process so far.
double ProcessCpuSeconds() {
  rusage usage;
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

void Die(const absl::Status& status) {
  if (status.ok()) return;
  std::fprintf(stderr, "%s\n", status.ToString().c_str());
  std::exit(1);
}

// Each of `appenders` threads appends and waits, over and over, for
// `duration`.
void WaitedAppends(const ScratchDir& dir, int appenders,
                   absl::Duration duration) {
  Log log = OpenLog(dir, absl::StrFormat("waited-%d", appenders));
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> done{0};
  std::vector<std::thread> threads;
  const absl::Time start = absl::Now();
  for (int t = 0; t < appenders; ++t) {
    threads.emplace_back([&, t] {
      for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        Die(log.log
                ->AppendSync(
                    SampleRecord(t * 1000000 + i, log.log->citizen_key()))
                .status());
        done.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  absl::SleepFor(duration);
  stop = true;
  for (std::thread& thread : threads) thread.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const int writes = log.io->writes();
  std::printf(
      "%3d appender(s), each waiting until durable: %9.0f appends/s "
      "(%llu in %.1f s, %d writes, %.1f records per fdatasync)\n",
      appenders, done.load() / seconds,
      static_cast<unsigned long long>(done.load()), seconds, writes,
      writes > 0 ? static_cast<double>(done.load()) / writes : 0.0);
}

int Main(int argc, char** argv) {
  uint64_t records = 1000000;
  double seconds = 3;
  bool export_too = false;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (absl::ConsumePrefix(&arg, "--records=") &&
        absl::SimpleAtoi(arg, &records)) {
      continue;
    }
    if (absl::ConsumePrefix(&arg, "--seconds=") &&
        absl::SimpleAtod(arg, &seconds)) {
      continue;
    }
    if (absl::ConsumePrefix(&arg, "--dir=")) {
      setenv("TEST_TMPDIR", std::string(arg).c_str(), 1);
      continue;
    }
    if (arg == "--export") {
      export_too = true;
      continue;
    }
    std::fprintf(stderr,
                 "usage: %s [--records=N] [--seconds=S] [--export] "
                 "[--dir=DIR]\n",
                 argv[0]);
    return 2;
  }
  ScratchDir dir;
  std::printf(
      "audit log benchmark in %s (journal: preallocated segments, one write "
      "and one fdatasync per group commit)\n",
      dir.path().c_str());
  for (int appenders : {1, 8, 64}) {
    WaitedAppends(dir, appenders, absl::Seconds(seconds));
  }

  // The journal to verify, filled without waiting for each record; then
  // indexed in full (as queries need), its CPU counted apart.
  Log log = OpenLog(dir, "big");
  absl::Time start = absl::Now();
  double cpu = ProcessCpuSeconds();
  Die(AppendMany(*log.log, 1, records));
  absl::Duration elapsed = absl::Now() - start;
  const double append_cpu = ProcessCpuSeconds() - cpu;
  std::printf(
      "unwaited appends (one producer, group commit of up to %d): %.0f "
      "appends/s (%llu in %.1f s, %d writes), %.1f us of CPU per record "
      "(process, producer and indexer included)\n",
      AuditLog::Options().max_batch, records / absl::ToDoubleSeconds(elapsed),
      static_cast<unsigned long long>(records), absl::ToDoubleSeconds(elapsed),
      log.io->writes(), append_cpu * 1e6 / records);
  cpu = ProcessCpuSeconds();
  const uint64_t indexed = log.log->stats().indexed_sequence;
  while (log.log->stats().indexed_sequence < log.log->durable_sequence()) {
    absl::SleepFor(absl::Milliseconds(50));  // the indexer's own pace
  }
  std::printf("then the background indexer's rest (%llu records): %.1f us of "
              "CPU per record\n",
              static_cast<unsigned long long>(log.log->durable_sequence() -
                                              indexed),
              (ProcessCpuSeconds() - cpu) * 1e6 /
                  std::max<uint64_t>(1, log.log->durable_sequence() - indexed));
  Die(log.log->Close());
  const PublicKey key = log.log->public_key();
  log.log.reset();

  uint64_t bytes = 0;
  if (auto segments = ListSegments(log.journal_dir); segments.ok()) {
    for (const auto& s : *segments) {
      struct stat st;
      if (::stat(s.path.c_str(), &st) == 0) bytes += st.st_size;
    }
  }
  VerifyOptions verify;
  verify.key = &key;
  start = absl::Now();
  auto report = VerifyJournal(log.journal_dir, verify);
  elapsed = absl::Now() - start;
  Die(report.status());
  std::printf(
      "verify %llu records, %llu checkpoints (journal %.0f MB): %s, %.2f s "
      "(%.2f us per record)\n",
      static_cast<unsigned long long>(report->records_checked()),
      static_cast<unsigned long long>(report->checkpoints_checked()),
      bytes / 1e6, report->intact() ? "intact" : "NOT INTACT",
      absl::ToDoubleSeconds(elapsed),
      absl::ToDoubleMicroseconds(elapsed) / report->records_checked());

  if (export_too) {
    const std::string path = dir.File("big.jsonl");
    start = absl::Now();
    Die(ExportToFile(log.journal_dir, absl::InfinitePast(), path));
    elapsed = absl::Now() - start;
    struct stat st;
    ::stat(path.c_str(), &st);
    std::printf("export to JSON lines (%.0f MB): %.2f s\n", st.st_size / 1e6,
                absl::ToDoubleSeconds(elapsed));
    start = absl::Now();
    auto file_report = VerifyExportFile(path, verify);
    elapsed = absl::Now() - start;
    Die(file_report.status());
    std::printf("verify the export offline: %s, %.2f s\n",
                file_report->intact() ? "intact" : "NOT INTACT",
                absl::ToDoubleSeconds(elapsed));
  }
  return report->intact() ? 0 : 1;
}

}  // namespace
}  // namespace lienthong::audit

int main(int argc, char** argv) { return lienthong::audit::Main(argc, argv); }
