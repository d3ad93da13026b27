// Benchmark of the audit log: appends per second with 1, 8 and 64
// concurrent appenders (each waits for its record to be durable, as a call
// does before its answer is released), the rate of unwaited appends, and the
// time to verify a store of --records records (default 1,000,000).
//
//   audit_bench [--records=N] [--seconds=S] [--export]
//
// --export also times exporting that store to JSON lines and verifying the
// file offline. Runs in a scratch directory under $TMPDIR, removed at exit.
#include <sys/stat.h>

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
#include "gateway/audit/query.h"
#include "gateway/audit/verify.h"
#include "tests/gateway/audit/test_util.h"

namespace lienthong::audit {
namespace {

using testutil::AppendMany;
using testutil::FaultyStore;
using testutil::SampleRecord;
using testutil::ScratchDir;
using testutil::TestOptions;

struct Log {
  std::unique_ptr<AuditLog> log;
  FaultyStore* store = nullptr;  // Pass-through; counts transactions.
};

Log OpenLog(const ScratchDir& dir, const std::string& name) {
  AuditLog::Options options = TestOptions(dir);
  options.path = dir.File(name);
  auto sqlite = SqliteAuditStore::Open(options.path);
  if (!sqlite.ok()) {
    std::fprintf(stderr, "%s\n", sqlite.status().ToString().c_str());
    std::exit(1);
  }
  auto faulty = std::make_unique<FaultyStore>(*std::move(sqlite));
  Log out;
  out.store = faulty.get();
  auto log = AuditLog::Open(options, std::move(faulty));
  if (!log.ok()) {
    std::fprintf(stderr, "%s\n", log.status().ToString().c_str());
    std::exit(1);
  }
  out.log = *std::move(log);
  return out;
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
  Log log = OpenLog(dir, absl::StrFormat("waited-%d.db", appenders));
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
  const int writes = log.store->writes();
  std::printf(
      "%3d appender(s), each waiting until durable: %9.0f appends/s "
      "(%llu in %.1f s, %d transactions, %.1f records per commit)\n",
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
    if (arg == "--export") {
      export_too = true;
      continue;
    }
    std::fprintf(stderr, "usage: %s [--records=N] [--seconds=S] [--export]\n",
                 argv[0]);
    return 2;
  }
  ScratchDir dir;
  std::printf("audit log benchmark in %s (SQLite WAL, synchronous=FULL)\n",
              dir.path().c_str());
  for (int appenders : {1, 8, 64}) {
    WaitedAppends(dir, appenders, absl::Seconds(seconds));
  }

  // The store to verify, filled without waiting for each record.
  Log log = OpenLog(dir, "big.db");
  absl::Time start = absl::Now();
  Die(AppendMany(*log.log, 1, records));
  absl::Duration elapsed = absl::Now() - start;
  std::printf(
      "unwaited appends (one producer, group commit of up to %d): %.0f "
      "appends/s (%llu in %.1f s, %d transactions)\n",
      AuditLog::Options().max_batch, records / absl::ToDoubleSeconds(elapsed),
      static_cast<unsigned long long>(records), absl::ToDoubleSeconds(elapsed),
      log.store->writes());
  Die(log.log->Close());
  const PublicKey key = log.log->public_key();
  log.log.reset();

  auto store = SqliteAuditStore::Open(dir.File("big.db"));
  Die(store.status());
  struct stat st;
  ::stat(dir.File("big.db").c_str(), &st);
  start = absl::Now();
  auto report = VerifyStore(**store, key);
  elapsed = absl::Now() - start;
  Die(report.status());
  std::printf(
      "verify %llu records, %llu checkpoints (store %.0f MB): %s, %.2f s "
      "(%.2f us per record)\n",
      static_cast<unsigned long long>(report->records_checked()),
      static_cast<unsigned long long>(report->checkpoints_checked()),
      st.st_size / 1e6, report->intact() ? "intact" : "NOT INTACT",
      absl::ToDoubleSeconds(elapsed),
      absl::ToDoubleMicroseconds(elapsed) / report->records_checked());

  if (export_too) {
    const std::string path = dir.File("big.jsonl");
    start = absl::Now();
    Die(ExportToFile(**store, absl::InfinitePast(), path));
    elapsed = absl::Now() - start;
    ::stat(path.c_str(), &st);
    std::printf("export to JSON lines (%.0f MB): %.2f s\n", st.st_size / 1e6,
                absl::ToDoubleSeconds(elapsed));
    start = absl::Now();
    auto file_report = VerifyExportFile(path, key);
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
