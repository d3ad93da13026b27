// Portal synchronisation end to end: the real lienthong-gateway process with
// a "dvcqg-portal-rest" adapter in front of a lienthong-sim process, over
// mutual TLS. Counts are taken at the simulator (GET /_sim/portal/applied),
// which refuses the progress of a dossier not registered with it:
//
// - the portal goes down in the middle of a sync of a 400-procedure
//   catalogue and 10,000 dossier status updates (2,000 dossiers x 5
//   statuses, the first carrying the dossier's registration); when it is
//   back, everything arrives, each item exactly once and every dossier's
//   registration before its statuses, in order; while it is down, the
//   applicants' names and phone numbers wait in the outbox encrypted (its
//   database file and write-ahead log are searched for them);
// - the gateway is killed with SIGKILL at random moments (>= 20 times) during
//   such a run, so some land between a dossier's registration and its first
//   status, and restarted each time: nothing acknowledged is lost, nothing
//   is applied twice, order holds, and the outbox passes SQLite's integrity
//   check;
// - the portal's sessions expire in the middle of a run: one sign-in renews
//   the session for every delivery in flight, and nothing is lost;
// - delivery throughput to a healthy simulator is measured and printed.
#include <curl/curl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "lienthong/v1/portal.grpc.pb.h"
#include "tests/integration/gateway_env.h"
#include "tests/integration/gateway_process.h"
#include "tests/integration/join_on_exit.h"
#include "tests/testing/subprocess.h"

namespace lienthong::testing {
namespace {

using ::lienthong::v1::DossierStatus;
using ::lienthong::v1::PortalSyncService;

constexpr int kProcedures = 400;
constexpr int kDossiers = 2000;
constexpr DossierStatus kLife[] = {
    lienthong::v1::NEW, lienthong::v1::ACCEPTED, lienthong::v1::PROCESSING,
    lienthong::v1::FINISHED, lienthong::v1::RESULT_RETURNED};
constexpr int kSteps = 5;
constexpr int kBatch = 500;
constexpr int64_t kDay = 1752537600;  // 2025-07-15 00:00 UTC

// ---- The simulator's control endpoint ------------------------------------

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

class SimControl {
 public:
  explicit SimControl(int port)
      : base_(absl::StrCat("https://127.0.0.1:", port)),
        ca_(TestCert("ca.pem")) {}

  absl::StatusOr<std::string> Call(const std::string& path,
                                   const std::string* body) const {
    CURL* curl = curl_easy_init();
    std::string url = base_ + path, answer;
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_CAINFO, ca_.c_str());
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 20000L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
    if (body != nullptr) {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body->size()));
      curl_easy_setopt(curl, CURLOPT_COPYPOSTFIELDS, body->c_str());
    }
    CURLcode code = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    if (code != CURLE_OK || status != 200) {
      return absl::UnavailableError(absl::StrCat(path, ": curl ", code,
                                                 ", HTTP ", status));
    }
    return answer;
  }

  void SetPortalKnobs(const std::string& knobs_json) const {
    std::string body = absl::StrCat(R"({"system":"portal","reset":true)",
                                    knobs_json.empty() ? "" : ",", knobs_json,
                                    "}");
    auto answer = Call("/_sim/knobs", &body);
    ASSERT_TRUE(answer.ok()) << answer.status();
  }

  // The portal's counters from /_sim/stats.
  std::map<std::string, int64_t> PortalStats() const {
    std::map<std::string, int64_t> stats;
    auto answer = Call("/_sim/stats", nullptr);
    if (!answer.ok()) return stats;
    google::protobuf::Struct json;
    if (!google::protobuf::util::JsonStringToMessage(*answer, &json).ok()) {
      return stats;
    }
    const auto& portal =
        json.fields().at("portal").struct_value().fields().at("stats");
    for (const auto& [name, value] : portal.struct_value().fields()) {
      stats[name] = static_cast<int64_t>(value.number_value());
    }
    return stats;
  }

  int64_t Applied() const {
    auto stats = PortalStats();
    auto it = stats.find("portal_applied");
    return it == stats.end() ? -1 : it->second;
  }

  struct Item {
    std::string kind;
    std::string key;
    std::string ma_tthc;
    std::string ma_ho_so;
    int trang_thai = 0;
  };

  // Every portal session issued so far is refused from now on.
  void ExpireSessions() const {
    const std::string body;
    auto answer = Call("/_sim/portal/expire-sessions", &body);
    ASSERT_TRUE(answer.ok()) << answer.status();
  }

  std::vector<Item> AppliedItems() const {
    std::vector<Item> items;
    auto answer = Call("/_sim/portal/applied", nullptr);
    EXPECT_TRUE(answer.ok()) << answer.status();
    if (!answer.ok()) return items;
    for (absl::string_view line : absl::StrSplit(*answer, '\n', absl::SkipEmpty())) {
      google::protobuf::Struct json;
      EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(
                      google::protobuf::StringPiece(line.data(), line.size()),
                      &json)
                      .ok());
      const auto& f = json.fields();
      items.push_back({f.at("kind").string_value(),
                       f.at("idempotency_key").string_value(),
                       f.at("ma_tthc").string_value(),
                       f.at("ma_ho_so").string_value(),
                       static_cast<int>(f.at("trang_thai").number_value())});
    }
    return items;
  }

  // Waits until the portal has applied `count` items; false on timeout.
  bool WaitApplied(int64_t count, absl::Duration timeout) const {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      if (Applied() >= count) return true;
      absl::SleepFor(absl::Milliseconds(50));  // polling the simulator
    }
    return false;
  }

 private:
  const std::string base_;
  const std::string ca_;
};

