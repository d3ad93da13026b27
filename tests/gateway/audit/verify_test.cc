#include "gateway/audit/verify.h"

#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gateway/audit/audit_log.h"
#include "gateway/audit/audit_store.h"
#include "gateway/audit/query.h"
#include "gateway/audit/signing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/audit/test_util.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::audit {
namespace {

using ::lienthong::audit::testutil::AppendMany;
using ::lienthong::audit::testutil::SampleRecord;
using ::lienthong::audit::testutil::ScratchDir;
using ::lienthong::audit::testutil::TestOptions;
using ::lienthong::testing::IsOk;
using ::testing::HasSubstr;

// 100 periodic checkpoints (1000, 2000, ..., 100000) and one at close
// (100500).
constexpr uint64_t kRecords = 100500;

// Runs SQL on the raw SQLite file, as someone with write access would.
void Exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
      << sql << ": " << (error != nullptr ? error : "");
  sqlite3_free(error);
}

// Flips one bit of one byte in the middle of a text column of a record.
void FlipByte(sqlite3* db, const char* table, uint64_t sequence,
              const char* column) {
  sqlite3_stmt* select = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               absl::StrCat("SELECT ", column, " FROM ", table,
                                            " WHERE sequence = ", sequence)
                                   .c_str(),
                               -1, &select, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(select), SQLITE_ROW);
  std::string value(
      reinterpret_cast<const char*>(sqlite3_column_text(select, 0)));
  sqlite3_finalize(select);
  ASSERT_FALSE(value.empty());
  value[value.size() / 2] ^= 0x01;
  sqlite3_stmt* update = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               absl::StrCat("UPDATE ", table, " SET ", column,
                                            " = ? WHERE sequence = ", sequence)
                                   .c_str(),
                               -1, &update, nullptr),
            SQLITE_OK);
  sqlite3_bind_text(update, 1, value.data(), static_cast<int>(value.size()),
                    SQLITE_TRANSIENT);
  ASSERT_EQ(sqlite3_step(update), SQLITE_DONE);
  sqlite3_finalize(update);
}

// Adds `delta` to the sequence of every record from `from` on (two steps,
// so that the primary key never collides).
void Renumber(sqlite3* db, uint64_t from, int delta) {
  Exec(db, absl::StrCat("UPDATE records SET sequence = -(sequence + ", delta,
                        ") WHERE sequence >= ", from));
  Exec(db, "UPDATE records SET sequence = -sequence WHERE sequence < 0");
}

void Swap(sqlite3* db, uint64_t a, uint64_t b) {
  Exec(db,
       absl::StrCat("UPDATE records SET sequence = -1 WHERE sequence = ", a));
  Exec(db, absl::StrCat("UPDATE records SET sequence = ", a,
                        " WHERE sequence = ", b));
  Exec(db, absl::StrCat("UPDATE records SET sequence = ", b,
                        " WHERE sequence = -1"));
}

AuditRecord ReadRecord(const AuditStore& store, uint64_t sequence) {
  AuditRecord out;
  EXPECT_THAT(store.ScanRecords(sequence,
                                [&](const AuditRecord& r) {
                                  out = r;
                                  return false;
                                }),
              IsOk());
  return out;
}

