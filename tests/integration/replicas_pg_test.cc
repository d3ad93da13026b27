// Three gateway replicas on one PostgreSQL (portal_sync.store: postgres), the
// real processes over mutual TLS, in front of one lienthong-sim process:
//
// - 10,000 dossier status updates (2,000 dossiers x 5 statuses, the first
//   carrying the registration) are pushed, batch by batch, to whichever
//   replica is next, while one replica at a time is killed with SIGKILL and
//   restarted (at least 10 kills) and PostgreSQL itself is stopped once
//   (then /readyz says why, the PortalSyncService's health is NOT_SERVING
//   and a push fails UNAVAILABLE) and started again;
// - every acknowledged update is applied once at the simulated portal, each
//   dossier's registration before its statuses, in order;
// - the items a killed replica held in flight are delivered by the others
//   within the lease (plus a poll and a delivery), measured per kill.
//
// And a gateway started while PostgreSQL is down starts not ready, refuses
// pushes with UNAVAILABLE, and takes and delivers them once it is back.
//
// Skipped (GTEST_SKIP) only when PostgreSQL 15's initdb is not installed.
// Figures (push and delivery rates, takeover times) are printed.
#include <curl/curl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gateway/storage/pg/pg_pool.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "lienthong/v1/portal.grpc.pb.h"
#include "tests/integration/gateway_env.h"  // NewTestDir
#include "tests/integration/gateway_process.h"
#include "tests/integration/join_on_exit.h"
#include "tests/testing/pg_server.h"

namespace lienthong::testing {
namespace {

using ::lienthong::v1::DossierStatus;
using ::lienthong::v1::PortalSyncService;

constexpr int kReplicas = 3;
constexpr int kDossiers = 2000;
constexpr int kSteps = 5;
constexpr int kBatch = 100;
constexpr int kProcedures = 10;
constexpr int kLeaseSeconds = 4;
constexpr int kMinKills = 10;
constexpr DossierStatus kLife[] = {
    lienthong::v1::NEW, lienthong::v1::ACCEPTED, lienthong::v1::PROCESSING,
    lienthong::v1::FINISHED, lienthong::v1::RESULT_RETURNED};
constexpr int64_t kDay = 1752537600;  // 2025-07-15 00:00 UTC
// What /readyz says while the outbox's database is away (the reason is in
// the gateway's log, not on the network).
constexpr absl::string_view kSyncNotReady =
    "not ready: lienthong.v1.PortalSyncService unavailable";

std::string Dossier(int n) {
  return absl::StrFormat("000.00.02.H31-250715-%05d", n);
}
std::string ProcedureCode(int n) {
  return absl::StrFormat("1.%06d.000.00.00.H31", 1000 + n);
}

lienthong::v1::DossierStatusUpdate Update(int d, int step) {
  lienthong::v1::DossierStatusUpdate u;
  u.set_dossier_code(Dossier(d));
  u.set_procedure_code(ProcedureCode(d % kProcedures));
  u.set_status(kLife[step]);
  u.mutable_time()->set_seconds(kDay + d + step * 60);
  u.set_handler("Cán bộ một cửa");
  if (step == 0) {
    lienthong::v1::DossierRegistration& r = *u.mutable_registration();
    r.set_procedure_name("Đăng ký khai sinh");
    r.set_field_code("G09-TP05");
    r.set_field_name("Hộ tịch");
    r.mutable_applicant()->set_name(absl::StrCat("Lê Thị Bản Sao ", d));
    r.mutable_applicant()->set_type(lienthong::v1::APPLICANT_CITIZEN);
    r.set_summary("Hồ sơ thử nghiệm");
    *r.mutable_received() = u.time();
    r.set_handling_unit("UBND xã Tân Hưng");
  }
  return u;
}

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// GET https://127.0.0.1:<sim>/<path> from the simulator's control endpoint.
std::string SimGet(int port, const std::string& path) {
  CURL* curl = curl_easy_init();
  const std::string url = absl::StrCat("https://127.0.0.1:", port, path);
  const std::string ca = TestCert("ca.pem");
  std::string answer;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CAINFO, ca.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 20000L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
  curl_easy_perform(curl);
  curl_easy_cleanup(curl);
  return answer;
}

struct Applied {
  std::string kind, key, ma_ho_so;
  int trang_thai = 0;
};

std::vector<Applied> AppliedItems(int sim_port) {
  std::vector<Applied> items;
  const std::string answer = SimGet(sim_port, "/_sim/portal/applied");
  for (absl::string_view line : absl::StrSplit(answer, '\n', absl::SkipEmpty())) {
    google::protobuf::Struct json;
    if (!google::protobuf::util::JsonStringToMessage(
             google::protobuf::StringPiece(line.data(), line.size()), &json)
             .ok()) {
      ADD_FAILURE() << "unreadable applied line";
      continue;
    }
    const auto& f = json.fields();
    items.push_back({f.at("kind").string_value(),
                     f.at("idempotency_key").string_value(),
                     f.at("ma_ho_so").string_value(),
                     static_cast<int>(f.at("trang_thai").number_value())});
  }
  return items;
}

std::string ReplicaYaml(int replica, int sim_port, const std::string& dir) {
  return absl::StrCat(
      PortalGatewayYaml(absl::StrCat("replica-", replica), sim_port),
      absl::StrFormat(R"(clients:
  - id: spiffe://lienthong.local/dossier-system
    methods:
      - lienthong.v1.PortalSyncService/PushDossierStatus
portal_sync:
  adapter: portal
  outbox_key_file: %1$s/outbox.key
  max_in_flight: 16
  store: postgres
  postgres:
    pool_size: 4
    lease_seconds: %3$d
    poll_interval_ms: 100
admin:
  address: 127.0.0.1:0
audit:
  store_file: %1$s/replica-%2$d/audit.db
  # Small segments, and readiness not tied to the shared test machine's
  # free disk space: /readyz is checked here for the outbox store.
  segment_mib: 4
  min_free_mib: 1
logging:
  level: warning
)",
                      dir, replica, kLeaseSeconds));
}

class Replica {
 public:
  Replica(int index, int sim_port, std::string dir)
      : index_(index), sim_port_(sim_port), dir_(std::move(dir)) {}