// ---- Workload ----------------------------------------------------------------

std::string Dossier(int n) {
  return absl::StrFormat("000.00.01.H31-250715-%05d", n);
}

std::string ProcedureCode(int n) {
  return absl::StrFormat("1.%06d.000.00.00.H31", 1000 + n);
}

lienthong::v1::SyncProceduresRequest Catalogue() {
  static const char* const kFields[] = {"Hộ tịch", "Đất đai", "Xây dựng",
                                        "Giáo dục", "Y tế", "Lao động"};
  lienthong::v1::SyncProceduresRequest request;
  for (int i = 0; i < kProcedures; ++i) {
    lienthong::v1::Procedure* p = request.add_procedures();
    p->set_code(ProcedureCode(i));
    p->set_name(absl::StrCat("Thủ tục hành chính số ", i + 1));
    p->set_field(kFields[i % 6]);
    p->set_authority_level(i % 3 == 0 ? "Cấp tỉnh" : "Cấp xã");
    p->set_level(i % 2 == 0 ? lienthong::v1::SERVICE_LEVEL_FULLY_ONLINE
                            : lienthong::v1::SERVICE_LEVEL_PARTLY_ONLINE);
    p->set_implementing_agency("UBND tỉnh Hưng Yên");
    p->set_processing_time(absl::StrCat(i % 15 + 1, " ngày làm việc"));
    p->set_fees(i % 4 == 0 ? "Miễn phí" : "50.000 đồng");
    p->add_required_documents("Tờ khai theo mẫu");
    p->add_required_documents("Bản sao giấy tờ tùy thân");
    p->add_legal_basis("Nghị định 61/2018/NĐ-CP");
  }
  return request;
}

// The (synthetic) applicant of dossier `d`: a name and a phone number of
// its own, so the outbox can be searched for them.
std::string ApplicantName(int d) {
  static const char* const kFamily[] = {"Nguyễn", "Trần", "Lê", "Phạm", "Vũ"};
  return absl::StrFormat("%s Thị Thử Nghiệm %05d", kFamily[d % 5], d);
}
std::string ApplicantPhone(int d) { return absl::StrFormat("09%08d", 31000000 + d); }

// Step `step` (0..4) of dossier `d`, dated a minute after the previous step;
// the first carries the dossier's registration.
lienthong::v1::DossierStatusUpdate Update(int d, int step) {
  lienthong::v1::DossierStatusUpdate u;
  u.set_dossier_code(Dossier(d));
  u.set_procedure_code(ProcedureCode(d % kProcedures));
  u.set_status(kLife[step]);
  u.mutable_time()->set_seconds(kDay + d + step * 60);
  u.set_handler("Cán bộ một cửa");
  if (step == 0) {
    lienthong::v1::DossierRegistration& r = *u.mutable_registration();
    r.set_procedure_name(absl::StrCat("Thủ tục hành chính số ", d % kProcedures + 1));
    r.set_field_code("G09-TP05");
    r.set_field_name("Hộ tịch");
    r.mutable_applicant()->set_name(ApplicantName(d));
    r.mutable_applicant()->set_type(lienthong::v1::APPLICANT_CITIZEN);
    r.mutable_applicant()->set_phone(ApplicantPhone(d));
    r.set_summary("Hồ sơ thử nghiệm");
    *r.mutable_received() = u.time();
    r.set_handling_unit("UBND xã Tân Hưng");
  }
  return u;
}