// What an attacker without the signing key can do best: change a record and
// recompute every hash after it, so that every link checks out again.
void EditAndRechain(sqlite3* db, const AuditStore& store, uint64_t sequence) {
  std::vector<std::pair<uint64_t, std::pair<std::string, std::string>>> rows;
  std::string prev;
  ASSERT_THAT(store.ScanRecords(
                  sequence,
                  [&](const AuditRecord& r) {
                    AuditRecord changed = r;
                    if (r.sequence() == sequence) {
                      changed.set_outcome("NOT_FOUND");
                    } else {
                      changed.set_prev_hash(prev);
                    }
                    prev = *ComputeRecordHash(changed);
                    rows.push_back({r.sequence(), {changed.prev_hash(), prev}});
                    return true;
                  }),
              IsOk());
  Exec(db, "BEGIN");
  Exec(db, absl::StrCat("UPDATE records SET outcome = 'NOT_FOUND' "
                        "WHERE sequence = ",
                        sequence));
  sqlite3_stmt* update = nullptr;
  ASSERT_EQ(
      sqlite3_prepare_v2(
          db, "UPDATE records SET prev_hash = ?, hash = ? WHERE sequence = ?",
          -1, &update, nullptr),
      SQLITE_OK);
  for (const auto& [seq, hashes] : rows) {
    sqlite3_bind_text(update, 1, hashes.first.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(update, 2, hashes.second.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(update, 3, static_cast<int64_t>(seq));
    ASSERT_EQ(sqlite3_step(update), SQLITE_DONE);
    sqlite3_reset(update);
  }
  sqlite3_finalize(update);
  Exec(db, "COMMIT");
}

// Inserts a well-formed record at `sequence`, linked to the record before
// it, after moving the later records up by one.
void InsertForged(sqlite3* db, SqliteAuditStore& store, uint64_t sequence) {
  const AuditRecord before = ReadRecord(store, sequence - 1);
  Renumber(db, sequence, 1);
  auto key = CitizenKey::FromBytes(testutil::kTestHmacKey);
  AuditRecord forged = SampleRecord(7, *key);
  forged.set_sequence(sequence);
  *forged.mutable_time() = before.time();
  forged.set_node(before.node());
  forged.set_prev_hash(before.hash());
  forged.set_hash(*ComputeRecordHash(forged));
  ASSERT_THAT(store.Write({forged}, {}), IsOk());
}

struct TamperCase {
  const char* name;
  std::function<void(sqlite3*, SqliteAuditStore&)> tamper;
  VerifyReport::Problem problem;
  uint64_t first_bad_sequence;
};

// One store of kRecords records, made once for the whole program (the
// TEST_F and TEST_P tests are two suites) and copied for each case.
struct Golden {
  Golden() {
    AuditLog::Options options = TestOptions(dir);
    options.path = dir.File("golden.db");
    auto log = AuditLog::Open(options);
    EXPECT_THAT(log, IsOk());
    if (!log.ok()) return;
    EXPECT_THAT(AppendMany(**log, 1, kRecords), IsOk());
    EXPECT_THAT((*log)->Close(), IsOk());
    key = (*log)->public_key();
  }
  ScratchDir dir;
  std::optional<PublicKey> key;
};

const Golden& GetGolden() {
  static Golden golden;  // Removes its directory at exit.
  return golden;
}

class TamperTest : public ::testing::TestWithParam<TamperCase> {
 protected:
  void SetUp() override {
    const Golden& golden = GetGolden();
    ASSERT_TRUE(golden.key.has_value());
    dir_ = &golden.dir;
    key_ = &*golden.key;
  }

  // Returns a fresh copy of the golden store.
  std::string CopyGolden(const std::string& name) {
    const std::string path = dir_->File(name);
    std::filesystem::copy_file(
        dir_->File("golden.db"), path,
        std::filesystem::copy_options::overwrite_existing);
    return path;
  }

  const ScratchDir* dir_ = nullptr;
  const PublicKey* key_ = nullptr;
};

TEST_F(TamperTest, UntouchedStoreIsIntact) {
  auto store = SqliteAuditStore::Open(dir_->File("golden.db"));
  ASSERT_THAT(store, IsOk());
  auto report = VerifyStore(**store, *key_);
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->intact()) << report->DebugString();
  EXPECT_EQ(report->records_checked(), kRecords);
  EXPECT_EQ(report->last_sequence(), kRecords);
  EXPECT_EQ(report->checkpoints_checked(), 101u);
  EXPECT_EQ(report->last_checkpoint_sequence(), kRecords);
}

TEST_F(TamperTest, AnotherKeyIsABadSignature) {
  ScratchDir other;
  ASSERT_THAT(GenerateSigningKeyFile(other.File("other.pem")), IsOk());
  auto other_key = PublicKey::FromPemFile(other.File("other.pem"));
  ASSERT_THAT(other_key, IsOk());
  auto store = SqliteAuditStore::Open(dir_->File("golden.db"));
  ASSERT_THAT(store, IsOk());
  auto report = VerifyStore(**store, *other_key);
  ASSERT_THAT(report, IsOk());
  EXPECT_FALSE(report->intact());
  EXPECT_EQ(report->problem(), VerifyReport::BAD_SIGNATURE);
  EXPECT_EQ(report->first_bad_sequence(), 1000u);
  EXPECT_THAT(report->detail(), HasSubstr("another key"));
}

TEST_F(TamperTest, WholeStoreExportVerifiesOffline) {
  auto store = SqliteAuditStore::Open(dir_->File("golden.db"));
  ASSERT_THAT(store, IsOk());
  const std::string path = dir_->File("golden.jsonl");
  ASSERT_THAT(ExportToFile(**store, absl::InfinitePast(), path), IsOk());
  const absl::Time start = absl::Now();
  auto report = VerifyExportFile(path, *key_);
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->intact()) << report->DebugString();
  EXPECT_EQ(report->records_checked(), kRecords);
  EXPECT_EQ(report->checkpoints_checked(), 101u);
  std::cout << "  verified the export of " << kRecords << " records in "
            << absl::Now() - start << "\n";
  std::filesystem::remove(path);
}

