#include "gateway/audit/query.h"

#include <sqlite3.h>

#include <set>
#include <string>
#include <vector>

#include "gateway/audit/audit_log.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/audit/test_util.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::audit {
namespace {

using ::lienthong::audit::testutil::AppendMany;
using ::lienthong::audit::testutil::CitizenIdFor;
using ::lienthong::audit::testutil::OfficerIdFor;
using ::lienthong::audit::testutil::SampleRecord;
using ::lienthong::audit::testutil::ScratchDir;
using ::lienthong::audit::testutil::TestOptions;
using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::lienthong::v1::QueryAuditRequest;
using ::testing::HasSubstr;

constexpr uint64_t kRecords = 1000;
// After the LOG_OPENED record's time (now), as a log's times are.
const absl::Time kBase = absl::FromUnixSeconds(1910044800);  // 2030-07-11Z

class QueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = AuditLog::Open(TestOptions(dir_));
    ASSERT_THAT(log, IsOk());
    log_ = *std::move(log);
    // Record i (sequence i + 1: the LOG_OPENED record is first) has time
    // kBase + i seconds.
    ASSERT_THAT(AppendMany(*log_, 1, kRecords, kBase, /*officers=*/true),
                IsOk());
  }

  // Returns the sequences `request` finds, reading every page.
  std::vector<uint64_t> QueryAll(QueryAuditRequest request) {
    std::vector<uint64_t> out;
    while (true) {
      auto page = QueryAudit(log_->index(), request, log_->citizen_key());
      EXPECT_THAT(page, IsOk());
      if (!page.ok() || page->empty()) return out;
      EXPECT_LE(page->size(), static_cast<size_t>(request.page_size() == 0
                                                      ? kDefaultPageSize
                                                      : request.page_size()));
      for (const AuditRecord& r : *page) {
        // The log's own record (sequence 1) is not a sample.
        if (r.kind() != AuditRecord::LOG_OPENED) out.push_back(r.sequence());
      }
      request.set_page_token(page->back().sequence());
    }
  }

  // Returns the sequences of the sample records for which `match` holds:
  // what a query should find.
  template <typename Match>
  std::vector<uint64_t> Expected(Match match) {
    std::vector<uint64_t> out;
    for (uint64_t i = 1; i <= kRecords; ++i) {
      if (match(i, SampleRecord(i, log_->citizen_key(), /*officers=*/true))) {
        out.push_back(i + 1);
      }
    }
    return out;
  }

  ScratchDir dir_;
  std::unique_ptr<AuditLog> log_;
};

