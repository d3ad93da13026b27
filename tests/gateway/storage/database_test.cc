#include "gateway/storage/database.h"

#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include "absl/functional/function_ref.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/scratch_dir.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::storage {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::IsOkAndHolds;
using ::lienthong::testing::StatusIs;
using ::testing::AllOf;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Optional;

enum class State { kPending = 0, kInFlight = 1, kDone = 2, kDead = 3 };
constexpr State kStates[] = {State::kPending, State::kInFlight, State::kDone,
                             State::kDead};

// A fresh file name per test; the files are removed at the end.
class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    path_ = absl::StrCat(::testing::TempDir(), "/storage-", getpid(), "-",
                         counter++, ".db");
    Remove();
  }
  void TearDown() override { Remove(); }
  void Remove() {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::remove(absl::StrCat(path_, suffix).c_str());
    }
  }

  std::unique_ptr<Database> OpenOrDie(OpenOptions options = {}) {
    options.label = "test store";
    auto db = Database::Open(path_, options);
    EXPECT_THAT(db, IsOk());
    return db.ok() ? *std::move(db) : nullptr;
  }

  static int ModeOf(const std::string& path) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return -1;
    return static_cast<int>(st.st_mode & 0777);
  }

  std::string path_;
};

TEST_F(DatabaseTest, NewFilesAndTheirWalAndShmAreOwnerOnly) {
  auto db = OpenOrDie();
  ASSERT_NE(db, nullptr);
  ASSERT_THAT(db->Exec("CREATE TABLE t(x INTEGER)"), IsOk());
  ASSERT_THAT(db->Exec("INSERT INTO t VALUES (1)"), IsOk());
  // The -wal and -shm files exist while the connection is open.
  EXPECT_EQ(ModeOf(path_), 0600);
  EXPECT_EQ(ModeOf(path_ + "-wal"), 0600);
  EXPECT_EQ(ModeOf(path_ + "-shm"), 0600);
}

TEST_F(DatabaseTest, AnExistingFileReadableByOthersIsNarrowed) {
  { std::ofstream create(path_); }
  ASSERT_EQ(::chmod(path_.c_str(), 0644), 0);
  auto db = OpenOrDie();
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(ModeOf(path_), 0600);
}

TEST_F(DatabaseTest, MissingFileIsNotFoundWhenItMayNotBeCreated) {
  OpenOptions read_only;
  read_only.read_only = true;
  EXPECT_THAT(Database::Open(path_, read_only),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(path_)));
  OpenOptions no_create;
  no_create.create = false;
  EXPECT_THAT(Database::Open(path_, no_create),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("does not exist")));
  EXPECT_NE(::access(path_.c_str(), F_OK), 0);
}

TEST_F(DatabaseTest, AFileThatIsNotADatabaseIsRefusedOnOpen) {
  {
    std::ofstream out(path_);
    out << "this is a config file, not SQLite\n" << std::string(4096, 'x');
  }
  OpenOptions options;
  options.label = "test store";
  EXPECT_THAT(Database::Open(path_, options),
              StatusIs(absl::StatusCode::kUnavailable,
                       AllOf(HasSubstr("test store"),
                             HasSubstr("not a database"))));
  options.read_only = true;
  EXPECT_THAT(Database::Open(path_, options),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("not a database")));
}

TEST_F(DatabaseTest, AFolderIsNotADatabase) {
  OpenOptions options;
  EXPECT_THAT(Database::Open(::testing::TempDir(), options),
              StatusIs(absl::StatusCode::kUnavailable, ::testing::_));
}