// Documents the limit: a record forged onto the end, after the last
// checkpoint, links correctly and is not signed yet. The report says where
// the signed part ends.
TEST_F(TamperTest, ForgeryAfterTheLastCheckpointIsOnlyUnsigned) {
  auto store = SqliteAuditStore::Open(CopyGolden("append.db"));
  ASSERT_THAT(store, IsOk());
  const AuditRecord last = ReadRecord(**store, kRecords);
  AuditRecord forged = last;
  forged.set_sequence(kRecords + 1);
  forged.set_prev_hash(last.hash());
  forged.set_hash(*ComputeRecordHash(forged));
  ASSERT_THAT((*store)->Write({forged}, {}), IsOk());
  auto report = VerifyStore(**store, *key_);
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->intact());
  EXPECT_EQ(report->last_sequence(), kRecords + 1);
  EXPECT_EQ(report->last_checkpoint_sequence(), kRecords);
}

TEST_P(TamperTest, IsCaughtAtTheFirstBadRecord) {
  const TamperCase& c = GetParam();
  const std::string path = CopyGolden(absl::StrCat(c.name, ".db"));
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    auto store = SqliteAuditStore::Open(path);
    ASSERT_THAT(store, IsOk());
    c.tamper(db, **store);
    sqlite3_close(db);
  }
  auto store = SqliteAuditStore::Open(path);
  ASSERT_THAT(store, IsOk());
  const absl::Time start = absl::Now();
  auto report = VerifyStore(**store, *key_);
  ASSERT_THAT(report, IsOk());
  EXPECT_FALSE(report->intact());
  EXPECT_EQ(VerifyReport::Problem_Name(report->problem()),
            VerifyReport::Problem_Name(c.problem))
      << report->detail();
  EXPECT_EQ(report->first_bad_sequence(), c.first_bad_sequence)
      << report->detail();
  std::cout << "  " << c.name << ": "
            << VerifyReport::Problem_Name(report->problem()) << " at "
            << report->first_bad_sequence() << " (" << report->detail()
            << ") in " << absl::Now() - start << "\n";
  std::filesystem::remove(path);
}