// Every update of round `step`, in batches of kBatch.
std::vector<lienthong::v1::PushDossierStatusRequest> Round(int step) {
  std::vector<lienthong::v1::PushDossierStatusRequest> batches;
  for (int d = 1; d <= kDossiers; d += kBatch) {
    lienthong::v1::PushDossierStatusRequest& batch = batches.emplace_back();
    for (int i = d; i < d + kBatch && i <= kDossiers; ++i) {
      *batch.add_updates() = Update(i, step);
    }
  }
  return batches;
}

std::string SyncYaml(int sim_port, const std::string& dir,
                     int max_in_flight = 32) {
  return absl::StrCat(PortalGatewayYaml("portal-sync-test", sim_port),
                      absl::StrFormat(R"(clients:
  - id: spiffe://lienthong.local/dossier-system
    methods:
      - lienthong.v1.PortalSyncService/SyncProcedures
      - lienthong.v1.PortalSyncService/WatchSyncJob
      - lienthong.v1.PortalSyncService/GetSyncJob
      - lienthong.v1.PortalSyncService/PushDossierStatus
      - lienthong.v1.PortalSyncService/ListDeadLetters
      - lienthong.v1.PortalSyncService/RetryDeadLetters
      - lienthong.v1.PortalSyncService/PullCatalogue
      - lienthong.v1.PortalSyncService/GetCataloguePull
portal_sync:
  adapter: portal
  outbox_file: %1$s/outbox.db
  max_in_flight: %2$d
admin:
  address: 127.0.0.1:0
audit:
  store_file: %1$s/audit.db
logging:
  level: warning
)",
                                      dir, max_in_flight));
}

std::unique_ptr<PortalSyncService::Stub> Stub(int port) {
  return PortalSyncService::NewStub(ClientChannel(port, "dossier-system"));
}

std::unique_ptr<grpc::ClientContext> Context(absl::Duration timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return context;
}

// Where the gateway listens now; the killer changes it on each restart.
class PortHolder {
 public:
  void Set(int port) {
    absl::MutexLock lock(&mu_);
    port_ = port;
  }
  int Get() const {
    absl::MutexLock lock(&mu_);
    return port_;
  }

 private:
  mutable absl::Mutex mu_;
  int port_ = 0;
};

// Sends the catalogue, then every round, each call retried until the
// gateway acknowledges it (it may be dead or restarting). Counts what the
// gateway acknowledged.
struct PushOutcome {
  std::string job_id;
  int64_t accepted = 0;
  int64_t duplicates = 0;
  int64_t failed_attempts = 0;
};

PushOutcome PushEverything(const PortHolder& port, bool send_catalogue,
                           const std::function<void(int step)>& before_step,
                           const std::atomic<bool>* abandon = nullptr,
                           absl::Duration pause = absl::ZeroDuration()) {
  PushOutcome outcome;
  int stub_port = 0;
  std::unique_ptr<PortalSyncService::Stub> stub;
  auto until_acknowledged = [&](auto call) {
    while (abandon == nullptr || !*abandon) {
      if (stub == nullptr || stub_port != port.Get()) {
        stub_port = port.Get();
        stub = Stub(stub_port);
      }
      grpc::Status status = call(*stub);
      if (status.ok()) return;
      ++outcome.failed_attempts;
      switch (status.error_code()) {
        case grpc::StatusCode::INVALID_ARGUMENT:
        case grpc::StatusCode::FAILED_PRECONDITION:
        case grpc::StatusCode::PERMISSION_DENIED:
        case grpc::StatusCode::UNAUTHENTICATED:
          ADD_FAILURE() << status.error_message();
          return;
        default:  // the gateway is dead or restarting: try again
          absl::SleepFor(absl::Milliseconds(20));
      }
    }
  };
  if (send_catalogue) {
    const lienthong::v1::SyncProceduresRequest catalogue = Catalogue();
    until_acknowledged([&](PortalSyncService::Stub& s) {
      lienthong::v1::SyncProceduresResponse response;
      grpc::Status status = s.SyncProcedures(Context(absl::Seconds(10)).get(),
                                             catalogue, &response);
      if (status.ok() && outcome.job_id.empty()) {
        outcome.job_id = response.job_id();
      }
      return status;
    });
  }
  for (int step = 0; step < kSteps; ++step) {
    if (before_step) before_step(step);
    for (const auto& batch : Round(step)) {
      until_acknowledged([&](PortalSyncService::Stub& s) {
        lienthong::v1::PushDossierStatusResponse response;
        grpc::Status status = s.PushDossierStatus(
            Context(absl::Seconds(10)).get(), batch, &response);
        if (status.ok()) {
          outcome.accepted += response.accepted();
          outcome.duplicates += response.duplicates();
        }
        return status;
      });
      absl::SleepFor(pause);  // pacing, so that kills also land mid-push
    }
  }
  return outcome;
}