  absl::Status Start() {
    ::mkdir(absl::StrCat(dir_, "/replica-", index_).c_str(), 0700);
    auto started = StartGatewayProcess(
        absl::StrCat(dir_, "/replica-", index_, ".yaml"),
        ReplicaYaml(index_, sim_port_, dir_),
        absl::StrCat(dir_, "/replica-", index_, ".log"));
    if (!started.ok()) return started.status();
    absl::MutexLock lock(&mu_);
    process_ = std::make_unique<RunningProcess>(*std::move(started));
    stub_ = PortalSyncService::NewStub(
        ClientChannel(process_->port, "dossier-system"));
    return absl::OkStatus();
  }

  void Kill() {
    std::unique_ptr<RunningProcess> dead;
    {
      absl::MutexLock lock(&mu_);
      dead = std::move(process_);
      stub_.reset();
    }
    if (dead != nullptr) dead->process.Stop(SIGKILL);
  }

  // The stub of the running process, or null while it is down.
  std::shared_ptr<PortalSyncService::Stub> stub() {
    absl::MutexLock lock(&mu_);
    return stub_;
  }
  int admin_port() {
    absl::MutexLock lock(&mu_);
    return process_ == nullptr ? 0 : process_->admin_port;
  }
  int port() {
    absl::MutexLock lock(&mu_);
    return process_ == nullptr ? 0 : process_->port;
  }
  std::string owner_prefix() const { return absl::StrCat("replica-", index_, "/"); }

 private:
  const int index_;
  const int sim_port_;
  const std::string dir_;
  absl::Mutex mu_;
  std::unique_ptr<RunningProcess> process_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<PortalSyncService::Stub> stub_ ABSL_GUARDED_BY(mu_);
};

struct Pushed {
  std::atomic<int64_t> accepted{0};
  std::atomic<int64_t> duplicates{0};
  std::atomic<int64_t> failed_attempts{0};
  std::atomic<int64_t> unavailable{0};
};

// Sends `batch` to replica (start, start+1, ...) until one acknowledges it
// or `give_up` passes (a failure: the replicas never took it). Returns
// without it once `abandon` is set (the test failed and is ending).
void PushUntilAcknowledged(std::vector<std::unique_ptr<Replica>>& replicas,
                           int start,
                           const lienthong::v1::PushDossierStatusRequest& batch,
                           Pushed& pushed, absl::Time give_up,
                           const std::atomic<bool>& abandon) {
  std::string last_error = "no replica running";
  for (int attempt = 0; !abandon; ++attempt) {
    if (absl::Now() > give_up) {
      ADD_FAILURE() << "no replica acknowledged a batch in time: "
                    << last_error;
      return;
    }
    auto stub = replicas[(start + attempt) % kReplicas]->stub();
    if (stub == nullptr) continue;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    lienthong::v1::PushDossierStatusResponse response;
    const grpc::Status status = stub->PushDossierStatus(&context, batch, &response);
    if (status.ok()) {
      pushed.accepted += response.accepted();
      pushed.duplicates += response.duplicates();
      return;
    }
    ++pushed.failed_attempts;
    last_error = status.error_message();
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE) ++pushed.unavailable;
    if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
        status.error_code() == grpc::StatusCode::FAILED_PRECONDITION ||
        status.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
      ADD_FAILURE() << status.error_message();
      return;
    }
    absl::SleepFor(absl::Milliseconds(20));  // the replica is down: next one
  }
}