TEST_F(DatabaseTest, TypedBindsAndColumnsRoundTrip) {
  auto db = OpenOrDie();
  ASSERT_NE(db, nullptr);
  ASSERT_THAT(db->Exec("CREATE TABLE t(i INTEGER, s TEXT, b BLOB, o TEXT, "
                       "st INTEGER)"),
              IsOk());
  const std::string blob("\0\x01\xff binary", 11);
  {
    auto ins = db->Prepare("INSERT INTO t VALUES (?,?,?,?,?)");
    ASSERT_THAT(ins, IsOk());
    std::string text = "Nguyễn Văn An";
    ins->Bind(1, int64_t{1} << 40).Bind(2, text).BindBlob(3, blob)
        .Bind(4, std::optional<std::string>()).Bind(5, State::kDead);
    text = "overwritten after binding";  // Bind copies.
    ASSERT_THAT(ins->Run(), IsOk());
    EXPECT_EQ(db->Changes(), 1);
    EXPECT_EQ(db->LastInsertId(), 1);
  }
  auto q = db->Prepare("SELECT i, s, b, o, st FROM t");
  ASSERT_THAT(q, IsOk());
  ASSERT_THAT(q->Step(), IsOkAndHolds(true));
  EXPECT_EQ(q->Int64(0), int64_t{1} << 40);
  EXPECT_EQ(q->Text(1), "Nguyễn Văn An");
  EXPECT_EQ(q->Blob(2), blob);
  EXPECT_TRUE(q->IsNull(3));
  EXPECT_EQ(q->OptionalText(3), std::nullopt);
  EXPECT_THAT(q->OptionalText(1), Optional(Eq("Nguyễn Văn An")));
  EXPECT_THAT(q->Enum(4, kStates), IsOkAndHolds(State::kDead));
  ASSERT_THAT(q->Step(), IsOkAndHolds(false));
}

TEST_F(DatabaseTest, AStoredNumberThatIsNoStateIsDataLoss) {
  auto db = OpenOrDie();
  ASSERT_NE(db, nullptr);
  ASSERT_THAT(db->Exec("CREATE TABLE t(state INTEGER); "
                       "INSERT INTO t VALUES (7)"),
              IsOk());
  auto q = db->Prepare("SELECT state FROM t");
  ASSERT_THAT(q, IsOk());
  ASSERT_THAT(q->Step(), IsOkAndHolds(true));
  EXPECT_THAT(q->Enum(0, kStates),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("'state'"), HasSubstr("7"))));
}

TEST_F(DatabaseTest, EnumsSelectRowsWithoutNumbersInTheSql) {
  auto db = OpenOrDie();
  ASSERT_NE(db, nullptr);
  ASSERT_THAT(db->Exec("CREATE TABLE t(id INTEGER, state INTEGER)"), IsOk());
  for (int id = 0; id < 8; ++id) {
    auto ins = db->Cached("INSERT INTO t VALUES (?, ?)");
    ASSERT_THAT(ins, IsOk());
    ASSERT_THAT(ins->Bind(1, id).Bind(2, kStates[id % 4]).Run(), IsOk());
  }
  auto q = db->Prepare("SELECT id FROM t WHERE state = ? ORDER BY id");
  ASSERT_THAT(q, IsOk());
  q->Bind(1, State::kDone);
  std::vector<int64_t> ids;
  ASSERT_THAT(q->ForEachRow([&] {
    ids.push_back(q->Int64(0));
    return true;
  }),
              IsOk());
  EXPECT_THAT(ids, ::testing::ElementsAre(2, 6));
}

TEST_F(DatabaseTest, CachedStatementsAreResetAndUnboundWhenDropped) {
  auto db = OpenOrDie();
  ASSERT_NE(db, nullptr);
  ASSERT_THAT(db->Exec("CREATE TABLE t(x TEXT)"), IsOk());
  {
    auto ins = db->Cached("INSERT INTO t VALUES (?)");
    ASSERT_THAT(ins, IsOk());
    ASSERT_THAT(ins->Bind(1, "first").Run(), IsOk());
  }
  {
    // The same statement again: the earlier binding is gone (NULL).
    auto ins = db->Cached("INSERT INTO t VALUES (?)");
    ASSERT_THAT(ins, IsOk());
    ASSERT_THAT(ins->Run(), IsOk());
  }
  auto q = db->Prepare("SELECT count(*), count(x) FROM t");
  ASSERT_THAT(q, IsOk());
  ASSERT_THAT(q->Step(), IsOkAndHolds(true));
  EXPECT_EQ(q->Int(0), 2);
  EXPECT_EQ(q->Int(1), 1);
}