// The province's catalogue as the simulator reads it (--portal-catalogue):
// its national procedure database then holds the workload's codes.
std::string WriteSimCatalogue(const std::string& dir) {
  std::string json = "[";
  for (int i = 0; i < kProcedures; ++i) {
    absl::StrAppend(&json, i == 0 ? "" : ",", "{\"code\":\"", ProcedureCode(i),
                    "\",\"name\":\"Thủ tục hành chính số ", i + 1,
                    "\",\"field\":\"Hộ tịch\"}");
  }
  json += "]";
  const std::string path = dir + "/sim-catalogue.json";
  std::ofstream(path, std::ios::binary) << json;
  return path;
}

absl::StatusOr<RunningProcess> StartSim(const std::string& dir) {
  return StartSimProcess({"--portal-catalogue", WriteSimCatalogue(dir)});
}

// Every item applied exactly once, every procedure created once, and each
// dossier registered once, before its statuses, which come in their order.
void ExpectExactlyOnceInOrder(const std::vector<SimControl::Item>& applied) {
  std::set<std::string> keys;
  std::set<std::string> created;
  std::map<std::string, std::vector<int>> statuses;  // 0: the registration
  int other = 0;
  for (const SimControl::Item& item : applied) {
    EXPECT_TRUE(keys.insert(item.key).second) << "applied twice: " << item.key;
    if (item.kind == "create_procedure") {
      EXPECT_TRUE(created.insert(item.ma_tthc).second)
          << "created twice: " << item.ma_tthc;
    } else if (item.kind == "register_dossier") {
      statuses[item.ma_ho_so].push_back(0);
    } else if (item.kind == "dossier_status") {
      statuses[item.ma_ho_so].push_back(item.trang_thai);
    } else {
      ++other;
    }
  }
  EXPECT_EQ(created.size(), static_cast<size_t>(kProcedures));
  EXPECT_EQ(other, 0);
  EXPECT_EQ(statuses.size(), static_cast<size_t>(kDossiers));
  const std::vector<int> kOrder = {0, 1, 2, 4, 9, 10};
  int out_of_order = 0;
  for (const auto& [code, seen] : statuses) {
    if (seen != kOrder) {
      if (++out_of_order <= 5) {
        ADD_FAILURE() << code << " statuses arrived as "
                      << absl::StrJoin(seen, ",");
      }
    }
  }
  EXPECT_EQ(out_of_order, 0);
}

std::string IntegrityCheck(const std::string& db_path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) !=
      SQLITE_OK) {
    sqlite3_close(db);
    return "cannot open";
  }
  std::string report;
  sqlite3_exec(
      db, "PRAGMA integrity_check",
      [](void* out, int, char** values, char**) {
        static_cast<std::string*>(out)->append(values[0] ? values[0] : "");
        return 0;
      },
      &report, nullptr);
  sqlite3_close(db);
  return report;
}

int64_t CountRows(const std::string& db_path, const char* sql) {
  sqlite3* db = nullptr;
  int64_t count = -1;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
      SQLITE_OK) {
    sqlite3_exec(
        db, sql,
        [](void* out, int, char** values, char**) {
          *static_cast<int64_t*>(out) = std::atoll(values[0]);
          return 0;
        },
        &count, nullptr);
  }
  sqlite3_close(db);
  return count;
}

// Every dossier's registration, then its statuses.
constexpr int64_t kTotal = kProcedures + kDossiers * (kSteps + 1);

