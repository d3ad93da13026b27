// Benchmark of the audit query index: how fast the indexer fills it from a
// journal of --records records (default 200,000), into the embedded SQLite
// file and into PostgreSQL (PgAuditIndex, shared by replicas) at
// --rows-per-statement rows per INSERT (default PgAuditIndex's, 250; 1
// shows the cost of one statement per record), and how long a citizen query
// takes on each.
//
//   audit_index_bench [--records=N] [--rows-per-statement=R,...] [--dir=DIR]
//
// PostgreSQL: the server of LIENTHONG_PG_DSN (a database
// audit_index_bench_<pid> is made there and dropped), or else a throwaway
// PostgreSQL 15 on loopback (tests/testing/pg_server.h). A program that
// prints figures, not a test.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gateway/audit/audit_log.h"
#include "gateway/audit/indexer.h"
#include "gateway/audit/pg/pg_audit_index.h"
#include "gateway/storage/pg/pg_pool.h"
#include "tests/gateway/audit/test_util.h"
#include "tests/testing/pg_server.h"

namespace lienthong::audit {
namespace {

using testutil::ScratchDir;

void Die(const absl::Status& status) {
  if (status.ok()) return;
  std::fprintf(stderr, "%s\n", status.ToString().c_str());
  std::exit(1);
}

std::shared_ptr<storage::pg::Pool> PoolFor(const std::string& dsn) {
  storage::pg::PoolOptions options;
  options.dsn = dsn;
  options.size = 2;
  options.statement_timeout = absl::Seconds(60);
  auto pool = storage::pg::Pool::Create(options);
  Die(pool.status());
  return std::shared_ptr<storage::pg::Pool>(*std::move(pool));
}

// Indexes the whole journal into `index` with a fresh Indexer; prints and
// returns the rate.
double TimeIndexing(const std::string& label, const Indexer::Options& options,
                    IndexStore& index, uint64_t records) {
  Die(index.Clear());
  Indexer indexer(options, &index, [] { return Indexer::Durable{}; });
  const absl::Time start = absl::Now();
  Die(indexer.RunOnce());
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf("%-46s %9.0f records/s (%llu in %.2f s)\n", label.c_str(),
              records / seconds, static_cast<unsigned long long>(records),
              seconds);
  return records / seconds;
}

void TimeQuery(const std::string& label, const AuditIndex& index,
               const CitizenKey& key) {
  QueryFilter filter;
  filter.citizen_hmac = key.Hmac(testutil::CitizenIdFor(42));
  filter.limit = 100;
  const absl::Time start = absl::Now();
  auto page = index.Query(filter);
  Die(page.status());
  std::printf("%-46s %9.2f ms for a page of %zu records of one citizen\n",
              label.c_str(), absl::ToDoubleMilliseconds(absl::Now() - start),
              page->size());
}

int Main(int argc, char** argv) {
  uint64_t records = 200000;
  std::vector<int> rows_per_statement = {PgAuditIndex::Options().rows_per_statement};
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (absl::ConsumePrefix(&arg, "--records=") &&
        absl::SimpleAtoi(arg, &records)) {
      continue;
    }
    if (absl::ConsumePrefix(&arg, "--rows-per-statement=")) {
      rows_per_statement.clear();
      for (absl::string_view n : absl::StrSplit(arg, ',')) {
        int rows = 0;
        if (absl::SimpleAtoi(n, &rows) && rows > 0) rows_per_statement.push_back(rows);
      }
      if (!rows_per_statement.empty()) continue;
    }
    if (absl::ConsumePrefix(&arg, "--dir=")) {
      setenv("TEST_TMPDIR", std::string(arg).c_str(), 1);
      continue;
    }
    std::fprintf(stderr,
                 "usage: %s [--records=N] [--rows-per-statement=R,...] "
                 "[--dir=DIR]\n",
                 argv[0]);
    return 2;
  }

  // The journal: sample records with officers, appended without waiting.
  ScratchDir dir;
  AuditLog::Options log_options = testutil::TestOptions(dir);
  log_options.segment_bytes = 64ull << 20;
  log_options.index_interval = absl::Hours(1);  // indexed below, timed
  std::string journal_id;
  CitizenKey key = *CitizenKey::FromBytes(testutil::kTestHmacKey);
  {
    auto log = AuditLog::Open(log_options);
    Die(log.status());
    Die(testutil::AppendMany(**log, 1, records, absl::InfinitePast(),
                             /*officers=*/true));
    Die((*log)->Close());
  }
  {
    auto journal = Journal::Open({log_options.journal_dir});
    Die(journal.status());
    journal_id = (*journal)->tail().journal_id;
  }
  Indexer::Options indexer_options;
  indexer_options.journal_dir = log_options.journal_dir;
  indexer_options.journal_id = journal_id;
  std::printf("audit index benchmark: a journal of %llu records in %s\n",
              static_cast<unsigned long long>(records), dir.path().c_str());

  auto sqlite = SqliteAuditIndex::Open(dir.File("bench-index.db"),
                                       {log_options.journal_dir});
  Die(sqlite.status());
  TimeIndexing("SQLite (audit.index_store: sqlite)", indexer_options,
               **sqlite, records);
  TimeQuery("SQLite query", **sqlite, key);

  // PostgreSQL: the server named by the environment, or a throwaway one.
  std::unique_ptr<testing::PgServer> server;
  std::string server_dsn;
  if (const char* dsn = std::getenv("LIENTHONG_PG_DSN"); dsn && *dsn) {
    server_dsn = dsn;
  } else if (testing::PgServer::Installed()) {
    auto started = testing::PgServer::Start();
    Die(started.status());
    server = *std::move(started);
    server_dsn = server->dsn();
  } else {
    std::printf("PostgreSQL: skipped (no LIENTHONG_PG_DSN, no postgresql-15)\n");
    return 0;
  }
  const std::string database = absl::StrCat("audit_index_bench_", getpid());
  auto admin = PoolFor(server_dsn);
  Die(admin->Run(absl::StrCat("CREATE DATABASE ", database)).status());
  {
    auto pool = PoolFor(absl::StrCat(server_dsn, " dbname=", database));
    Die(PgAuditIndex::Migrate(*pool).status());
    for (int rows : rows_per_statement) {
      auto index = PgAuditIndex::Open({pool, "bench-node", rows});
      Die(index.status());
      TimeIndexing(absl::StrCat("PostgreSQL, ", rows, " row(s) per INSERT"),
                   indexer_options, **index, records);
    }
    auto index = PgAuditIndex::Open({pool, "bench-node"});
    Die(index.status());
    TimeQuery("PostgreSQL query", **index, key);
  }
  Die(admin->Run(absl::StrCat("DROP DATABASE ", database)).status());
  return 0;
}

}  // namespace
}  // namespace lienthong::audit

int main(int argc, char** argv) { return lienthong::audit::Main(argc, argv); }