TEST_F(DatabaseTest, ErrorsNameTheOperationButNeverABoundValue) {
  auto db = OpenOrDie();
  ASSERT_NE(db, nullptr);
  ASSERT_THAT(db->Exec("CREATE TABLE t(id TEXT PRIMARY KEY)"), IsOk());
  const std::string kCitizenId = "033085012345";
  for (int i = 0; i < 2; ++i) {
    auto ins = db->Prepare("INSERT INTO t VALUES (?)");
    ASSERT_THAT(ins, IsOk());
    absl::Status status = ins->Bind(1, kCitizenId).Run();
    if (i == 0) {
      ASSERT_THAT(status, IsOk());
    } else {
      EXPECT_THAT(status,
                  StatusIs(absl::StatusCode::kUnavailable,
                           AllOf(HasSubstr("test store: step"),
                                 HasSubstr("UNIQUE constraint failed: t.id"),
                                 Not(HasSubstr(kCitizenId)))));
    }
  }
  EXPECT_THAT(db->Prepare("SELEC nonsense"),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("test store: prepare \"SELEC nonsense\"")));
}

TEST_F(DatabaseTest, TransactionsRollBackUnlessCommitted) {
  auto db = OpenOrDie();
  ASSERT_NE(db, nullptr);
  ASSERT_THAT(db->Exec("CREATE TABLE t(x INTEGER)"), IsOk());
  auto count = [&db] {
    auto q = db->Prepare("SELECT count(*) FROM t");
    return q.ok() && q->Step().value_or(false) ? q->Int(0) : -1;
  };
  // An early return after a write: the write is undone.
  auto write_then_fail = [&db]() -> absl::Status {
    auto txn = Transaction::Begin(*db);
    if (!txn.ok()) return txn.status();
    if (absl::Status s = db->Exec("INSERT INTO t VALUES (1)"); !s.ok()) return s;
    return db->Exec("INSERT INTO missing VALUES (2)");
  };
  EXPECT_THAT(write_then_fail(), StatusIs(absl::StatusCode::kUnavailable,
                                          HasSubstr("no such table")));
  EXPECT_TRUE(db->InAutocommit());
  EXPECT_EQ(count(), 0);
  {
    auto txn = Transaction::Begin(*db);
    ASSERT_THAT(txn, IsOk());
    ASSERT_THAT(db->Exec("INSERT INTO t VALUES (1)"), IsOk());
    EXPECT_FALSE(db->InAutocommit());
    ASSERT_THAT(txn->Commit(), IsOk());
  }
  EXPECT_EQ(count(), 1);
  // A moved-from transaction does not roll back its successor's work.
  {
    auto txn = Transaction::Begin(*db);
    ASSERT_THAT(txn, IsOk());
    Transaction moved = *std::move(txn);
    ASSERT_THAT(db->Exec("INSERT INTO t VALUES (2)"), IsOk());
    ASSERT_THAT(moved.Commit(), IsOk());
  }
  EXPECT_EQ(count(), 2);
}

TEST_F(DatabaseTest, ASecondWriterWaitsForTheLockUpToItsBusyTimeout) {
  OpenOptions patient;
  patient.busy_timeout = absl::Seconds(30);
  auto first = OpenOrDie(patient);
  ASSERT_NE(first, nullptr);
  ASSERT_THAT(first->Exec("CREATE TABLE t(x INTEGER)"), IsOk());
  OpenOptions impatient;
  impatient.busy_timeout = absl::Milliseconds(50);
  auto second = OpenOrDie(impatient);
  auto third = OpenOrDie(patient);
  ASSERT_NE(second, nullptr);
  ASSERT_NE(third, nullptr);

  auto held = Transaction::Begin(*first);
  ASSERT_THAT(held, IsOk());
  ASSERT_THAT(first->Exec("INSERT INTO t VALUES (1)"), IsOk());

  // Past its timeout, a writer gives up with UNAVAILABLE.
  const absl::Time start = absl::Now();
  EXPECT_THAT(Transaction::Begin(*second),
              StatusIs(absl::StatusCode::kUnavailable,
                       AllOf(HasSubstr("test store: begin"),
                             HasSubstr("locked"))));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(40));

  // Readers are not blocked by the writer (WAL) and see the last commit.
  OpenOptions reader_options;
  reader_options.read_only = true;
  auto reader = OpenOrDie(reader_options);
  ASSERT_NE(reader, nullptr);
  auto q = reader->Prepare("SELECT count(*) FROM t");
  ASSERT_THAT(q, IsOk());
  ASSERT_THAT(q->Step(), IsOkAndHolds(true));
  EXPECT_EQ(q->Int(0), 0);

  // A patient writer gets the lock once the first commits.
  absl::Notification waiting;
  absl::Status third_result;
  std::thread writer([&] {
    waiting.Notify();
    auto txn = Transaction::Begin(*third);
    third_result = txn.ok() ? third->Exec("INSERT INTO t VALUES (2)")
                            : txn.status();
    if (third_result.ok()) third_result = txn->Commit();
  });
  waiting.WaitForNotification();
  // Hold the lock a moment longer, so that the writer is most likely
  // inside its busy wait (it succeeds either way).
  absl::SleepFor(absl::Milliseconds(100));
  ASSERT_THAT(held->Commit(), IsOk());
  writer.join();
  EXPECT_THAT(third_result, IsOk());
  auto total = first->Prepare("SELECT count(*) FROM t");
  ASSERT_THAT(total, IsOk());
  ASSERT_THAT(total->Step(), IsOkAndHolds(true));
  EXPECT_EQ(total->Int(0), 2);
}