TEST_F(QueryTest, FiltersAndPages) {
  struct Case {
    const char* name;
    void (*set)(QueryAuditRequest&);
    bool (*match)(uint64_t, const AuditRecord&);
  };
  const Case cases[] = {
      {"everything", [](QueryAuditRequest&) {},
       [](uint64_t, const AuditRecord&) { return true; }},
      {"caller",
       [](QueryAuditRequest& q) {
         q.set_caller("spiffe://lienthong.local/citizen-portal");
       },
       [](uint64_t, const AuditRecord& r) {
         return r.caller() == "spiffe://lienthong.local/citizen-portal";
       }},
      {"method",
       [](QueryAuditRequest& q) {
         q.set_method("lienthong.v1.IdentityService/VerifyIdentity");
       },
       [](uint64_t, const AuditRecord& r) {
         return r.method() == "lienthong.v1.IdentityService/VerifyIdentity";
       }},
      {"citizen id, hashed by the server",
       [](QueryAuditRequest& q) { q.set_citizen_id(CitizenIdFor(5)); },
       [](uint64_t i, const AuditRecord&) { return i % 97 == 5; }},
      {"dossier",
       [](QueryAuditRequest& q) {
         q.set_dossier_id("000.00.01.H31-250715-00042");
       },
       [](uint64_t i, const AuditRecord&) { return i % 1000 == 42; }},
      {"outcome",
       [](QueryAuditRequest& q) { q.set_outcome("PERMISSION_DENIED"); },
       [](uint64_t, const AuditRecord& r) {
         return r.outcome() == "PERMISSION_DENIED";
       }},
      {"time range",
       [](QueryAuditRequest& q) {
         ToProtoTime(kBase + absl::Seconds(100), q.mutable_start_time())
             .IgnoreError();
         ToProtoTime(kBase + absl::Seconds(200), q.mutable_end_time())
             .IgnoreError();
       },
       [](uint64_t i, const AuditRecord&) { return i >= 100 && i < 200; }},
      {"combined",
       [](QueryAuditRequest& q) {
         q.set_caller("spiffe://lienthong.local/dossier-system");
         q.set_outcome("OK");
         ToProtoTime(kBase + absl::Seconds(500), q.mutable_start_time())
             .IgnoreError();
       },
       [](uint64_t i, const AuditRecord& r) {
         return i >= 500 &&
                r.caller() == "spiffe://lienthong.local/dossier-system" &&
                r.outcome() == "OK";
       }},
      {"officer id, hashed by the server",
       [](QueryAuditRequest& q) { q.set_officer_citizen_id(OfficerIdFor(3)); },
       [](uint64_t i, const AuditRecord&) { return i % 2 == 0 && i % 7 == 3; }},
      {"officer and citizen",
       [](QueryAuditRequest& q) {
         q.set_officer_citizen_id(OfficerIdFor(3));
         q.set_citizen_id(CitizenIdFor(10));
       },
       [](uint64_t i, const AuditRecord&) {
         return i % 2 == 0 && i % 7 == 3 && i % 97 == 10;
       }},
      {"unknown officer",
       [](QueryAuditRequest& q) { q.set_officer_citizen_id("001099000001"); },
       [](uint64_t, const AuditRecord&) { return false; }},
      {"unknown citizen",
       [](QueryAuditRequest& q) { q.set_citizen_id("001099000001"); },
       [](uint64_t, const AuditRecord&) { return false; }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::vector<uint64_t> expected = Expected(c.match);
    for (int page_size : {0, 7, 1000}) {
      SCOPED_TRACE(page_size);
      QueryAuditRequest request;
      c.set(request);
      request.set_page_size(page_size);
      EXPECT_EQ(QueryAll(request), expected);
    }
  }
}

// An index made before officers were indexed (schema version 4) passes the
// start-up check (it is not the previous format's store), is built again
// from the journal on open, and then finds records by officer.
TEST_F(QueryTest, AnIndexWithoutOfficersIsRebuiltWithThem) {
  ASSERT_FALSE(QueryAll({}).empty());  // the index caught up: rows in it
  ASSERT_THAT(log_->Close(), IsOk());
  log_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(TestOptions(dir_).path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "DROP INDEX records_officer;"
                         "ALTER TABLE records DROP COLUMN officer;"
                         "PRAGMA user_version=4;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  int64_t indexed = 0;
  ASSERT_EQ(sqlite3_exec(
                db, "SELECT count(*) FROM records",
                [](void* out, int, char** values, char**) {
                  *static_cast<int64_t*>(out) = std::atoll(values[0]);
                  return 0;
                },
                &indexed, nullptr),
            SQLITE_OK);
  ASSERT_GT(indexed, 0);
  sqlite3_close(db);
  EXPECT_THAT(AuditLog::Check(TestOptions(dir_)), IsOk());
  auto log = AuditLog::Open(TestOptions(dir_));
  ASSERT_THAT(log, IsOk());
  log_ = *std::move(log);
  QueryAuditRequest request;
  request.set_officer_citizen_id(OfficerIdFor(5));
  const std::vector<uint64_t> expected = Expected(
      [](uint64_t i, const AuditRecord&) { return i % 2 == 0 && i % 7 == 5; });
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(QueryAll(request), expected);
}

TEST_F(QueryTest, ReturnsWholeRecords) {
  QueryAuditRequest request;
  request.set_citizen_id(CitizenIdFor(5));
  request.set_page_size(1);
  auto page = QueryAudit(log_->index(), request, log_->citizen_key());
  ASSERT_THAT(page, IsOk());
  ASSERT_EQ(page->size(), 1u);
  const AuditRecord& r = page->front();
  EXPECT_EQ(r.sequence(), 6u);
  EXPECT_EQ(r.citizen_masked(), "033*******05");
  EXPECT_EQ(r.citizen_hmac(), log_->citizen_key().Hmac(CitizenIdFor(5)));
  EXPECT_EQ(FromProtoTime(r.time()), kBase + absl::Seconds(5));
  EXPECT_TRUE(RecordHashMatches(r));
}

TEST_F(QueryTest, RejectsBadRequests) {
  QueryAuditRequest too_big;
  too_big.set_page_size(kMaxPageSize + 1);
  EXPECT_THAT(
      QueryAudit(log_->index(), too_big, log_->citizen_key()),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_size")));
  QueryAuditRequest negative;
  negative.set_page_size(-1);
  EXPECT_THAT(QueryAudit(log_->index(), negative, log_->citizen_key()),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  QueryAuditRequest inverted;
  ToProtoTime(kBase + absl::Seconds(10), inverted.mutable_start_time())
      .IgnoreError();
  ToProtoTime(kBase, inverted.mutable_end_time()).IgnoreError();
  EXPECT_THAT(
      QueryAudit(log_->index(), inverted, log_->citizen_key()),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("end_time")));
  QueryAuditRequest bad_time;
  bad_time.mutable_start_time()->set_nanos(-1);
  EXPECT_THAT(QueryAudit(log_->index(), bad_time, log_->citizen_key()),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  QueryAuditRequest wrapping;  // would read as sequence -1: the first page
  wrapping.set_page_token(uint64_t{1} << 63);
  EXPECT_THAT(
      QueryAudit(log_->index(), wrapping, log_->citizen_key()),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
}

TEST_F(QueryTest, ExportLinesRoundTrip) {
  // Checkpoints: opened (1), periodic (1000), clean stop (1001).
  ASSERT_THAT(log_->Close(), IsOk());
  std::vector<std::string> lines;
  ASSERT_THAT(Export(log_->options().journal_dir, kBase + absl::Seconds(990),
                     [&](absl::string_view line) {
                       lines.emplace_back(line);
                       return absl::OkStatus();
                     }),
              IsOk());
  // The checkpoints first, then records 991..1001 (samples 990..1000).
  ASSERT_EQ(lines.size(), 13u);
  EXPECT_THAT(lines[0], ::testing::StartsWith(
                            "{\"type\":\"checkpoint\",\"sequence\":\"1000\","));
  EXPECT_THAT(lines[1], ::testing::StartsWith(
                            "{\"type\":\"checkpoint\",\"sequence\":\"1001\","));
  EXPECT_THAT(lines[2], ::testing::StartsWith(
                            "{\"type\":\"record\",\"sequence\":\"991\","));
  for (const std::string& line : lines) {
    EXPECT_THAT(line, ::testing::EndsWith("}\n"));
    EXPECT_EQ(line.find('\n'), line.size() - 1);
  }
  auto checkpoint = ParseExportLine(lines[0]);
  ASSERT_THAT(checkpoint, IsOk());
  EXPECT_EQ(checkpoint->type, ExportLine::Type::kCheckpoint);
  EXPECT_EQ(checkpoint->checkpoint.sequence(), 1000u);
  EXPECT_THAT(VerifyCheckpoint(checkpoint->checkpoint, log_->public_key()),
              IsOk());
  lines.erase(lines.begin());  // as before: lines[1] is the first record
  QueryFilter filter;
  filter.after_sequence = 990;
  filter.limit = 1;
  auto stored = log_->index().Query(filter);
  ASSERT_THAT(stored, IsOk());
  auto record = ParseExportLine(lines[1]);
  ASSERT_THAT(record, IsOk());
  EXPECT_EQ(record->type, ExportLine::Type::kRecord);
  EXPECT_EQ(record->record.SerializeAsString(),
            stored->front().SerializeAsString());
  // Every field is present, even the empty ones, for a SIEM's sake.
  EXPECT_THAT(lines[1], HasSubstr("\"response_sha256\":"));
  EXPECT_THAT(lines[1], HasSubstr("\"citizen_masked\":\"033*******"));

  EXPECT_THAT(ParseExportLine("{\"type\":\"other\"}"),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  EXPECT_THAT(ParseExportLine("{\"type\":\"record\",\"sequence\":"),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
}

TEST_F(QueryTest, ExportOfNothingIsEmpty) {
  int lines = 0;
  ASSERT_THAT(Export(log_->options().journal_dir, kBase + absl::Hours(1),
                     [&](absl::string_view) {
                       ++lines;
                       return absl::OkStatus();
                     }),
              IsOk());
  EXPECT_EQ(lines, 0);
}

TEST_F(QueryTest, ExportStopsAtTheWritersError) {
  int lines = 0;
  EXPECT_THAT(Export(log_->options().journal_dir, absl::InfinitePast(),
                     [&](absl::string_view) {
                       return ++lines == 3 ? absl::UnavailableError("pipe")
                                           : absl::OkStatus();
                     }),
              StatusIs(absl::StatusCode::kUnavailable, "pipe"));
  EXPECT_EQ(lines, 3);
}

}  // namespace
}  // namespace lienthong::audit