std::string WriteSimCatalogue(const std::string& dir) {
  std::string json = "[";
  for (int i = 0; i < kProcedures; ++i) {
    absl::StrAppend(&json, i == 0 ? "" : ",", "{\"code\":\"", ProcedureCode(i),
                    "\",\"name\":\"Thủ tục số ", i + 1,
                    "\",\"field\":\"Hộ tịch\"}");
  }
  json += "]";
  const std::string path = dir + "/sim-catalogue.json";
  std::ofstream(path, std::ios::binary) << json;
  return path;
}

std::unique_ptr<storage::pg::Pool> TestPool(const std::string& dsn) {
  storage::pg::PoolOptions options;
  options.dsn = dsn;
  options.size = 1;
  auto pool = storage::pg::Pool::Create(options);
  EXPECT_TRUE(pool.ok()) << pool.status();
  return pool.ok() ? *std::move(pool) : nullptr;
}

// The ids of the items `owner_prefix` holds in flight, now.
std::vector<std::string> HeldBy(storage::pg::Pool& pool,
                                const std::string& owner_prefix) {
  std::vector<std::string> ids;
  // The pool's first query after PostgreSQL restarted meets its dropped
  // connection; the next one connects again.
  auto r = pool.Run("SELECT id FROM outbox_items WHERE state=1 AND "
                    "lease_owner LIKE $1",
                    {owner_prefix + "%"});
  for (int again = 0; !r.ok() && again < 3; ++again) {
    absl::SleepFor(absl::Milliseconds(100));
    r = pool.Run(
        "SELECT id FROM outbox_items WHERE state=1 AND "
        "lease_owner LIKE $1",
        {owner_prefix + "%"});
  }
  if (!r.ok()) {
    // Read as "held nothing", the kill's orphans would go unchecked.
    ADD_FAILURE() << "cannot read the items held by " << owner_prefix << ": "
                  << r.status();
    return ids;
  }
  for (int row = 0; row < r->rows(); ++row) ids.push_back(r->Text(row, 0));
  return ids;
}

struct Kill {
  absl::Time at;
  std::vector<std::string> held;
};