TEST_F(DatabaseTest, ReadOnlyConnectionsCannotWrite) {
  {
    auto db = OpenOrDie();
    ASSERT_NE(db, nullptr);
    ASSERT_THAT(db->Exec("CREATE TABLE t(x INTEGER)"), IsOk());
  }
  OpenOptions options;
  options.read_only = true;
  auto reader = OpenOrDie(options);
  ASSERT_NE(reader, nullptr);
  EXPECT_THAT(reader->Exec("INSERT INTO t VALUES (1)"),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("readonly")));
}

TEST_F(DatabaseTest, CheckOpenableSaysWhatOpenWouldWithoutCreating) {
  OpenOptions options;
  options.label = "test store";
  // Missing, in a folder that exists: Open would create it.
  EXPECT_THAT(CheckOpenable(path_, options), IsOk());
  EXPECT_NE(::access(path_.c_str(), F_OK), 0);
  OpenOptions no_create = options;
  no_create.create = false;
  EXPECT_THAT(CheckOpenable(path_, no_create),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
  // In folders still to be made: only with create_folders.
  const std::string nested = path_ + ".d/a/b/store.db";
  EXPECT_THAT(CheckOpenable(nested, options),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("is not a folder")));
  options.create_folders = true;
  EXPECT_THAT(CheckOpenable(nested, options), IsOk());
  EXPECT_NE(::access((path_ + ".d").c_str(), F_OK), 0);
  // Under a file, no folder can be made.
  { std::ofstream file(path_ + ".file"); }
  EXPECT_THAT(CheckOpenable(path_ + ".file/x/store.db", options),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("is not a folder")));
  std::remove((path_ + ".file").c_str());
  // An existing file is opened read-only: a database passes, else not.
  { auto db = OpenOrDie(); }
  EXPECT_THAT(CheckOpenable(path_, options), IsOk());
  Remove();
  {
    std::ofstream out(path_);
    out << std::string(4096, 'x');
  }
  EXPECT_THAT(CheckOpenable(path_, options),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("not a database")));
}