// Bytes of `path`; empty when it cannot be read.
std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// ---- Tests -----------------------------------------------------------------

TEST(PortalSyncTest, PortalDownDuringSyncThenEverythingOnceAndInOrder) {
  const std::string dir = NewTestDir("portal-sync-down");
  auto sim = StartSim(dir);
  ASSERT_TRUE(sim.ok()) << sim.status();
  SimControl control(sim->port);
  auto gateway = StartGatewayProcess(dir + "/gateway.yaml",
                                     SyncYaml(sim->port, dir), dir + "/gateway.log");
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  PortHolder port;
  port.Set(gateway->port);
  // The portal goes down while the catalogue is still arriving (below): at
  // full speed it applies the whole catalogue in about 0.1 s, so the
  // catalogue is slowed to some 60 items/s (half a second for each of the
  // 32 deliveries in flight), making that window seconds long. Taking the
  // portal down resets this knob, so the backlog later drains at full speed.
  control.SetPortalKnobs(R"("latency_ms":500)");

  // The catalogue first, watched until its job ends.
  std::string job_id;
  {
    lienthong::v1::SyncProceduresResponse response;
    grpc::Status status = Stub(port.Get())->SyncProcedures(
        Context(absl::Seconds(10)).get(), Catalogue(), &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.creates(), kProcedures);
    job_id = response.job_id();
    ASSERT_FALSE(job_id.empty());
  }
  lienthong::v1::SyncJob last_seen;
  int job_messages = 0;
  grpc::Status watch_status;
  std::thread watcher([&] {
    auto stub = Stub(port.Get());
    lienthong::v1::GetSyncJobRequest request;
    request.set_job_id(job_id);
    auto context = Context(absl::Seconds(120));
    auto reader = stub->WatchSyncJob(context.get(), request);
    lienthong::v1::SyncJob job;
    while (reader->Read(&job)) {
      last_seen = job;
      ++job_messages;
    }
    watch_status = reader->Finish();
  });

  // Part of the catalogue has arrived when the portal goes down; the first
  // three rounds of dossier updates are pushed while it is down, the last
  // two while the backlog drains.
  ASSERT_TRUE(control.WaitApplied(100, absl::Seconds(60)));
  control.SetPortalKnobs(R"("down":true)");
  const absl::Time down_at = absl::Now();
  const int64_t applied_at_down = control.Applied();
  int64_t applied_while_down = 0;
  absl::Time up_at;
  PushOutcome pushed = PushEverything(port, /*send_catalogue=*/false, [&](int step) {
    if (step != 3) return;
    absl::SleepFor(absl::Seconds(3) - (absl::Now() - down_at));
    applied_while_down = control.Applied();
    // The registrations wait in the outbox: its database file and log
    // hold no applicant's name or phone number in clear.
    for (const char* suffix : {"", "-wal"}) {
      const std::string bytes = FileBytes(dir + "/outbox.db" + suffix);
      EXPECT_FALSE(bytes.empty()) << suffix;
      int found = 0;
      for (int d = 1; d <= kDossiers; d += 37) {
        found += bytes.find(ApplicantName(d)) != std::string::npos;
        found += bytes.find(ApplicantPhone(d)) != std::string::npos;
      }
      EXPECT_EQ(found, 0) << "personal data in clear in outbox.db" << suffix;
    }
    control.SetPortalKnobs("");
    up_at = absl::Now();
  });
  EXPECT_EQ(pushed.accepted, kDossiers * kSteps);
  EXPECT_EQ(pushed.duplicates, 0);
  EXPECT_EQ(pushed.failed_attempts, 0);
  // Nothing got through while the portal was down but what was in flight.
  EXPECT_LE(applied_while_down - applied_at_down, 32);
  EXPECT_LT(applied_at_down, kProcedures);
  ASSERT_TRUE(control.WaitApplied(kTotal, absl::Seconds(90)))
      << "applied " << control.Applied() << " of " << kTotal;
  const absl::Duration drain = absl::Now() - up_at;
  watcher.join();

  ExpectExactlyOnceInOrder(control.AppliedItems());
  EXPECT_TRUE(watch_status.ok()) << watch_status.error_message();
  EXPECT_EQ(last_seen.state(), lienthong::v1::SyncJob::DONE);
  EXPECT_EQ(last_seen.delivered(), kProcedures);
  EXPECT_GE(job_messages, 2);

  auto stub = Stub(port.Get());
  lienthong::v1::ListDeadLettersResponse letters;
  ASSERT_TRUE(stub->ListDeadLetters(Context(absl::Seconds(10)).get(), {}, &letters)
                  .ok());
  EXPECT_EQ(letters.dead_letters_size(), 0);
  std::map<std::string, int64_t> stats = control.PortalStats();
  const int64_t backlog = kTotal - applied_while_down;
  std::printf(
      "[portal down] %lld items applied before the outage; down %.1f s while "
      "%d updates were pushed; the backlog of %lld drained %.2f s after the "
      "portal came back (%.0f items/s, breaker probe delay included); the "
      "portal saw %lld requests, %lld refused while down; the job stream "
      "sent %d progress messages\n",
      static_cast<long long>(applied_at_down),
      absl::ToDoubleSeconds(up_at - down_at), 3 * kDossiers,
      static_cast<long long>(backlog), absl::ToDoubleSeconds(drain),
      backlog / absl::ToDoubleSeconds(drain),
      static_cast<long long>(stats["received"]),
      static_cast<long long>(stats["dropped"]), job_messages);

  EXPECT_EQ(gateway->process.Stop(SIGTERM), 0);
  EXPECT_EQ(IntegrityCheck(dir + "/outbox.db"), "ok");
  EXPECT_EQ(CountRows(dir + "/outbox.db",
                      "SELECT COUNT(*) FROM items WHERE state != 2"),
            0);
}