TEST(ReplicasOnPostgresTest, KillsAndARestartLoseNothingAndKeepOrder) {
  if (!PgServer::Installed()) {
    GTEST_SKIP() << "PostgreSQL 15 is not installed (no " << kPgBinDir
                 << "/initdb); apt-get install postgresql-15";
  }
  auto pg = PgServer::Start();
  ASSERT_TRUE(pg.ok()) << pg.status();
  const std::string dir = NewTestDir("replicas-pg");
  {
    std::string key(32, '\0');
    std::random_device random;
    for (char& c : key) c = static_cast<char>(random());
    std::ofstream(dir + "/outbox.key", std::ios::binary) << key;
    ::chmod((dir + "/outbox.key").c_str(), 0600);
  }
  ::setenv("LIENTHONG_PG_DSN", (*pg)->dsn().c_str(), 1);
  auto sim = StartSimProcess({"--portal-catalogue", WriteSimCatalogue(dir)});
  ASSERT_TRUE(sim.ok()) << sim.status();

  // A replica refuses a database that was not migrated; --migrate fixes it.
  {
    const std::string config = dir + "/migrate.yaml";
    std::ofstream(config) << ReplicaYaml(0, sim->port, dir);
    ::chmod(config.c_str(), 0600);
    auto refused = StartGatewayProcess(config, ReplicaYaml(0, sim->port, dir),
                                       dir + "/refused.log");
    EXPECT_FALSE(refused.ok());
    EXPECT_TRUE(WaitForFileLine(dir + "/refused.log", "--migrate",
                                absl::Seconds(5)));
    const absl::Status migrated =
        RunMigrate(config, ReplicaYaml(0, sim->port, dir), dir + "/migrate.log",
                   "outbox schema on PostgreSQL at version");
    ASSERT_TRUE(migrated.ok()) << migrated;
  }

  std::vector<std::unique_ptr<Replica>> replicas;
  for (int i = 0; i < kReplicas; ++i) {
    replicas.push_back(std::make_unique<Replica>(i, sim->port, dir));
    ASSERT_TRUE(replicas.back()->Start().ok());
  }
  auto pool = TestPool((*pg)->dsn());
  ASSERT_NE(pool, nullptr);

  // Pushers: three at once, round by round (a dossier's step after its
  // previous one is acknowledged), each batch to the next replica.
  Pushed pushed;
  std::atomic<bool> pushing{true};
  std::atomic<bool> abandon{false};
  const absl::Time push_start = absl::Now();
  // Bounds the run when the replicas cannot take pushes at all (a full disk
  // stops their audit logs): the test fails instead of hanging.
  const absl::Time give_up_pushing = push_start + absl::Seconds(150);
  absl::Time push_end;
  std::thread pusher([&] {
    for (int step = 0; step < kSteps && !abandon; ++step) {
      std::vector<lienthong::v1::PushDossierStatusRequest> batches;
      for (int d = 1; d <= kDossiers; d += kBatch) {
        auto& batch = batches.emplace_back();
        for (int i = d; i < d + kBatch && i <= kDossiers; ++i) {
          *batch.add_updates() = Update(i, step);
        }
      }
      std::atomic<size_t> taken{0};
      std::vector<std::thread> senders;
      for (int s = 0; s < kReplicas; ++s) {
        senders.emplace_back([&, s] {
          for (size_t b = taken++; b < batches.size() && !abandon;
               b = taken++) {
            PushUntilAcknowledged(replicas, s + static_cast<int>(b), batches[b],
                                  pushed, give_up_pushing, abandon);
            absl::SleepFor(absl::Milliseconds(400));  // so kills land mid-push
          }
        });
      }
      for (std::thread& t : senders) t.join();
    }
    push_end = absl::Now();
    pushing = false;
  });
  // On a failed ASSERT below, the pusher gives up and is joined.
  const JoinOnExit join_on_exit{pusher, abandon};

  // The killer: one replica at a time, SIGKILL and restart; PostgreSQL is
  // stopped once, in the middle, and started again.
  std::vector<Kill> kills;
  int kills_while_pushing = 0;
  std::string readyz_while_down;
  auto health_while_down = grpc::health::v1::HealthCheckResponse::UNKNOWN;
  bool push_refused_while_down = false;
  std::mt19937 rng(20251204);
  for (int k = 0; (pushing || k < kMinKills) && absl::Now() < give_up_pushing;
       ++k) {
    absl::SleepFor(absl::Milliseconds(1000));
    if (k == kMinKills / 2) {
      // The last kill's items are taken over first: a takeover needs the
      // database, so its time is measured apart from the outage.
      absl::SleepFor(absl::Seconds(kLeaseSeconds + 3));
      ASSERT_TRUE((*pg)->Stop().ok());
      const absl::Time give_up = absl::Now() + absl::Seconds(10);
      const int admin = replicas[0]->admin_port();
      do {
        readyz_while_down =
            HttpGet(absl::StrCat("http://127.0.0.1:", admin, "/readyz"));
      } while (!absl::StrContains(readyz_while_down, kSyncNotReady) &&
               absl::Now() < give_up &&
               (absl::SleepFor(absl::Milliseconds(50)), true));
      health_while_down =
          HealthOnceIs(replicas[0]->port(), "dossier-system",
                       PortalSyncService::service_full_name(),
                       grpc::health::v1::HealthCheckResponse::NOT_SERVING);
      lienthong::v1::PushDossierStatusRequest probe;
      *probe.add_updates() = Update(kDossiers + 1, 0);
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
      lienthong::v1::PushDossierStatusResponse response;
      auto stub = replicas[0]->stub();
      push_refused_while_down =
          stub != nullptr &&
          stub->PushDossierStatus(&context, probe, &response).error_code() ==
              grpc::StatusCode::UNAVAILABLE;
      ASSERT_TRUE((*pg)->Resume().ok());
    }
    const int victim = static_cast<int>(rng() % kReplicas);
    replicas[victim]->Kill();
    if (pushing) ++kills_while_pushing;
    Kill kill{absl::Now(), HeldBy(*pool, replicas[victim]->owner_prefix())};
    kills.push_back(std::move(kill));
    ASSERT_TRUE(replicas[victim]->Start().ok()) << "restart of " << victim;
  }
  pusher.join();
  const double push_seconds = absl::ToDoubleSeconds(push_end - push_start);

  // Everything delivered: each dossier's registration and its 5 statuses.
  const int64_t total = kDossiers * (kSteps + 1);
  const absl::Time give_up = absl::Now() + absl::Seconds(120);
  std::vector<Applied> applied;
  for (;;) {
    auto r = pool->Run("SELECT count(*) FROM outbox_items WHERE state<>2");
    if (r.ok() && r->Int64(0, 0) == 0) break;
    if (absl::Now() > give_up) break;
    absl::SleepFor(absl::Milliseconds(200));  // polling the store
  }
  const double all_seconds = absl::ToDoubleSeconds(absl::Now() - push_start);
  applied = AppliedItems(sim->port);

  EXPECT_GE(static_cast<int>(kills.size()), kMinKills);
  EXPECT_TRUE(absl::StrContains(readyz_while_down, kSyncNotReady))
      << readyz_while_down;
  EXPECT_EQ(health_while_down,
            grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  EXPECT_TRUE(push_refused_while_down);
  EXPECT_EQ(pushed.accepted + pushed.duplicates, kDossiers * kSteps);

  std::set<std::string> keys;
  std::map<std::string, std::vector<int>> statuses;
  for (const Applied& item : applied) {
    EXPECT_TRUE(keys.insert(item.key).second) << "applied twice: " << item.key;
    if (item.kind == "register_dossier") statuses[item.ma_ho_so].push_back(0);
    if (item.kind == "dossier_status") {
      statuses[item.ma_ho_so].push_back(item.trang_thai);
    }
  }
  EXPECT_EQ(static_cast<int64_t>(applied.size()), total);
  EXPECT_EQ(statuses.size(), static_cast<size_t>(kDossiers));
  const std::vector<int> kOrder = {0, 1, 2, 4, 9, 10};
  int out_of_order = 0;
  for (const auto& [code, seen] : statuses) {
    if (seen != kOrder && ++out_of_order <= 5) {
      ADD_FAILURE() << code << " arrived as " << absl::StrJoin(seen, ",");
    }
  }
  EXPECT_EQ(out_of_order, 0);

  // Takeover: each item a killed replica held was delivered by another
  // within the lease (+ a poll, a renewal tick and the delivery itself).
  // An item taken over by a replica killed in turn counts from the last
  // kill that left it behind.
  std::map<std::string, absl::Time> orphaned;
  for (const Kill& kill : kills) {
    for (const std::string& id : kill.held) orphaned[id] = kill.at;
  }
  absl::Duration worst = absl::ZeroDuration();
  const int held_total = static_cast<int>(orphaned.size());
  for (const auto& [id, killed_at] : orphaned) {
    {
      auto r = pool->Run("SELECT state, finished_at FROM outbox_items "
                         "WHERE id=$1",
                         {id});
      ASSERT_TRUE(r.ok()) << r.status();
      ASSERT_EQ(r->rows(), 1);
      EXPECT_EQ(r->Int64(0, 0), 2) << "item " << id;
      const absl::Duration took =
          absl::FromUnixMicros(r->Int64(0, 1)) - killed_at;
      worst = std::max(worst, took);
    }
  }
  // Kills while the replicas push catch items in flight (some hundred in a
  // run): none would leave the takeover above unchecked.
  EXPECT_GT(held_total, 0);
  EXPECT_GT(kills_while_pushing, 0);
  EXPECT_LE(worst, absl::Seconds(kLeaseSeconds) + absl::Seconds(3));
  auto counts = pool->Run("SELECT count(*) FILTER (WHERE state=3), "
                          "count(*) FILTER (WHERE state=1) FROM outbox_items");
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->Int64(0, 0), 0) << "dead letters";
  EXPECT_EQ(counts->Int64(0, 1), 0) << "left in flight";

  std::printf(
      "replicas on PostgreSQL: %d updates (%lld acknowledged, %lld "
      "duplicates on retry, %lld failed attempts, %lld UNAVAILABLE) pushed in "
      "%.1f s (%.0f/s) across %d replicas; %lld items applied at the portal "
      "%.1f s after the first push; %zu SIGKILLs (%d while pushing), "
      "PostgreSQL stopped and started once; %d items held by killed replicas, all delivered by "
      "others, the last %.2f s after its replica died (lease %d s)\n",
      kDossiers * kSteps, static_cast<long long>(pushed.accepted.load()),
      static_cast<long long>(pushed.duplicates.load()),
      static_cast<long long>(pushed.failed_attempts.load()),
      static_cast<long long>(pushed.unavailable.load()), push_seconds,
      kDossiers * kSteps / push_seconds, kReplicas,
      static_cast<long long>(applied.size()), all_seconds, kills.size(),
      kills_while_pushing, held_total, absl::ToDoubleSeconds(worst), kLeaseSeconds);
  for (auto& replica : replicas) replica->Kill();
}

