// PgAuditIndex (gateway/audit/pg/pg_audit_index.h) against a real
// PostgreSQL 15: two audit logs with journals of their own ("gw-a" and
// "gw-b") share one index, as two replicas do.
#include "gateway/audit/pg/pg_audit_index.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gateway/audit/audit_log.h"
#include "gateway/audit/indexer.h"
#include "gateway/audit/record.h"
#include "gateway/storage/pg/pg_pool.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/audit/test_util.h"
#include "tests/testing/pg_server.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::audit {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;
using testutil::ScratchDir;

constexpr int kRecordsPerNode = 150;
const absl::Time kBase = absl::FromUnixSeconds(1752537600);  // 2025-07-15

// (sequence, node): a record's place in the shared index.
using Place = std::pair<uint64_t, std::string>;

Place PlaceOf(const AuditRecord& r) { return {r.sequence(), r.node()}; }

std::vector<Place> Places(const std::vector<AuditRecord>& records) {
  std::vector<Place> places;
  for (const AuditRecord& r : records) places.push_back(PlaceOf(r));
  return places;
}

class PgAuditIndexTest : public ::lienthong::testing::PgServerTest {
 protected:
  void SetUp() override {
    PgServerTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // A database of its own per test.
    static int next = 0;
    database_ = absl::StrCat("audit_index_", ++next);
    dsn_ = NewDatabase(database_);
    ASSERT_FALSE(dsn_.empty());
    pool_ = Pool(dsn_);
    ASSERT_NE(pool_, nullptr);
    ASSERT_THAT(PgAuditIndex::Migrate(*pool_).status(), IsOk());
  }

  static std::shared_ptr<storage::pg::Pool> Pool(const std::string& dsn) {
    storage::pg::PoolOptions options;
    options.dsn = dsn;
    options.size = 2;
    options.connect_timeout = absl::Seconds(2);
    options.acquire_timeout = absl::Seconds(3);
    auto pool = storage::pg::Pool::Create(options);
    EXPECT_THAT(pool.status(), IsOk());
    return pool.ok() ? std::shared_ptr<storage::pg::Pool>(*std::move(pool))
                     : nullptr;
  }

  std::shared_ptr<PgAuditIndex> Index(const std::string& node) {
    auto index = PgAuditIndex::Open({pool_, node});
    EXPECT_THAT(index.status(), IsOk());
    return index.ok() ? std::shared_ptr<PgAuditIndex>(*std::move(index))
                      : nullptr;
  }

  // An audit log for `node` in `dir`, its index the shared one.
  std::unique_ptr<AuditLog> OpenLog(const ScratchDir& dir,
                                    const std::string& node) {
    AuditLog::Options options = testutil::TestOptions(dir);
    options.node = node;
    options.index_store = Index(node);
    auto log = AuditLog::Open(options);
    EXPECT_THAT(log.status(), IsOk());
    return log.ok() ? *std::move(log) : nullptr;
  }

  // Both nodes with kRecordsPerNode sample records each (officers named),
  // indexed; node b's records an hour after node a's.
  void FillTwoNodes() {
    log_a_ = OpenLog(dir_a_, "gw-a");
    log_b_ = OpenLog(dir_b_, "gw-b");
    ASSERT_NE(log_a_, nullptr);
    ASSERT_NE(log_b_, nullptr);
    ASSERT_THAT(testutil::AppendMany(*log_a_, 0, kRecordsPerNode, kBase,
                                     /*officers=*/true),
                IsOk());
    ASSERT_THAT(testutil::AppendMany(*log_b_, 0, kRecordsPerNode,
                                     kBase + absl::Hours(1), /*officers=*/true),
                IsOk());
    // A query catches up its own node's indexer only.
    QueryFilter one;
    one.limit = 1;
    ASSERT_THAT(log_a_->index().Query(one).status(), IsOk());
    ASSERT_THAT(log_b_->index().Query(one).status(), IsOk());
  }