TEST(PortalSyncTest, SigkillAtRandomMomentsLosesNothingAndAppliesNothingTwice) {
  constexpr int kKills = 24;
  const std::string dir = NewTestDir("portal-sync-kill");
  auto sim = StartSim(dir);
  ASSERT_TRUE(sim.ok()) << sim.status();
  SimControl control(sim->port);
  // A slower portal stretches the run over every kill.
  control.SetPortalKnobs(R"("latency_ms":10,"jitter_ms":30)");
  const std::string config = dir + "/gateway.yaml";
  const std::string yaml = SyncYaml(sim->port, dir);
  std::unique_ptr<RunningProcess> gateway;
  {
    auto started = StartGatewayProcess(config, yaml, dir + "/gateway.log");
    ASSERT_TRUE(started.ok()) << started.status();
    gateway = std::make_unique<RunningProcess>(*std::move(started));
  }
  PortHolder port;
  port.Set(gateway->port);

  PushOutcome pushed;
  std::atomic<bool> pushing_done{false};
  std::atomic<bool> abandon{false};
  std::thread pusher([&] {
    pushed = PushEverything(port, /*send_catalogue=*/true, nullptr, &abandon,
                            absl::Milliseconds(80));
    pushing_done = true;
  });
  // On a failed ASSERT below, the pusher gives up and is joined.
  const JoinOnExit join_on_exit{pusher, abandon};

  std::mt19937 rng(20250715);
  int kills = 0;
  std::vector<int64_t> applied_at_kill;
  const absl::Time start = absl::Now();
  absl::Duration restarting = absl::ZeroDuration();
  for (int i = 0; i < kKills; ++i) {
    absl::SleepFor(absl::Milliseconds(
        std::uniform_int_distribution<int>(50, 450)(rng)));
    gateway->process.Stop(SIGKILL);
    ++kills;
    applied_at_kill.push_back(control.Applied());
    const absl::Time killed = absl::Now();
    gateway.reset();
    auto started = StartGatewayProcess(config, yaml, dir + "/gateway.log");
    ASSERT_TRUE(started.ok()) << started.status();
    gateway = std::make_unique<RunningProcess>(*std::move(started));
    restarting += absl::Now() - killed;
    port.Set(gateway->port);
  }
  pusher.join();
  ASSERT_TRUE(pushing_done);
  // A batch whose answer was lost in a kill was durable: sent again, it is
  // acknowledged as duplicates.
  EXPECT_EQ(pushed.accepted + pushed.duplicates, kDossiers * kSteps);
  ASSERT_TRUE(control.WaitApplied(kTotal, absl::Seconds(120)))
      << "applied " << control.Applied() << " of " << kTotal;
  const absl::Duration total = absl::Now() - start;
  // Nothing more trickles in: exactly kTotal.
  EXPECT_EQ(control.Applied(), kTotal);
  ExpectExactlyOnceInOrder(control.AppliedItems());

  EXPECT_EQ(gateway->process.Stop(SIGTERM), 0);
  EXPECT_EQ(IntegrityCheck(dir + "/outbox.db"), "ok");
  EXPECT_EQ(CountRows(dir + "/outbox.db",
                      "SELECT COUNT(*) FROM items WHERE state != 2"),
            0);
  int during_work = 0;
  for (int64_t a : applied_at_kill) during_work += a > 0 && a < kTotal;
  std::map<std::string, int64_t> stats = control.PortalStats();
  std::printf(
      "[kill -9] %d kills (%d while items were being delivered), %d restarts "
      "(%.2f s restarting in all); %lld updates acknowledged, %lld "
      "repeats acknowledged as duplicates, %lld calls failed while the "
      "gateway was down; portal: %lld requests for %lld items applied "
      "(repeats answered from the idempotency key); all done in %.1f s\n",
      kills, during_work, kills, absl::ToDoubleSeconds(restarting),
      static_cast<long long>(pushed.accepted),
      static_cast<long long>(pushed.duplicates),
      static_cast<long long>(pushed.failed_attempts),
      static_cast<long long>(stats["received"]),
      static_cast<long long>(stats["portal_applied"]),
      absl::ToDoubleSeconds(total));
  EXPECT_GE(during_work, 20);
}