// A gateway started while its database is down: it starts NOT ready
// (/readyz says why), a push fails UNAVAILABLE; once PostgreSQL is back
// (schema checked) a push is acknowledged and delivered to the portal.
TEST(ReplicasOnPostgresTest, GatewayStartedWhileTheDatabaseIsDownWaitsForIt) {
  if (!PgServer::Installed()) {
    GTEST_SKIP() << "PostgreSQL 15 is not installed (no " << kPgBinDir
                 << "/initdb); apt-get install postgresql-15";
  }
  auto pg = PgServer::Start();
  ASSERT_TRUE(pg.ok()) << pg.status();
  const std::string dir = NewTestDir("late-pg");
  {
    std::ofstream(dir + "/outbox.key", std::ios::binary) << std::string(32, 'k');
    ::chmod((dir + "/outbox.key").c_str(), 0600);
  }
  ::setenv("LIENTHONG_PG_DSN", (*pg)->dsn().c_str(), 1);
  auto sim = StartSimProcess({"--portal-catalogue", WriteSimCatalogue(dir)});
  ASSERT_TRUE(sim.ok()) << sim.status();
  const absl::Status migrated =
      RunMigrate(dir + "/migrate.yaml", ReplicaYaml(0, sim->port, dir),
                 dir + "/migrate.log", "outbox schema on PostgreSQL at version");
  ASSERT_TRUE(migrated.ok()) << migrated;

  ASSERT_TRUE((*pg)->Stop().ok());
  Replica replica(0, sim->port, dir);
  const absl::Status started = replica.Start();
  std::string readyz;
  grpc::StatusCode down_push = grpc::StatusCode::OK;
  lienthong::v1::PushDossierStatusRequest push;
  *push.add_updates() = Update(1, 0);
  if (started.ok()) {
    readyz = HttpGet(
        absl::StrCat("http://127.0.0.1:", replica.admin_port(), "/readyz"));
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    lienthong::v1::PushDossierStatusResponse response;
    down_push = replica.stub()->PushDossierStatus(&context, push, &response)
                    .error_code();
  }
  ASSERT_TRUE((*pg)->Resume().ok());
  ASSERT_TRUE(started.ok()) << started;
  EXPECT_TRUE(absl::StrContains(readyz, kSyncNotReady)) << readyz;
  EXPECT_FALSE(absl::StrContains(readyz, (*pg)->password()));
  EXPECT_EQ(down_push, grpc::StatusCode::UNAVAILABLE);

  // Back: the push is taken (the outbox connects within a second or two)
  // and delivered.
  grpc::Status pushed;
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  do {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    lienthong::v1::PushDossierStatusResponse response;
    pushed = replica.stub()->PushDossierStatus(&context, push, &response);
    if (!pushed.ok()) absl::SleepFor(absl::Milliseconds(200));  // reconnect
  } while (!pushed.ok() && absl::Now() < give_up);
  ASSERT_TRUE(pushed.ok()) << pushed.error_message();
  std::vector<Applied> applied;
  do {
    applied = AppliedItems(sim->port);
    if (applied.size() < 2) absl::SleepFor(absl::Milliseconds(200));
  } while (applied.size() < 2 && absl::Now() < give_up + absl::Seconds(30));
  ASSERT_EQ(applied.size(), 2u);  // the registration and the status
  EXPECT_EQ(applied[0].ma_ho_so, Dossier(1));
  EXPECT_EQ(applied[0].kind, "register_dossier");
  EXPECT_EQ(applied[1].kind, "dossier_status");
  readyz = HttpGet(
      absl::StrCat("http://127.0.0.1:", replica.admin_port(), "/readyz"));
  EXPECT_FALSE(absl::StrContains(readyz, "not ready")) << readyz;
  replica.Kill();
}

}  // namespace
}  // namespace lienthong::testing