  // Every record in the index, read page by page with the token.
  std::vector<AuditRecord> ReadAll(const AuditIndex& index, QueryFilter filter,
                                   int page_size) {
    std::vector<AuditRecord> all;
    filter.limit = page_size;
    for (int pages = 0; pages < 10000; ++pages) {
      auto page = index.Query(filter);
      EXPECT_THAT(page.status(), IsOk());
      if (!page.ok() || page->empty()) break;
      for (AuditRecord& r : *page) all.push_back(std::move(r));
      filter.after_sequence = all.back().sequence();
      filter.after_node = all.back().node();
    }
    return all;
  }

  ScratchDir dir_a_;
  ScratchDir dir_b_;
  std::string database_;
  std::string dsn_;  // database_'s connection string
  std::shared_ptr<storage::pg::Pool> pool_;
  std::unique_ptr<AuditLog> log_a_;
  std::unique_ptr<AuditLog> log_b_;
};

TEST_F(PgAuditIndexTest, QueryOnOneNodeReturnsBothNodesRecordsForEveryFilter) {
  ASSERT_NO_FATAL_FAILURE(FillTwoNodes());
  // Node a's index (caught up for a only) sees both journals' records.
  const std::vector<AuditRecord> all = ReadAll(log_a_->index(), {}, 1000);
  std::set<std::string> nodes;
  for (const AuditRecord& r : all) nodes.insert(r.node());
  EXPECT_EQ(nodes, (std::set<std::string>{"gw-a", "gw-b"}));
  // Each log adds its LOG_OPENED record.
  ASSERT_EQ(all.size(), 2u * (kRecordsPerNode + 1));
  std::vector<Place> sorted = Places(all);
  EXPECT_TRUE(std::is_sorted(sorted.begin(), sorted.end()));

  const CitizenKey& key = log_a_->citizen_key();
  const AuditRecord& a_lookup = all[10];  // some record with an officer
  struct Case {
    std::string name;
    std::function<void(QueryFilter&)> set;
    std::function<bool(const AuditRecord&)> matches;
  };
  const std::string citizen = key.Hmac(testutil::CitizenIdFor(5));
  const std::string officer = key.Hmac(testutil::OfficerIdFor(4));
  const std::vector<Case> cases = {
      {"caller",
       [](QueryFilter& f) { f.caller = "spiffe://lienthong.local/district-app"; },
       [](const AuditRecord& r) {
         return r.caller() == "spiffe://lienthong.local/district-app";
       }},
      {"method",
       [](QueryFilter& f) {
         f.method = "lienthong.v1.IdentityService/VerifyIdentity";
       },
       [](const AuditRecord& r) {
         return r.method() == "lienthong.v1.IdentityService/VerifyIdentity";
       }},
      {"citizen", [&](QueryFilter& f) { f.citizen_hmac = citizen; },
       [&](const AuditRecord& r) { return r.citizen_hmac() == citizen; }},
      {"officer", [&](QueryFilter& f) { f.officer_hmac = officer; },
       [&](const AuditRecord& r) { return r.officer_hmac() == officer; }},
      {"dossier",
       [](QueryFilter& f) { f.dossier_id = "000.00.01.H31-250715-00007"; },
       [](const AuditRecord& r) {
         return r.dossier_id() == "000.00.01.H31-250715-00007";
       }},
      {"outcome", [](QueryFilter& f) { f.outcome = "PERMISSION_DENIED"; },
       [](const AuditRecord& r) { return r.outcome() == "PERMISSION_DENIED"; }},
      {"time range (node b's hour only)",
       [](QueryFilter& f) {
         f.start = kBase + absl::Hours(1);
         f.end = kBase + absl::Hours(1) + absl::Seconds(100);
       },
       [](const AuditRecord& r) {
         const absl::Time t = FromProtoTime(r.time());
         return t >= kBase + absl::Hours(1) &&
                t < kBase + absl::Hours(1) + absl::Seconds(100);
       }},
      {"citizen and outcome",
       [&](QueryFilter& f) {
         f.citizen_hmac = citizen;
         f.outcome = "OK";
       },
       [&](const AuditRecord& r) {
         return r.citizen_hmac() == citizen && r.outcome() == "OK";
       }},
      {"a hash no record has",
       [](QueryFilter& f) { f.citizen_hmac = std::string(64, 'a'); },
       [](const AuditRecord&) { return false; }},
  };
  ASSERT_FALSE(a_lookup.node().empty());
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    QueryFilter filter;
    c.set(filter);
    std::vector<Place> expected;
    for (const AuditRecord& r : all) {
      if (c.matches(r)) expected.push_back(PlaceOf(r));
    }
    // Paged in small pages, on node b's side this time.
    const std::vector<AuditRecord> found = ReadAll(log_b_->index(), filter, 7);
    EXPECT_EQ(Places(found), expected);
    if (c.name == "citizen" || c.name == "officer") {
      // Not trivial: both nodes' records are among them.
      std::set<std::string> from;
      for (const AuditRecord& r : found) from.insert(r.node());
      EXPECT_EQ(from.size(), 2u);
    }
  }
  // The records come back whole (the chain's hash included).
  for (const AuditRecord& r : all) ASSERT_FALSE(r.hash().empty());
}