TEST(PortalSyncTest, SessionExpiryMidRunIsRenewedOnceAndLosesNothing) {
  const std::string dir = NewTestDir("portal-sync-session");
  auto sim = StartSim(dir);
  ASSERT_TRUE(sim.ok()) << sim.status();
  SimControl control(sim->port);
  // Success answered as 0 and "00" in turn (the simulator's default).
  control.SetPortalKnobs(R"("error_code_style":"alternate")");
  auto gateway = StartGatewayProcess(dir + "/gateway.yaml",
                                     SyncYaml(sim->port, dir), dir + "/gateway.log");
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  PortHolder port;
  port.Set(gateway->port);
  std::atomic<bool> expired{false};
  std::thread expirer([&] {
    if (control.WaitApplied(kTotal / 3, absl::Seconds(60))) {
      control.ExpireSessions();
      expired = true;
    }
  });
  PushOutcome pushed = PushEverything(port, /*send_catalogue=*/true, nullptr);
  expirer.join();
  ASSERT_TRUE(expired);
  ASSERT_TRUE(control.WaitApplied(kTotal, absl::Seconds(90)))
      << "applied " << control.Applied() << " of " << kTotal;
  EXPECT_EQ(pushed.accepted, kDossiers * kSteps);
  ExpectExactlyOnceInOrder(control.AppliedItems());
  std::map<std::string, int64_t> stats = control.PortalStats();
  // The first sign-in and one renewal, however many deliveries were out
  // when the portal refused the session.
  EXPECT_EQ(stats["tokens_issued"], 2);
  EXPECT_GE(stats["auth_failures"], 1);
  std::printf(
      "[session expiry] %lld deliveries met the refused session; %lld "
      "sign-ins in all; %lld items applied exactly once\n",
      static_cast<long long>(stats["auth_failures"]),
      static_cast<long long>(stats["tokens_issued"]),
      static_cast<long long>(stats["portal_applied"]));
  EXPECT_EQ(gateway->process.Stop(SIGTERM), 0);
}