// Runs `check` as a user whom file modes restrict: this process, unless it
// is root (root may write any file, so CI running as root would prove
// nothing); then a child that became nobody (65534), whose Status comes
// back through a pipe.
absl::Status AsUnprivileged(absl::FunctionRef<absl::Status()> check) {
  if (::geteuid() != 0) return check();
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return absl::InternalError("pipe failed");
  const pid_t pid = ::fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    ::close(pipe_fds[0]);
    absl::Status status =
        ::setgroups(0, nullptr) == 0 && ::setgid(65534) == 0 &&
                ::setuid(65534) == 0
            ? check()
            : absl::InternalError(
                  absl::StrCat("cannot become nobody: ", std::strerror(errno)));
    const std::string out =
        absl::StrCat(static_cast<int>(status.code()), " ", status.message());
    (void)!::write(pipe_fds[1], out.data(), out.size());
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string out;
  char buffer[512];
  ssize_t n;
  while ((n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0) {
    out.append(buffer, static_cast<size_t>(n));
  }
  ::close(pipe_fds[0]);
  int wait_status = 0;
  ::waitpid(pid, &wait_status, 0);
  const size_t space = out.find(' ');
  int code = 0;
  if (space == std::string::npos ||
      !absl::SimpleAtoi(out.substr(0, space), &code)) {
    return absl::InternalError(absl::StrCat(
        "the unprivileged child said nothing (wait status ", wait_status, ")"));
  }
  return absl::Status(static_cast<absl::StatusCode>(code),
                      out.substr(space + 1));
}

// A store file the gateway's user may read but not write (restored from a
// backup as root's, mode 0644): SQLite opens it read-only without an
// error, and Open and CheckOpenable must refuse it rather than let every
// write fail later. Reading it is still fine.
TEST_F(DatabaseTest, AFileThatCannotBeWrittenIsRefusedForWriting) {
  const bool root = ::geteuid() == 0;
  ::lienthong::testing::ScratchDir dir("storage-ro");
  ASSERT_FALSE(dir.path().empty());
  // The child that became nobody must reach the folder and make files in
  // it (-shm for the read-only open), so only the file's mode stops it.
  ASSERT_EQ(::chmod(dir.path().c_str(), 0777), 0);
  const std::string file = dir.File("store.db");
  OpenOptions options;
  options.label = "test store";
  {
    auto db = Database::Open(file, options);
    ASSERT_THAT(db, IsOk());
    ASSERT_THAT((*db)->Exec("CREATE TABLE t(x INTEGER)"), IsOk());
  }
  // Root's 0644 file, as nobody; or our own file with 0400 (with group or
  // other bits, Open would narrow our own file to a writable 0600).
  ASSERT_EQ(::chmod(file.c_str(), root ? 0644 : 0400), 0);

  EXPECT_THAT(
      AsUnprivileged([&] { return Database::Open(file, options).status(); }),
      StatusIs(absl::StatusCode::kUnavailable,
               AllOf(HasSubstr("test store: '" + file + "' is not writable ("),
                     HasSubstr("Permission denied"))));
  EXPECT_THAT(AsUnprivileged([&] { return CheckOpenable(file, options); }),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("' is not writable (Permission denied")));
  OpenOptions read_only = options;
  read_only.read_only = true;
  EXPECT_THAT(AsUnprivileged([&] {
                auto db = Database::Open(file, read_only);
                return db.ok() ? CheckOpenable(file, read_only) : db.status();
              }),
              IsOk());
}

// SQLite makes the -wal and -shm files beside the database, so --check
// refuses a writable file in a folder the user cannot write.
TEST_F(DatabaseTest, CheckOpenableRefusesAFolderThatCannotBeWritten) {
  const bool root = ::geteuid() == 0;
  ::lienthong::testing::ScratchDir dir("storage-ro");
  ASSERT_FALSE(dir.path().empty());
  ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
  const std::string folder = dir.File("locked");
  const std::string file = folder + "/store.db";
  ASSERT_EQ(::mkdir(folder.c_str(), 0700), 0);
  OpenOptions options;
  options.label = "test store";
  {
    auto db = Database::Open(file, options);
    ASSERT_THAT(db, IsOk());
  }
  ASSERT_EQ(::chmod(file.c_str(), root ? 0666 : 0600), 0);
  ASSERT_EQ(::chmod(folder.c_str(), root ? 0755 : 0500), 0);
  EXPECT_THAT(AsUnprivileged([&] { return CheckOpenable(file, options); }),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("is not writable (its folder '" + folder +
                                 "' is not writable")));
  // ScratchDir removes the folder's content only when it may.
  ::chmod(folder.c_str(), 0700);
}