TEST_F(PgAuditIndexTest, PagingAcrossNodesNeitherRepeatsNorSkips) {
  ASSERT_NO_FATAL_FAILURE(FillTwoNodes());
  const std::vector<AuditRecord> all = ReadAll(log_a_->index(), {}, 1000);
  for (int page_size : {1, 2, 3, 50}) {
    SCOPED_TRACE(page_size);
    EXPECT_EQ(Places(ReadAll(log_a_->index(), {}, page_size)), Places(all));
  }
  // Sequences repeat across nodes: a page ending on (5, gw-a) continues
  // with (5, gw-b).
  QueryFilter after;
  after.after_sequence = 5;
  after.after_node = "gw-a";
  after.limit = 2;
  auto page = log_a_->index().Query(after);
  ASSERT_THAT(page.status(), IsOk());
  EXPECT_EQ(Places(*page), (std::vector<Place>{{5, "gw-b"}, {6, "gw-a"}}));
  // Without a node the token means "sequence above": both nodes' 5s are
  // behind it.
  after.after_node.clear();
  page = log_a_->index().Query(after);
  ASSERT_THAT(page.status(), IsOk());
  EXPECT_EQ(Places(*page), (std::vector<Place>{{6, "gw-a"}, {6, "gw-b"}}));
  after.limit = 0;
  EXPECT_THAT(log_a_->index().Query(after).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
}

TEST_F(PgAuditIndexTest, RebuildAndRemoveThroughTouchOnlyTheirNode) {
  ASSERT_NO_FATAL_FAILURE(FillTwoNodes());
  ASSERT_THAT(log_a_->Close(), IsOk());
  auto a = Index("gw-a");
  auto b = Index("gw-b");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  auto count_a = a->CountRecords();
  auto count_b = b->CountRecords();
  ASSERT_THAT(count_a.status(), IsOk());
  ASSERT_THAT(count_b.status(), IsOk());
  EXPECT_EQ(*count_a, kRecordsPerNode + 1u);
  EXPECT_EQ(*count_b, kRecordsPerNode + 1u);
  auto state_b = b->LoadState();
  ASSERT_THAT(state_b.status(), IsOk());
  ASSERT_TRUE(state_b->has_value());

  // Node a's rows cleared (a rebuild): node b's stay, state and all.
  ASSERT_THAT(a->Clear(), IsOk());
  EXPECT_THAT(a->CountRecords(), ::lienthong::testing::IsOkAndHolds(0u));
  auto state_a = a->LoadState();
  ASSERT_THAT(state_a.status(), IsOk());
  EXPECT_FALSE(state_a->has_value());
  EXPECT_THAT(b->CountRecords(), ::lienthong::testing::IsOkAndHolds(*count_b));
  auto kept_b = b->LoadState();
  ASSERT_THAT(kept_b.status(), IsOk());
  ASSERT_TRUE(kept_b->has_value());
  EXPECT_EQ((*kept_b)->sequence, (*state_b)->sequence);

  // Node a's indexer builds its part again from its journal (with no state
  // and no rows, it starts from the journal's start).
  Indexer::Options indexer_options;
  indexer_options.journal_dir = testutil::TestOptions(dir_a_).journal_dir;
  indexer_options.journal_id = "rebuilt";
  Indexer indexer(indexer_options, a.get(), [] { return Indexer::Durable{}; });
  ASSERT_THAT(indexer.RunOnce(), IsOk());
  EXPECT_THAT(a->CountRecords(), ::lienthong::testing::IsOkAndHolds(*count_a));

  // RemoveThrough (archiving) on node b: only b's first 50 go.
  ASSERT_THAT(b->RemoveThrough(50), IsOk());
  EXPECT_THAT(b->CountRecords(),
              ::lienthong::testing::IsOkAndHolds(*count_b - 50));
  EXPECT_THAT(a->CountRecords(), ::lienthong::testing::IsOkAndHolds(*count_a));
  QueryFilter first;
  first.limit = 3;
  auto page = b->Query(first);
  ASSERT_THAT(page.status(), IsOk());
  EXPECT_EQ(Places(*page),
            (std::vector<Place>{{1, "gw-a"}, {2, "gw-a"}, {3, "gw-a"}}));
}

TEST_F(PgAuditIndexTest, TwoJournalsUnderOneNodeNameAreRefusedOrReported) {
  ASSERT_NO_FATAL_FAILURE(FillTwoNodes());
  const uint64_t rows_a = kRecordsPerNode + 1;
  ASSERT_THAT(Index("gw-a")->CountRecords(),
              ::lienthong::testing::IsOkAndHolds(rows_a));
  auto first_state = Index("gw-a")->LoadState();
  ASSERT_THAT(first_state.status(), IsOk());
  ASSERT_TRUE(first_state->has_value());
  const std::string first_journal = (*first_state)->journal_id;

  // A second gateway configured with gw-a's node name, while gw-a indexes:
  // refused at start, gw-a's rows left as they are.
  ScratchDir dir_c;
  AuditLog::Options options = testutil::TestOptions(dir_c);
  options.node = "gw-a";
  options.index_store = Index("gw-a");
  EXPECT_THAT(AuditLog::Open(options).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("give each replica its own node_name")));
  EXPECT_THAT(Index("gw-a")->CountRecords(),
              ::lienthong::testing::IsOkAndHolds(rows_a));

  // Once gw-a's rows count as abandoned (a replica whose journal was
  // replaced; here at once), the new journal takes them over ...
  ScratchDir dir_d;
  options = testutil::TestOptions(dir_d);
  options.node = "gw-a";
  auto taking = PgAuditIndex::Open({pool_, "gw-a", 250, absl::ZeroDuration()});
  ASSERT_THAT(taking.status(), IsOk());
  options.index_store = *std::move(taking);
  auto replaced = AuditLog::Open(options);
  ASSERT_THAT(replaced.status(), IsOk());
  QueryFilter one;
  one.limit = 1;
  ASSERT_THAT((*replaced)->index().Query(one).status(), IsOk());
  auto taken_state = Index("gw-a")->LoadState();
  ASSERT_THAT(taken_state.status(), IsOk());
  ASSERT_TRUE(taken_state->has_value());
  EXPECT_NE((*taken_state)->journal_id, first_journal);

  // ... and the first gateway, still running, finds out at its next
  // indexing: its writes refused (nothing of the new journal's changed),
  // its index not ready, saying why.
  ASSERT_THAT(testutil::AppendMany(*log_a_, kRecordsPerNode, 5,
                                   kBase + absl::Hours(2), /*officers=*/true),
              IsOk());
  EXPECT_THAT(log_a_->index().Query(one).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("now used by another gateway's journal")));
  EXPECT_THAT(log_a_->options().index_store->Ready(),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("give each replica its own node_name")));
  auto still = Index("gw-a")->LoadState();
  ASSERT_THAT(still.status(), IsOk());
  ASSERT_TRUE(still->has_value());
  EXPECT_EQ((*still)->journal_id, (*taken_state)->journal_id);
  ASSERT_THAT((*replaced)->Close(), IsOk());
}