TEST(PortalSyncTest, CatalogueIsReadAtStartAndUnknownCodesAreRefused) {
  const std::string dir = NewTestDir("portal-sync-catalogue");
  auto sim = StartSim(dir);
  ASSERT_TRUE(sim.ok()) << sim.status();
  auto gateway = StartGatewayProcess(dir + "/gateway.yaml",
                                     SyncYaml(sim->port, dir), dir + "/gateway.log");
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  auto stub = Stub(gateway->port);
  // The gateway held no catalogue: it reads one at start.
  auto wait_done = [&]() {
    lienthong::v1::CataloguePull pull;
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (absl::Now() < deadline) {
      grpc::Status status =
          stub->GetCataloguePull(Context(absl::Seconds(10)).get(), {}, &pull);
      if (status.ok() && pull.state() != lienthong::v1::CataloguePull::RUNNING) {
        break;
      }
      absl::SleepFor(absl::Milliseconds(50));  // polling the gateway
    }
    return pull;
  };
  lienthong::v1::CataloguePull pull = wait_done();
  ASSERT_EQ(pull.state(), lienthong::v1::CataloguePull::DONE) << pull.error();
  // The simulator's: the workload's codes and its synthetic others.
  EXPECT_EQ(pull.catalogue_procedures(), kProcedures + 120);
  EXPECT_EQ(pull.detailed(), kProcedures + 120);

  lienthong::v1::PushDossierStatusRequest push;
  *push.add_updates() = Update(1, 0);
  push.mutable_updates(0)->set_procedure_code("1.999999.000.00.00.H31");
  lienthong::v1::PushDossierStatusResponse pushed;
  grpc::Status refused =
      stub->PushDossierStatus(Context(absl::Seconds(10)).get(), push, &pushed);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(refused.error_message(),
              ::testing::HasSubstr("not in the national procedure database: "
                                   "updates[0].procedure_code "
                                   "(1.999999.000.00.00.H31): 1.999999"));
  push.mutable_updates(0)->set_procedure_code(ProcedureCode(1));
  EXPECT_TRUE(
      stub->PushDossierStatus(Context(absl::Seconds(10)).get(), push, &pushed)
          .ok());
  lienthong::v1::SyncProceduresRequest catalogue = Catalogue();
  catalogue.mutable_procedures(5)->set_code("1.999998.000.00.00.H31");
  lienthong::v1::SyncProceduresResponse planned;
  grpc::Status unknown = stub->SyncProcedures(
      Context(absl::Seconds(10)).get(), catalogue, &planned);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(unknown.error_message(), ::testing::HasSubstr("1.999998"));

  // Asked again, it reads again.
  lienthong::v1::CataloguePull again;
  ASSERT_TRUE(
      stub->PullCatalogue(Context(absl::Seconds(10)).get(), {}, &again).ok());
  EXPECT_TRUE(again.started_now());
  EXPECT_EQ(wait_done().state(), lienthong::v1::CataloguePull::DONE);
  EXPECT_EQ(gateway->process.Stop(SIGTERM), 0);
}

// Updates per second from acknowledged push to applied at the simulator,
// at two in-flight caps. The simulator answers a kept-alive connection's
// request only after ~40 ms (its responses go out in two small TLS writes,
// and the second waits for the client's delayed ACK: Nagle), so with a few
// deliveries in flight the figure measures that stall; more in flight shows
// what the gateway itself sustains.
void MeasureThroughput(int max_in_flight) {
  const std::string dir =
      NewTestDir(absl::StrCat("portal-sync-throughput-", max_in_flight));
  auto sim = StartSim(dir);
  ASSERT_TRUE(sim.ok()) << sim.status();
  SimControl control(sim->port);
  auto gateway = StartGatewayProcess(dir + "/gateway.yaml",
                                     SyncYaml(sim->port, dir, max_in_flight),
                                     dir + "/gateway.log");
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  PortHolder port;
  port.Set(gateway->port);

  const absl::Time start = absl::Now();
  PushOutcome pushed = PushEverything(port, /*send_catalogue=*/true, nullptr);
  const absl::Duration push = absl::Now() - start;
  ASSERT_TRUE(control.WaitApplied(kTotal, absl::Seconds(90)));
  const absl::Duration all = absl::Now() - start;
  EXPECT_EQ(pushed.accepted, kDossiers * kSteps);
  ExpectExactlyOnceInOrder(control.AppliedItems());
  std::printf(
      "[throughput, max_in_flight %d] %d procedures + %d dossier status "
      "updates pushed and durable in %.2f s (%.0f updates/s acknowledged); "
      "all applied at the portal %.2f s after the first push: %.0f items/s "
      "delivered (simulator over TLS on loopback, 2 shared cores)\n",
      max_in_flight, kProcedures, kDossiers * kSteps,
      absl::ToDoubleSeconds(push),
      kDossiers * kSteps / absl::ToDoubleSeconds(push),
      absl::ToDoubleSeconds(all), kTotal / absl::ToDoubleSeconds(all));
  EXPECT_EQ(gateway->process.Stop(SIGTERM), 0);
}

TEST(PortalSyncTest, DeliveryThroughputToAHealthySimulator) {
  MeasureThroughput(32);
  MeasureThroughput(256);
}

}  // namespace
}  // namespace lienthong::testing