// What a journal folder or an anchor file needs, checked without making
// anything: missing ones by the nearest folder above them, existing ones by
// their kind and mode.
TEST_F(DatabaseTest, CheckCreatableSaysWhatMakingThePathWouldMeet) {
  ::lienthong::testing::ScratchDir dir("storage-creatable");
  ASSERT_FALSE(dir.path().empty());
  ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
  const std::string deep = dir.File("a/b/journal");
  EXPECT_THAT(CheckCreatable(deep, PathKind::kFolder, "audit journal"), IsOk());
  EXPECT_THAT(CheckCreatable(dir.File("a/anchors.jsonl"), PathKind::kFile,
                             "anchor file"),
              IsOk());
  EXPECT_NE(::access(dir.File("a").c_str(), F_OK), 0);
  // Under a file nothing can be made; a file is no folder, nor the reverse.
  { std::ofstream file(dir.File("plain")); }
  EXPECT_THAT(CheckCreatable(dir.File("plain/journal"), PathKind::kFolder,
                             "audit journal"),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("audit journal: cannot create '" +
                                 dir.File("plain/journal") + "': '" +
                                 dir.File("plain") + "' is not a folder")));
  EXPECT_THAT(
      CheckCreatable(dir.File("plain"), PathKind::kFolder, "audit journal"),
      StatusIs(absl::StatusCode::kUnavailable, HasSubstr("is not a folder")));
  EXPECT_THAT(CheckCreatable(dir.path(), PathKind::kFile, "anchor file"),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("is a folder, not a file")));
  EXPECT_THAT(CheckCreatable(dir.File("plain"), PathKind::kFile, "anchor file"),
              IsOk());
  // A folder this user cannot write, existing or above a missing path.
  const std::string locked = dir.File("locked");
  ASSERT_EQ(::mkdir(locked.c_str(), 0755), 0);
  const bool root = ::geteuid() == 0;
  if (!root) {
    ASSERT_EQ(::chmod(locked.c_str(), 0500), 0);
  }
  EXPECT_THAT(AsUnprivileged([&] {
                return CheckCreatable(locked, PathKind::kFolder,
                                      "audit journal");
              }),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("audit journal: '" + locked +
                                 "' is not writable (Permission denied")));
  EXPECT_THAT(
      AsUnprivileged([&] {
        return CheckCreatable(locked + "/x/anchors.jsonl", PathKind::kFile,
                              "anchor file");
      }),
      StatusIs(absl::StatusCode::kUnavailable,
               HasSubstr("the folder '" + locked + "' is not writable")));
  ::chmod(locked.c_str(), 0700);
}

// The bytes of a row deleted with secure_delete are gone from the file;
// with it off, they stay in the page's free space. (Both ways, as SQLite's
// default differs between builds.)
TEST_F(DatabaseTest, SecureDeleteZeroesDeletedContent) {
  const std::string marker = "0912345678-Nguyen-Van-An";
  for (bool secure : {false, true}) {
    Remove();
    OpenOptions options;
    options.wal = false;  // the file alone holds the pages once committed
    options.secure_delete = secure;
    {
      auto db = OpenOrDie(options);
      ASSERT_NE(db, nullptr);
      ASSERT_THAT(db->Exec("CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT)"),
                  IsOk());
      auto ins = db->Prepare("INSERT INTO t(v) VALUES (?), ('kept')");
      ASSERT_THAT(ins, IsOk());
      ASSERT_THAT(ins->Bind(1, marker).Run(), IsOk());
      ASSERT_THAT(db->Exec("DELETE FROM t WHERE v<>'kept'"), IsOk());
    }
    std::ifstream in(path_, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)),
                            std::istreambuf_iterator<char>());
    ASSERT_NE(bytes.find("kept"), std::string::npos);
    EXPECT_EQ(bytes.find(marker) != std::string::npos, !secure)
        << "secure_delete=" << secure;
  }
}

TEST_F(DatabaseTest, MissingFoldersAreMadeOwnerOnly) {
  const std::string folder = path_ + ".folders";
  OpenOptions options;
  options.create_folders = true;
  auto db = Database::Open(folder + "/a/store.db", options);
  ASSERT_THAT(db, IsOk());
  EXPECT_EQ(ModeOf(folder), 0700);
  EXPECT_EQ(ModeOf(folder + "/a"), 0700);
  EXPECT_EQ(ModeOf(folder + "/a/store.db"), 0600);
  db->reset();
  std::system(absl::StrCat("rm -rf ", folder).c_str());
}

}  // namespace
}  // namespace lienthong::storage