INSTANTIATE_TEST_SUITE_P(
    Tampering, TamperTest,
    ::testing::Values(
        TamperCase{"flip_caller_byte",
                   [](sqlite3* db, SqliteAuditStore&) {
                     FlipByte(db, "records", 31337, "caller");
                   },
                   VerifyReport::EDITED, 31337},
        TamperCase{"flip_citizen_hmac_byte",
                   [](sqlite3* db, SqliteAuditStore&) {
                     FlipByte(db, "records", 31337, "citizen_hmac");
                   },
                   VerifyReport::EDITED, 31337},
        TamperCase{"flip_stored_hash_byte",
                   [](sqlite3* db, SqliteAuditStore&) {
                     FlipByte(db, "records", 31337, "hash");
                   },
                   VerifyReport::EDITED, 31337},
        TamperCase{"flip_prev_hash_byte",
                   [](sqlite3* db, SqliteAuditStore&) {
                     FlipByte(db, "records", 31337, "prev_hash");
                   },
                   VerifyReport::EDITED, 31337},
        TamperCase{"shift_time_1ns",
                   [](sqlite3* db, SqliteAuditStore&) {
                     Exec(db,
                          "UPDATE records SET time_ns = time_ns + 1 "
                          "WHERE sequence = 31337");
                   },
                   VerifyReport::EDITED, 31337},
        TamperCase{"edit_a_checkpointed_record",
                   [](sqlite3* db, SqliteAuditStore&) {
                     FlipByte(db, "records", 5000, "dossier_id");
                   },
                   VerifyReport::EDITED, 5000},
        TamperCase{"edit_and_rehash_one_record",
                   [](sqlite3* db, SqliteAuditStore& store) {
                     AuditRecord r = ReadRecord(store, 31337);
                     r.set_outcome("NOT_FOUND");
                     Exec(db, absl::StrCat(
                                  "UPDATE records SET outcome = 'NOT_FOUND', "
                                  "hash = '",
                                  *ComputeRecordHash(r),
                                  "' WHERE sequence = 31337"));
                   },
                   VerifyReport::EDITED, 31337},
        TamperCase{"delete_one",
                   [](sqlite3* db, SqliteAuditStore&) {
                     Exec(db, "DELETE FROM records WHERE sequence = 50001");
                   },
                   VerifyReport::DELETED, 50001},
        TamperCase{"delete_a_range",
                   [](sqlite3* db, SqliteAuditStore&) {
                     Exec(db,
                          "DELETE FROM records WHERE sequence BETWEEN 50001 "
                          "AND 50100");
                   },
                   VerifyReport::DELETED, 50001},
        TamperCase{"delete_one_and_renumber",
                   [](sqlite3* db, SqliteAuditStore&) {
                     Exec(db, "DELETE FROM records WHERE sequence = 50001");
                     Renumber(db, 50002, -1);
                   },
                   VerifyReport::DELETED, 50001},
        TamperCase{"delete_the_first",
                   [](sqlite3* db, SqliteAuditStore&) {
                     Exec(db, "DELETE FROM records WHERE sequence = 1");
                   },
                   VerifyReport::DELETED, 1},
        TamperCase{
            "swap_two",
            [](sqlite3* db, SqliteAuditStore&) { Swap(db, 60007, 70003); },
            VerifyReport::REORDERED, 60007},
        TamperCase{"swap_neighbours",
                   [](sqlite3* db, SqliteAuditStore&) { Swap(db, 42, 43); },
                   VerifyReport::REORDERED, 42},
        TamperCase{"insert_one",
                   [](sqlite3* db, SqliteAuditStore& store) {
                     InsertForged(db, store, 70001);
                   },
                   VerifyReport::INSERTED, 70001},
        TamperCase{"truncate_tail_after_last_periodic_checkpoint",
                   [](sqlite3* db, SqliteAuditStore&) {
                     Exec(db, "DELETE FROM records WHERE sequence > 100200");
                   },
                   VerifyReport::TRUNCATED, 100201},
        TamperCase{"truncate_tail_across_checkpoints",
                   [](sqlite3* db, SqliteAuditStore&) {
                     Exec(db, "DELETE FROM records WHERE sequence > 98765");
                   },
                   VerifyReport::TRUNCATED, 98766},
        TamperCase{"delete_everything",
                   [](sqlite3* db, SqliteAuditStore&) {
                     Exec(db, "DELETE FROM records");
                   },
                   VerifyReport::TRUNCATED, 1},
        TamperCase{"rechain_after_edit",
                   [](sqlite3* db, SqliteAuditStore& store) {
                     EditAndRechain(db, store, 55555);
                   },
                   VerifyReport::BAD_SIGNATURE, 56000},
        TamperCase{"rechain_and_patch_checkpoint_hashes",
                   [](sqlite3* db, SqliteAuditStore& store) {
                     EditAndRechain(db, store, 55555);
                     Exec(db,
                          "UPDATE checkpoints SET hash = (SELECT hash FROM "
                          "records WHERE records.sequence = "
                          "checkpoints.sequence)");
                   },
                   VerifyReport::BAD_SIGNATURE, 56000},
        TamperCase{"flip_checkpoint_signature_byte",
                   [](sqlite3* db, SqliteAuditStore&) {
                     FlipByte(db, "checkpoints", 3000, "signature");
                   },
                   VerifyReport::BAD_SIGNATURE, 3000}),
    [](const ::testing::TestParamInfo<TamperCase>& info) {
      return std::string(info.param.name);
    });