TEST_F(PgAuditIndexTest, RefusesASchemaNotMigratedAndBadOptions) {
  auto bare = Pool(server_->dsn());  // the postgres database: no schema
  ASSERT_NE(bare, nullptr);
  EXPECT_THAT(PgAuditIndex::Open({bare, "gw-a"}).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("--migrate")));
  EXPECT_THAT(PgAuditIndex::Open({pool_, ""}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  EXPECT_THAT(PgAuditIndex::Open({nullptr, "gw-a"}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
}

TEST_F(PgAuditIndexTest, UnreachableDatabaseIsUnavailableWithoutThePassword) {
  auto index = Index("gw-a");
  ASSERT_NE(index, nullptr);
  AuditRecord record = testutil::SampleRecord(1, CitizenKey::FromBytes(
                                                     testutil::kTestHmacKey)
                                                     .value());
  record.set_sequence(1);
  record.set_node("gw-a");
  IndexEntry entry;
  entry.record = record;
  IndexState state;
  state.journal_id = "00";
  state.sequence = 1;
  ASSERT_THAT(index->Add({entry}, state), IsOk());

  ASSERT_THAT(server_->Stop(), IsOk());
  QueryFilter filter;
  const absl::Status query = index->Query(filter).status();
  const absl::Status add = index->Add({entry}, state);
  const absl::Status count = index->CountRecords().status();
  const absl::Status ready = index->Ready();
  // Opened while the database is down: checked at first use.
  auto late = PgAuditIndex::Open({pool_, "gw-b"});
  const absl::Status late_query =
      late.ok() ? (*late)->Query(filter).status() : late.status();
  ASSERT_THAT(server_->Resume(), IsOk());
  ASSERT_THAT(late.status(), IsOk());
  EXPECT_THAT(ready, StatusIs(absl::StatusCode::kUnavailable,
                              HasSubstr("audit index database unreachable")));
  for (const absl::Status& s : {query, add, count, ready, late_query}) {
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnavailable, ::testing::_));
    EXPECT_THAT(std::string(s.message()), Not(HasSubstr(server_->password())));
    EXPECT_THAT(std::string(s.message()),
                Not(HasSubstr(testutil::CitizenIdFor(1))));
  }
  EXPECT_THAT(std::string(query.message()),
              HasSubstr("audit index on PostgreSQL"));
  // Back: nothing lost, the pool reconnects.
  absl::StatusOr<std::vector<AuditRecord>> again;
  for (int i = 0; i < 50; ++i) {
    again = index->Query(filter);
    if (again.ok()) break;
    absl::SleepFor(absl::Milliseconds(100));  // the pool's reconnect backoff
  }
  ASSERT_THAT(again.status(), IsOk());
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ(again->front().SerializeAsString(), record.SerializeAsString());
}

// Opened while PostgreSQL is down, on a database whose schema turns out
// too old: not used (UNAVAILABLE "not usable", saying to migrate) until it
// is migrated.
TEST_F(PgAuditIndexTest, SchemaIsCheckedWhenTheDatabaseComesBack) {
  const std::string unmigrated_dsn = NewDatabase(database_ + "_unmigrated");
  ASSERT_FALSE(unmigrated_dsn.empty());
  auto pool = Pool(unmigrated_dsn);
  ASSERT_NE(pool, nullptr);
  ASSERT_THAT(server_->Stop(), IsOk());
  auto index = PgAuditIndex::Open({pool, "gw-a"});
  ASSERT_THAT(server_->Resume(), IsOk());
  ASSERT_THAT(index.status(), IsOk());
  absl::Status ready;
  for (int i = 0; i < 100; ++i) {
    ready = (*index)->Ready();
    if (absl::StrContains(ready.message(), "not usable")) break;
    absl::SleepFor(absl::Milliseconds(100));  // the pool's reconnect backoff
  }
  EXPECT_THAT(ready, StatusIs(absl::StatusCode::kUnavailable,
                              HasSubstr("--migrate")));
  EXPECT_THAT((*index)->Query({}).status(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("not usable")));
  ASSERT_THAT(PgAuditIndex::Migrate(*pool).status(), IsOk());
  EXPECT_THAT((*index)->Ready(), IsOk());
  EXPECT_THAT((*index)->Query({}).status(), IsOk());
}

}  // namespace
}  // namespace lienthong::audit