// Offline verification of exports.

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

void WriteLines(const std::string& path,
                const std::vector<std::string>& lines) {
  std::ofstream out(path, std::ios::trunc);
  for (const std::string& line : lines) out << line << "\n";
}

// Returns the index of the record line for `sequence`.
size_t RecordLine(const std::vector<std::string>& lines, uint64_t sequence) {
  const std::string needle = absl::StrCat("\"sequence\":\"", sequence, "\"");
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!IsCheckpointLine(lines[i]) &&
        lines[i].find(needle) != std::string::npos) {
      return i;
    }
  }
  ADD_FAILURE() << "no record line " << sequence;
  return 0;
}

size_t CheckpointLine(const std::vector<std::string>& lines,
                      uint64_t sequence) {
  const std::string needle = absl::StrCat("\"sequence\":\"", sequence, "\"");
  for (size_t i = 0; i < lines.size(); ++i) {
    if (IsCheckpointLine(lines[i]) &&
        lines[i].find(needle) != std::string::npos) {
      return i;
    }
  }
  ADD_FAILURE() << "no checkpoint line " << sequence;
  return 0;
}

class ExportTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kExported = 5300;  // Checkpoints 1000..5000, 5300.

  void SetUp() override {
    AuditLog::Options options = TestOptions(dir_);
    auto log = AuditLog::Open(options);
    ASSERT_THAT(log, IsOk());
    log_ = *std::move(log);
    ASSERT_THAT(AppendMany(*log_, 1, kExported), IsOk());
    ASSERT_THAT(log_->Close(), IsOk());
    path_ = dir_.File("export.jsonl");
    ASSERT_THAT(ExportToFile(log_->store(), absl::InfinitePast(), path_),
                IsOk());
    lines_ = ReadLines(path_);
  }

  VerifyReport VerifyLines(const std::vector<std::string>& lines) {
    const std::string path = dir_.File("tampered.jsonl");
    WriteLines(path, lines);
    auto report = VerifyExportFile(path, log_->public_key());
    EXPECT_THAT(report, IsOk());
    return report.ok() ? *report : VerifyReport();
  }

  ScratchDir dir_;
  std::unique_ptr<AuditLog> log_;
  std::string path_;
  std::vector<std::string> lines_;
};

TEST_F(ExportTest, WholeExportVerifiesOffline) {
  ASSERT_EQ(lines_.size(), kExported + 6);
  for (size_t i = 0; i < 6; ++i) EXPECT_TRUE(IsCheckpointLine(lines_[i]));
  auto report = VerifyExportFile(path_, log_->public_key());
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->intact()) << report->DebugString();
  EXPECT_EQ(report->records_checked(), kExported);
  EXPECT_EQ(report->checkpoints_checked(), 6u);
  EXPECT_EQ(report->last_checkpoint_sequence(), kExported);
}

TEST_F(ExportTest, ExportSinceATimeVerifiesOnItsOwn) {
  const AuditRecord from = ReadRecord(log_->store(), 2500);
  // Records are appended in order, so times only grow; start at 2500's.
  const std::string path = dir_.File("since.jsonl");
  ASSERT_THAT(ExportToFile(log_->store(), FromProtoTime(from.time()), path),
              IsOk());
  auto report = VerifyExportFile(path, log_->public_key());
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->intact()) << report->DebugString();
  const std::vector<std::string> lines = ReadLines(path);
  ASSERT_FALSE(lines.empty());
  // Records with the same time as 2500 may come just before it.
  EXPECT_GE(report->records_checked(), kExported - 2500 + 1);
  EXPECT_LT(report->records_checked(), kExported);
  EXPECT_EQ(report->checkpoints_checked(), 4u);  // 3000, 4000, 5000, 5300.
}

TEST_F(ExportTest, MissingFileIsNotFound) {
  EXPECT_THAT(
      VerifyExportFile(dir_.File("missing.jsonl"), log_->public_key()),
      lienthong::testing::StatusIs(absl::StatusCode::kNotFound, ::testing::_));
}

TEST_F(ExportTest, TamperingWithTheFileIsCaught) {
  struct Case {
    const char* name;
    std::function<void(std::vector<std::string>&)> tamper;
    VerifyReport::Problem problem;
    uint64_t first_bad_sequence;
  };
  const Case cases[] = {
      {"edit a field",
       [](std::vector<std::string>& lines) {
         std::string& line = lines[RecordLine(lines, 1234)];
         const size_t at = line.find("\"dossier_id\":\"000.");
         ASSERT_NE(at, std::string::npos);
         line[at + 15] = '1';
       },
       VerifyReport::EDITED, 1234},
      {"garble a line",
       [](std::vector<std::string>& lines) {
         lines[RecordLine(lines, 777)] = "{\"type\":\"record\",\"sequence\":";
       },
       VerifyReport::EDITED, 777},
      {"delete a line",
       [](std::vector<std::string>& lines) {
         lines.erase(lines.begin() + RecordLine(lines, 2000));
       },
       VerifyReport::DELETED, 2000},
      {"swap two lines",
       [](std::vector<std::string>& lines) {
         std::swap(lines[RecordLine(lines, 3000)],
                   lines[RecordLine(lines, 3100)]);
       },
       VerifyReport::REORDERED, 3000},
      {"duplicate a line",
       [](std::vector<std::string>& lines) {
         const size_t at = RecordLine(lines, 4000);
         lines.insert(lines.begin() + at + 1, lines[at]);
       },
       VerifyReport::INSERTED, 4000},
      {"cut the end",
       [](std::vector<std::string>& lines) {
         lines.resize(RecordLine(lines, 4500) + 1);
       },
       VerifyReport::TRUNCATED, 4501},
      {"cut the first records",
       [](std::vector<std::string>& lines) {
         lines.erase(lines.begin() + RecordLine(lines, 1),
                     lines.begin() + RecordLine(lines, 1501));
       },
       VerifyReport::DELETED, 1500},
      {"flip a checkpoint signature",
       [](std::vector<std::string>& lines) {
         std::string& line = lines[CheckpointLine(lines, 2000)];
         const size_t at = line.find("\"signature\":\"");
         ASSERT_NE(at, std::string::npos);
         char& c = line[at + 20];
         c = c == '0' ? '1' : '0';
       },
       VerifyReport::BAD_SIGNATURE, 2000},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<std::string> lines = lines_;
    c.tamper(lines);
    const VerifyReport report = VerifyLines(lines);
    EXPECT_FALSE(report.intact());
    EXPECT_EQ(VerifyReport::Problem_Name(report.problem()),
              VerifyReport::Problem_Name(c.problem))
        << report.detail();
    EXPECT_EQ(report.first_bad_sequence(), c.first_bad_sequence)
        << report.detail();
  }
}

}  // namespace
}  // namespace lienthong::audit
