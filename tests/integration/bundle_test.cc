// Interconnected procedures end to end: the real lienthong-gateway process
// (BundleService, the four agency adapters, portal synchronisation) in front
// of a lienthong-sim process, over mutual TLS. What the agencies applied and
// what the portal received are read at the simulator
// (GET /_sim/agencies/steps, GET /_sim/portal/applied):
//
// - a birth and a death bundle complete, each step's outputs (the birth
//   certificate number, the child's new personal ID, the death certificate
//   number) arriving in the later steps' requests at their agencies, and
//   the dossiers' progress reaching the portal once each, in order;
// - a refused step holds the steps after it; ResolveStep with corrected
//   data resumes the bundle; a stop ends another with its reason audited;
// - a stop while an agency is down is accepted at once, survives a kill of
//   the gateway, and takes effect once the agency answers: its answer is
//   recorded and no later step is sent;
// - 200 bundles in flight while the gateway is killed with SIGKILL at
//   random moments (>= 10 times) and the residence agency is down for a
//   while: every bundle ends in its right state, no step is applied twice
//   at its agency, every progress update reaches the portal once, in order.
#include <curl/curl.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gateway/audit/journal.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "lienthong/v1/bundle.grpc.pb.h"
#include "tests/integration/gateway_env.h"
#include "tests/integration/gateway_process.h"
#include "tests/national_sim/citizen_generator.h"
#include "tests/testing/test_officer.h"

namespace lienthong::testing {
namespace {

using ::lienthong::v1::Bundle;
using ::lienthong::v1::BundleService;
using ::lienthong::v1::StartBundleRequest;

// Citizens the simulated population database knows.
constexpr char kMotherId[] = "033190012345";
constexpr char kDeceasedId[] = "033055001234";
constexpr char kApplicantId[] = "033085012345";
// A commune code the residence agency is told to refuse
// ("Không tìm thấy địa chỉ đăng ký thường trú"), and the right one.
constexpr char kUnknownCommune[] = "12199";
constexpr char kCommune[] = "12103";

std::string NameOf(const char* id) {
  return sim::LookupCitizen(id)->FullName();
}

// ---- The simulator's control and counters -----------------------------------

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// GET (body null) or POST `path` at the simulator; "" and a failure on error.
std::string SimCall(int port, const std::string& path,
                    const std::string* body) {
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
  if (body != nullptr) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE,
                     static_cast<long>(body->size()));
    curl_easy_setopt(curl, CURLOPT_COPYPOSTFIELDS, body->c_str());
  }
  const CURLcode code = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  EXPECT_TRUE(code == CURLE_OK && status == 200)
      << path << ": curl " << code << ", HTTP " << status << ": " << answer;
  return answer;
}

void SetKnobs(int port, const std::string& system, const std::string& knobs) {
  const std::string body =
      absl::StrCat(R"({"system":")", system, R"(","reset":true)",
                   knobs.empty() ? "" : ",", knobs, "}");
  SimCall(port, "/_sim/knobs", &body);
}

std::vector<google::protobuf::Struct> JsonLines(const std::string& text) {
  std::vector<google::protobuf::Struct> lines;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    google::protobuf::Struct json;
    EXPECT_TRUE(
        google::protobuf::util::JsonStringToMessage(
            google::protobuf::StringPiece(line.data(), line.size()), &json)
            .ok())
        << line;
    lines.push_back(std::move(json));
  }
  return lines;
}

struct AgencyStep {
  std::string agency, operation, key, dossier, reason, request;
  bool refused = false;
  int requests = 0;
  std::map<std::string, std::string> outputs;
};

std::vector<AgencyStep> AgencySteps(int port) {
  std::vector<AgencyStep> steps;
  for (const auto& json :
       JsonLines(SimCall(port, "/_sim/agencies/steps", nullptr))) {
    const auto& f = json.fields();
    AgencyStep step{f.at("agency").string_value(),
                    f.at("operation").string_value(),
                    f.at("idempotency_key").string_value(),
                    f.at("ma_ho_so").string_value(),
                    f.at("reason").string_value(),
                    "",
                    f.at("refused").bool_value(),
                    static_cast<int>(f.at("requests").number_value()),
                    {}};
    for (const auto& [name, value] : f.at("outputs").struct_value().fields()) {
      step.outputs[name] = value.string_value();
    }
    (void)google::protobuf::util::MessageToJsonString(
        f.at("request").struct_value(), &step.request);
    steps.push_back(std::move(step));
  }
  return steps;
}

// The portal's dossier progress, per dossier in the order applied:
// (TrangThai, idempotency key); a registration (DongBoHoSoMC) as status -1.
std::map<std::string, std::vector<std::pair<int, std::string>>> PortalProgress(
    int port) {
  std::map<std::string, std::vector<std::pair<int, std::string>>> progress;
  for (const auto& json :
       JsonLines(SimCall(port, "/_sim/portal/applied", nullptr))) {
    const auto& f = json.fields();
    const std::string& kind = f.at("kind").string_value();
    if (kind != "dossier_status" && kind != "register_dossier") continue;
    progress[f.at("ma_ho_so").string_value()].emplace_back(
        kind == "register_dossier"
            ? -1
            : static_cast<int>(f.at("trang_thai").number_value()),
        f.at("idempotency_key").string_value());
  }
  return progress;
}

// ---- The gateway
// -------------------------------------------------------------

std::string ReadSource(const std::string& relative) {
  const char* source = std::getenv("LIENTHONG_SOURCE_DIR");
  EXPECT_NE(source, nullptr) << "run through ctest, which sets it";
  std::ifstream in(
      absl::StrCat(source == nullptr ? "." : source, "/", relative));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The example config's `bundles:` section (the birth and death definitions
// as shipped), with the store in `dir`, the example holiday file, and
// retries capped at `retry_max_s`.
std::string BundlesSection(const std::string& dir, int retry_max_s) {
  const std::string example = ReadSource("deploy/examples/gateway.yaml");
  const size_t begin = example.find("\nbundles:\n");
  EXPECT_NE(begin, std::string::npos);
  std::string section;
  bool first = true;
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(example).substr(begin + 1), '\n')) {
    if (!first && !line.empty() && line[0] != ' ' && line[0] != '#') break;
    first = false;
    if (absl::StartsWith(line, "  store_file:")) {
      absl::StrAppend(&section, "  store_file: ", dir, "/bundles.db\n");
    } else if (absl::StartsWith(line, "  holiday_file:")) {
      absl::StrAppend(&section,
                      "  holiday_file: ", std::getenv("LIENTHONG_SOURCE_DIR"),
                      "/deploy/examples/holidays.yaml\n");
    } else if (absl::StartsWith(line, "  retry_max_seconds:")) {
      absl::StrAppend(&section, "  retry_max_seconds: ", retry_max_s, "\n");
    } else {
      absl::StrAppend(&section, line, "\n");
    }
  }
  return section;
}

std::string BundleYaml(int sim_port, const std::string& dir, int retry_max_s) {
  std::string agencies;
  for (const char* type :
       {"civil-status", "residence", "social-insurance", "labour-affairs"}) {
    absl::StrAppendFormat(&agencies, R"(  - name: %1$s
    type: %1$s-rest
    config:
      upstream:
        base_url: https://127.0.0.1:%2$d
        ca_file: %3$s/ca.pem
      api_key: dev-agency-key
)",
                          type, sim_port, TestCertDir());
  }
  return absl::StrCat(PortalGatewayYaml("bundle-test", sim_port), agencies,
                      absl::StrFormat(R"(clients:
  - id: spiffe://lienthong.local/dossier-system
    methods:
      - lienthong.v1.BundleService/StartBundle
      - lienthong.v1.BundleService/GetBundle
      - lienthong.v1.BundleService/WatchBundle
      - lienthong.v1.BundleService/ListBundles
      - lienthong.v1.BundleService/ResolveStep
portal_sync:
  adapter: portal
  outbox_file: %1$s/outbox.db
admin:
  address: 127.0.0.1:0
audit:
  store_file: %1$s/audit.db
logging:
  level: warning
)",
                                      dir),
                      BundlesSection(dir, retry_max_s));
}

// A simulator and a gateway on it, restartable.
class BundleEnv {
 public:
  void SetUp(const std::string& name, int retry_max_s = 2) {
    dir_ = NewTestDir(absl::StrCat("bundle-", name));
    auto sim = StartSimProcess();
    ASSERT_TRUE(sim.ok()) << sim.status();
    sim_ = std::make_unique<RunningProcess>(*std::move(sim));
    yaml_ = BundleYaml(sim_->port, dir_, retry_max_s);
    Restart();
  }

  // Starts the gateway (again).
  void Restart() {
    gateway_.reset();
    auto started = StartGatewayProcess(dir_ + "/gateway.yaml", yaml_,
                                       dir_ + "/gateway.log");
    ASSERT_TRUE(started.ok()) << started.status();
    gateway_ = std::make_unique<RunningProcess>(*std::move(started));
    absl::MutexLock lock(&mu_);
    port_ = gateway_->port;
  }
  // Writes `yaml` as the gateway's config and sends SIGHUP.
  void Reload(const std::string& yaml) {
    std::ofstream(dir_ + "/gateway.yaml") << yaml;
    kill(gateway_->process.pid(), SIGHUP);
  }
  void Kill() { gateway_->process.Stop(SIGKILL); }
  int StopGracefully() { return gateway_->process.Stop(SIGTERM); }

  std::unique_ptr<BundleService::Stub> Stub() const {
    absl::MutexLock lock(&mu_);
    return BundleService::NewStub(ClientChannel(port_, "dossier-system"));
  }
  int sim_port() const { return sim_->port; }
  const std::string& dir() const { return dir_; }
  const std::string& yaml() const { return yaml_; }

 private:
  std::string dir_, yaml_;
  std::unique_ptr<RunningProcess> sim_, gateway_;
  mutable absl::Mutex mu_;
  int port_ ABSL_GUARDED_BY(mu_) = 0;
};

std::unique_ptr<grpc::ClientContext> Context(absl::Duration timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return context;
}

google::type::Date Today() {
  const absl::CivilDay day =
      absl::ToCivilDay(absl::Now(), absl::FixedTimeZone(7 * 3600));
  google::type::Date date;
  date.set_year(static_cast<int>(day.year()));
  date.set_month(day.month());
  date.set_day(day.day());
  return date;
}

std::string Dossier(int n) {
  return absl::StrCat(
      "000.00.31.H31-",
      absl::FormatTime("%y%m%d", absl::Now(), absl::FixedTimeZone(7 * 3600)),
      absl::StrFormat("-%05d", n));
}

StartBundleRequest BirthRequest(int n, const std::string& commune = kCommune) {
  StartBundleRequest r;
  r.set_kind(lienthong::v1::BIRTH);
  r.set_dossier_code(Dossier(n));
  *r.mutable_officer() = TestOfficer();
  r.mutable_applicant()->set_citizen_id(kMotherId);
  r.mutable_applicant()->set_full_name(NameOf(kMotherId));
  r.mutable_applicant()->set_relationship("mẹ");
  auto& b = *r.mutable_birth();
  b.set_child_full_name("Nguyễn Minh Khang");
  *b.mutable_child_birth_date() = Today();
  b.set_child_gender(lienthong::v1::GENDER_MALE);
  b.set_birth_place("Bệnh viện Đa khoa tỉnh Hưng Yên");
  b.mutable_mother()->set_citizen_id(kMotherId);
  b.mutable_mother()->set_full_name(NameOf(kMotherId));
  b.mutable_permanent_address()->set_province_code("33");
  b.mutable_permanent_address()->set_commune_code(commune);
  b.mutable_permanent_address()->set_detail("Thôn 3");
  b.set_household_head_citizen_id(kMotherId);
  b.set_household_relationship("con");
  return r;
}

StartBundleRequest DeathRequest(int n) {
  StartBundleRequest r;
  r.set_kind(lienthong::v1::DEATH);
  r.set_dossier_code(Dossier(n));
  *r.mutable_officer() = TestOfficer();
  r.mutable_applicant()->set_citizen_id(kApplicantId);
  r.mutable_applicant()->set_full_name(NameOf(kApplicantId));
  r.mutable_applicant()->set_relationship("con");
  auto& d = *r.mutable_death();
  d.mutable_deceased()->set_citizen_id(kDeceasedId);
  d.mutable_deceased()->set_full_name(NameOf(kDeceasedId));
  *d.mutable_death_date() = Today();
  d.set_death_place("Tại nhà");
  return r;
}

absl::StatusOr<Bundle> Start(const BundleEnv& env,
                             const StartBundleRequest& r) {
  Bundle bundle;
  grpc::Status status =
      env.Stub()->StartBundle(Context(absl::Seconds(10)).get(), r, &bundle);
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        status.error_message());
  }
  return bundle;
}

// Follows `bundle_id` with WatchBundle until `until` holds for a view;
// that view, or the last one seen when the stream ends first.
Bundle WatchUntil(const BundleEnv& env, const std::string& bundle_id,
                  const std::function<bool(const Bundle&)>& until) {
  lienthong::v1::GetBundleRequest request;
  request.set_bundle_id(bundle_id);
  auto stub = env.Stub();
  auto context = Context(absl::Seconds(60));
  auto reader = stub->WatchBundle(context.get(), request);
  Bundle view;
  while (reader->Read(&view)) {
    if (until(view)) {
      context->TryCancel();
      break;
    }
  }
  reader->Finish();
  return view;
}

bool Ended(const Bundle& b) {
  return b.state() == lienthong::v1::BUNDLE_COMPLETED ||
         b.state() == lienthong::v1::BUNDLE_STOPPED;
}

const lienthong::v1::BundleStep& StepOf(const Bundle& b,
                                        const std::string& name) {
  for (const auto& step : b.steps()) {
    if (step.name() == name) return step;
  }
  static const lienthong::v1::BundleStep kNone;
  ADD_FAILURE() << "no step " << name;
  return kNone;
}

// `bundles` as the gateway has them now.
std::vector<Bundle> Refetch(const BundleEnv& env,
                            const std::vector<Bundle>& bundles) {
  std::vector<Bundle> fresh;
  auto stub = env.Stub();
  for (const Bundle& b : bundles) {
    lienthong::v1::GetBundleRequest request;
    request.set_bundle_id(b.bundle_id());
    Bundle now;
    grpc::Status status =
        stub->GetBundle(Context(absl::Seconds(10)).get(), request, &now);
    EXPECT_TRUE(status.ok()) << status.error_message();
    fresh.push_back(status.ok() ? now : b);
  }
  return fresh;
}

// Waits until every progress update of `bundles` is handed to the portal
// synchronisation and has reached the portal; the bundles then.
std::vector<Bundle> WaitForPortal(const BundleEnv& env,
                                  const std::vector<Bundle>& bundles,
                                  absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::vector<Bundle> fresh;
  while (absl::Now() < deadline) {
    fresh = Refetch(env, bundles);
    auto progress = PortalProgress(env.sim_port());
    bool all = true;
    for (const Bundle& b : fresh) {
      for (const auto& p : b.progress()) all = all && p.queued();
      all = all && progress[b.dossier_code()].size() >=
                       static_cast<size_t>(b.progress_size() + 1);
    }
    if (all) return fresh;
    absl::SleepFor(absl::Milliseconds(100));  // polling the simulator
  }
  ADD_FAILURE() << "progress not at the portal after " << timeout;
  return fresh;
}

// Every bundle's dossier was registered at the portal once, before its
// progress, which reached the portal once, in the bundle's order.
void ExpectProgressOnceInOrder(const BundleEnv& env,
                               const std::vector<Bundle>& bundles) {
  auto progress = PortalProgress(env.sim_port());
  std::set<std::string> keys;
  for (const Bundle& b : bundles) {
    const auto& all = progress[b.dossier_code()];
    ASSERT_EQ(all.size(), static_cast<size_t>(b.progress_size() + 1))
        << b.dossier_code();
    EXPECT_EQ(all[0].first, -1) << b.dossier_code() << ": not registered first";
    const std::vector<std::pair<int, std::string>> applied(all.begin() + 1,
                                                           all.end());
    for (int i = 0; i < b.progress_size(); ++i) {
      EXPECT_TRUE(b.progress(i).queued());
      EXPECT_EQ(applied[i].first, b.progress(i).status())
          << b.dossier_code() << " update " << i;
      EXPECT_TRUE(keys.insert(applied[i].second).second)
          << "applied twice: " << applied[i].second;
    }
  }
}

// ---- Tests
// -------------------------------------------------------------------

// The records of `method` in the audit journal at `journal_dir`.
std::vector<lienthong::v1::AuditRecord> AuditRecordsOf(
    const std::string& journal_dir, const std::string& method) {
  std::vector<lienthong::v1::AuditRecord> found;
  absl::Status read = audit::ReadJournal(
      journal_dir, {}, {},
      [&](const audit::JournalPosition&, const audit::Frame& frame) {
        lienthong::v1::AuditRecord record;
        if (frame.type == audit::FrameType::kRecord &&
            record.ParseFromArray(frame.payload.data(),
                                  static_cast<int>(frame.payload.size())) &&
            record.method() == method) {
          found.push_back(std::move(record));
        }
        return true;
      });
  EXPECT_TRUE(read.ok()) << read;
  return found;
}

TEST(BundleIntegrationTest,
     BirthAndDeathCompleteWithOutputsFlowingAndProgressAtThePortal) {
  BundleEnv env;
  ASSERT_NO_FATAL_FAILURE(env.SetUp("e2e"));
  // The officer carries a field no one declares: it is not kept with the
  // bundle (nor sent with each step).
  StartBundleRequest birth_request = BirthRequest(1);
  const std::string undeclared(64 * 1024, 'Q');
  birth_request.mutable_officer()
      ->GetReflection()
      ->MutableUnknownFields(birth_request.mutable_officer())
      ->AddLengthDelimited(999, undeclared);
  auto birth = Start(env, birth_request);
  ASSERT_TRUE(birth.ok()) << birth.status();
  auto death = Start(env, DeathRequest(2));
  ASSERT_TRUE(death.ok()) << death.status();
  EXPECT_EQ(birth->deadline_working_days(), 3);

  const Bundle born = WatchUntil(env, birth->bundle_id(), Ended);
  const Bundle died = WatchUntil(env, death->bundle_id(), Ended);
  ASSERT_EQ(born.state(), lienthong::v1::BUNDLE_COMPLETED)
      << born.DebugString();
  ASSERT_EQ(died.state(), lienthong::v1::BUNDLE_COMPLETED)
      << died.DebugString();
  const auto& civil = StepOf(born, "civil_status").outputs();
  ASSERT_TRUE(civil.contains("citizen_id"));
  ASSERT_TRUE(civil.contains("birth_certificate_number"));
  EXPECT_EQ(civil.at("citizen_id").size(), 12u);
  EXPECT_EQ(civil.at("citizen_id").substr(0, 3), "033");  // born in Hưng Yên
  const std::string death_certificate =
      StepOf(died, "civil_status").outputs().at("death_certificate_number");

  // At the agencies: each step applied once, the later ones carrying the
  // earlier one's outputs.
  std::map<std::string, AgencyStep> applied;
  for (AgencyStep& step : AgencySteps(env.sim_port())) {
    EXPECT_FALSE(step.refused) << step.reason;
    EXPECT_EQ(step.requests, 1) << step.operation;
    EXPECT_TRUE(applied.emplace(step.operation, step).second) << step.operation;
  }
  ASSERT_EQ(applied.size(), 6u);
  for (const char* later :
       {"register_permanent_residence", "issue_child_health_card"}) {
    EXPECT_EQ(applied[later].dossier, born.dossier_code());
    EXPECT_TRUE(
        absl::StrContains(applied[later].request, civil.at("citizen_id")))
        << later << ": " << applied[later].request;
    EXPECT_TRUE(absl::StrContains(applied[later].request,
                                  civil.at("birth_certificate_number")))
        << later;
  }
  for (const char* later :
       {"remove_permanent_residence", "grant_funeral_allowance"}) {
    EXPECT_TRUE(absl::StrContains(applied[later].request, death_certificate))
        << later;
  }
  EXPECT_EQ(StepOf(born, "residence").outputs().size(), 1u);
  EXPECT_EQ(StepOf(died, "funeral_allowance").outputs().size() > 0, true);

  const std::vector<Bundle> reported =
      WaitForPortal(env, {born, died}, absl::Seconds(30));
  ASSERT_FALSE(HasFailure());
  EXPECT_GE(reported[0].progress_size(),
            4);  // started, then each of three steps
  ExpectProgressOnceInOrder(env, reported);
  lienthong::v1::ListBundlesResponse listed;
  ASSERT_TRUE(env.Stub()
                  ->ListBundles(Context(absl::Seconds(10)).get(),
                                lienthong::v1::ListBundlesRequest(), &listed)
                  .ok());
  ASSERT_EQ(listed.bundles_size(), 2);
  EXPECT_EQ(env.StopGracefully(), 0);
  for (const char* file : {"/bundles.db", "/bundles.db-wal"}) {
    std::ifstream in(env.dir() + file, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)),
                            std::istreambuf_iterator<char>());
    EXPECT_FALSE(absl::StrContains(bytes, undeclared.substr(0, 256))) << file;
  }

  // Who watched a dossier's bundle is found by the dossier, as who read it.
  const std::vector<lienthong::v1::AuditRecord> watched = AuditRecordsOf(
      env.dir() + "/audit-journal", "lienthong.v1.BundleService/WatchBundle");
  ASSERT_GE(watched.size(), 2u);
  std::set<std::string> dossiers;
  for (const auto& record : watched) dossiers.insert(record.dossier_id());
  EXPECT_EQ(dossiers,
            (std::set<std::string>{born.dossier_code(), died.dossier_code()}));
  // So is who listed it: a record for each bundle listed.
  std::multiset<std::string> listed_dossiers;
  for (const auto& record :
       AuditRecordsOf(env.dir() + "/audit-journal",
                      "lienthong.v1.BundleService/ListBundles")) {
    listed_dossiers.insert(record.dossier_id());
  }
  EXPECT_EQ(listed_dossiers, (std::multiset<std::string>{born.dossier_code(),
                                                         died.dossier_code()}));
}

// A reload whose adapters the running bundles' steps cannot use (here the
// civil-status instance retyped as a residence agency, which registers no
// births) is refused, naming the step; bundles go on with the running
// adapters instead of having their steps refused or stalled.
TEST(BundleIntegrationTest, AReloadTheRunningStepsCannotUseIsRefused) {
  BundleEnv env;
  ASSERT_NO_FATAL_FAILURE(env.SetUp("reload"));
  const std::string retyped = absl::StrReplaceAll(
      env.yaml(), {{"name: civil-status\n    type: civil-status-rest",
                    "name: civil-status\n    type: residence-rest"}});
  ASSERT_NE(retyped, env.yaml());
  env.Reload(retyped);
  const std::string log = env.dir() + "/gateway.log";
  ASSERT_TRUE(WaitForFileLine(log, "config reload refused", absl::Seconds(10)));
  EXPECT_TRUE(WaitForFileLine(log, "steps[0].operation", absl::Seconds(1)));

  auto birth = Start(env, BirthRequest(7));
  ASSERT_TRUE(birth.ok()) << birth.status();
  const Bundle born = WatchUntil(env, birth->bundle_id(), Ended);
  EXPECT_EQ(born.state(), lienthong::v1::BUNDLE_COMPLETED)
      << born.DebugString();
  EXPECT_EQ(env.StopGracefully(), 0);
}

// The audit journal's bytes as they are on disk (every segment file of
// `journal_dir`): records hold method names in clear, and must hold
// neither a citizen's ID nor a stop's reason.
std::string AuditJournalBytes(const std::string& journal_dir) {
  std::string all;
  std::error_code error;
  for (const auto& entry :
       std::filesystem::directory_iterator(journal_dir, error)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    absl::StrAppend(&all, bytes.str());
  }
  return all;
}

TEST(BundleIntegrationTest,
     RefusalHoldsLaterStepsResolveResumesAndStopIsAudited) {
  BundleEnv env;
  ASSERT_NO_FATAL_FAILURE(env.SetUp("refusal"));
  SetKnobs(env.sim_port(), "residence",
           absl::StrCat(R"("reject_codes":[")", kUnknownCommune, R"("])"));
  // The mother's name as the population database does not know it: civil
  // status refuses, and nothing after it runs.
  StartBundleRequest wrong_mother = BirthRequest(11);
  wrong_mother.mutable_birth()->mutable_mother()->set_full_name("Trần Thị Bé");
  auto first = Start(env, wrong_mother);
  ASSERT_TRUE(first.ok()) << first.status();
  Bundle waiting = WatchUntil(env, first->bundle_id(), [](const Bundle& b) {
    return b.state() == lienthong::v1::BUNDLE_WAITING_FOR_OFFICER;
  });
  ASSERT_EQ(waiting.state(), lienthong::v1::BUNDLE_WAITING_FOR_OFFICER);
  EXPECT_EQ(StepOf(waiting, "civil_status").state(),
            lienthong::v1::STEP_REFUSED);
  EXPECT_TRUE(
      absl::StrContains(StepOf(waiting, "civil_status").refusal_reason(), "mẹ"))
      << StepOf(waiting, "civil_status").refusal_reason();
  EXPECT_EQ(StepOf(waiting, "residence").state(), lienthong::v1::STEP_PENDING);
  EXPECT_EQ(StepOf(waiting, "health_insurance").state(),
            lienthong::v1::STEP_PENDING);

  // The officer corrects the name: the bundle resumes and completes.
  lienthong::v1::ResolveStepRequest resolve;
  resolve.set_bundle_id(first->bundle_id());
  resolve.set_step("civil_status");
  *resolve.mutable_officer() = TestOfficer();
  (*resolve.mutable_retry()->mutable_corrections())["mother.full_name"] =
      NameOf(kMotherId);
  Bundle resolved;
  grpc::Status status = env.Stub()->ResolveStep(
      Context(absl::Seconds(10)).get(), resolve, &resolved);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const Bundle done = WatchUntil(env, first->bundle_id(), Ended);
  EXPECT_EQ(done.state(), lienthong::v1::BUNDLE_COMPLETED)
      << done.DebugString();
  EXPECT_EQ(StepOf(done, "civil_status").resolutions(), 1);

  // A residence the agency cannot find: the officer stops the bundle.
  auto second = Start(env, BirthRequest(12, kUnknownCommune));
  ASSERT_TRUE(second.ok()) << second.status();
  waiting = WatchUntil(env, second->bundle_id(), [](const Bundle& b) {
    return b.state() == lienthong::v1::BUNDLE_WAITING_FOR_OFFICER &&
           StepOf(b, "health_insurance").state() == lienthong::v1::STEP_DONE;
  });
  ASSERT_EQ(StepOf(waiting, "residence").state(), lienthong::v1::STEP_REFUSED);
  EXPECT_EQ(StepOf(waiting, "residence").refusal_reason(),
            "Không tìm thấy địa chỉ đăng ký thường trú");
  lienthong::v1::ResolveStepRequest stop;
  stop.set_bundle_id(second->bundle_id());
  stop.set_step("residence");
  *stop.mutable_officer() = TestOfficer();
  const std::string reason = "Người nộp hồ sơ rút hồ sơ đăng ký thường trú";
  stop.mutable_stop()->set_reason(reason);
  Bundle stopped;
  status =
      env.Stub()->ResolveStep(Context(absl::Seconds(10)).get(), stop, &stopped);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(stopped.state(), lienthong::v1::BUNDLE_STOPPED);
  EXPECT_EQ(stopped.stop_reason(), reason);
  EXPECT_EQ(StepOf(stopped, "residence").state(), lienthong::v1::STEP_SKIPPED);
  // Resolving an ended bundle is refused.
  status =
      env.Stub()->ResolveStep(Context(absl::Seconds(10)).get(), stop, &stopped);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  ExpectProgressOnceInOrder(
      env, WaitForPortal(env, {done, stopped}, absl::Seconds(30)));
  EXPECT_EQ(env.StopGracefully(), 0);
  // The audit log has the stop (its reason kept as a digest, not in clear),
  // and every step call.
  const std::string audit = AuditJournalBytes(env.dir() + "/audit-journal");
  EXPECT_TRUE(absl::StrContains(audit, "ResolveStep"));
  EXPECT_FALSE(absl::StrContains(audit, reason));
  EXPECT_FALSE(absl::StrContains(audit, kMotherId));
}

// Civil status is down for as long as it takes: the citizen withdraws the
// dossier meanwhile. The stop is accepted at once (the agency may apply the
// birth registration it was sent whenever it is back, so its answer is
// awaited), is kept across a kill of the gateway, and takes effect with
// the answer: civil status done with its outputs, residence and the health
// card never sent, the dossier stopped once at the portal.
TEST(BundleIntegrationTest, AStopWhileAnAgencyIsDownTakesEffectOnceItAnswers) {
  BundleEnv env;
  ASSERT_NO_FATAL_FAILURE(env.SetUp("deferred-stop"));
  const int sim = env.sim_port();
  SetKnobs(sim, "civil_status", R"("down":true)");
  auto started = Start(env, BirthRequest(21));
  ASSERT_TRUE(started.ok()) << started.status();
  const std::string id = started->bundle_id();
  ASSERT_EQ(StepOf(*started, "civil_status").state(),
            lienthong::v1::STEP_RUNNING);

  lienthong::v1::ResolveStepRequest stop;
  stop.set_bundle_id(id);
  *stop.mutable_officer() = TestOfficer();
  const std::string reason = "Người nộp hồ sơ rút hồ sơ khai sinh";
  stop.mutable_stop()->set_reason(reason);
  Bundle asked;
  grpc::Status status =
      env.Stub()->ResolveStep(Context(absl::Seconds(10)).get(), stop, &asked);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(asked.stop_requested());
  EXPECT_EQ(asked.stop_reason(), reason);
  EXPECT_EQ(asked.state(), lienthong::v1::BUNDLE_RUNNING);
  EXPECT_EQ(StepOf(asked, "civil_status").state(), lienthong::v1::STEP_RUNNING);

  // Durable: the gateway killed and started again still waits to stop it.
  env.Kill();
  ASSERT_NO_FATAL_FAILURE(env.Restart());
  const Bundle resumed = Refetch(env, {asked})[0];
  EXPECT_TRUE(resumed.stop_requested());
  EXPECT_EQ(resumed.state(), lienthong::v1::BUNDLE_RUNNING);

  SetKnobs(sim, "civil_status", "");
  const Bundle stopped = WatchUntil(env, id, Ended);
  ASSERT_EQ(stopped.state(), lienthong::v1::BUNDLE_STOPPED)
      << stopped.DebugString();
  EXPECT_EQ(stopped.stop_reason(), reason);
  const auto& civil = StepOf(stopped, "civil_status");
  EXPECT_EQ(civil.state(), lienthong::v1::STEP_DONE);
  EXPECT_EQ(civil.outputs().count("birth_certificate_number"), 1u);
  EXPECT_EQ(StepOf(stopped, "residence").state(), lienthong::v1::STEP_SKIPPED);
  EXPECT_EQ(StepOf(stopped, "health_insurance").state(),
            lienthong::v1::STEP_SKIPPED);
  EXPECT_EQ(stopped.progress(stopped.progress_size() - 1).status(),
            lienthong::v1::STOPPED);
  // At the agencies: the birth registration only, under one key.
  std::set<std::string> operations;
  for (const AgencyStep& step : AgencySteps(sim)) {
    if (step.dossier != stopped.dossier_code()) continue;
    operations.insert(step.operation);
    EXPECT_EQ(step.key, absl::StrCat(id, ".civil_status.g0"));
  }
  EXPECT_EQ(operations, std::set<std::string>{"register_birth"});

  ExpectProgressOnceInOrder(env,
                            WaitForPortal(env, {stopped}, absl::Seconds(30)));
  EXPECT_EQ(env.StopGracefully(), 0);
  const std::string audit = AuditJournalBytes(env.dir() + "/audit-journal");
  EXPECT_TRUE(absl::StrContains(audit, "lienthong.bundle/Stop"));
  EXPECT_FALSE(absl::StrContains(audit, reason));
}

TEST(BundleIntegrationTest,
     KilledGatewayAndADownAgencyLoseNothingAndApplyNothingTwice) {
  constexpr int kBundles = 200;
  constexpr int kKills = 12;
  BundleEnv env;
  ASSERT_NO_FATAL_FAILURE(env.SetUp("kill"));
  const int sim = env.sim_port();
  // Slower agencies keep bundles in flight across the kills; every tenth
  // birth names a commune residence refuses.
  for (const char* agency :
       {"civil_status", "social_insurance", "labour_affairs"}) {
    SetKnobs(sim, agency, R"("latency_ms":20,"jitter_ms":60)");
  }
  const std::string residence_knobs =
      absl::StrCat(R"("latency_ms":20,"jitter_ms":60,"reject_codes":[")",
                   kUnknownCommune, R"("])");
  SetKnobs(sim, "residence", residence_knobs);
  auto request = [](int i) {
    if (i % 3 == 2) return DeathRequest(100 + i);
    return BirthRequest(100 + i, i % 10 == 0 ? kUnknownCommune : kCommune);
  };

  std::atomic<bool> starting_done{false};
  std::atomic<int> start_failures{0};
  // Set when a restart failed (no gateway will take the starts), and the
  // starts' own deadline: either way the starter gives up, and the test
  // fails (starting_done) instead of hanging in join until ctest's timeout.
  std::atomic<bool> abandon{false};
  const absl::Time give_up_starting = absl::Now() + absl::Seconds(120);
  std::thread starter([&] {
    for (int i = 0; i < kBundles; ++i) {
      // A start lost in a kill is sent again: the same bundle answers.
      while (!Start(env, request(i)).ok()) {
        ++start_failures;
        if (abandon || absl::Now() > give_up_starting) return;
        absl::SleepFor(absl::Milliseconds(50));  // the gateway restarting
      }
      if (i % 20 == 19) absl::SleepFor(absl::Milliseconds(100));
    }
    starting_done = true;
  });
  std::mt19937 rng(20251203);
  const absl::Time begin = absl::Now();
  for (int kill = 0; kill < kKills; ++kill) {
    absl::SleepFor(
        absl::Milliseconds(std::uniform_int_distribution<int>(150, 700)(rng)));
    if (kill == 2) SetKnobs(sim, "residence", R"("down":true)");
    if (kill == 7) SetKnobs(sim, "residence", residence_knobs);
    env.Kill();
    env.Restart();
    if (HasFatalFailure()) {
      abandon = true;
      break;
    }
  }
  starter.join();
  ASSERT_TRUE(starting_done) << start_failures << " failed starts";

  // Every bundle reaches its final state: completed, or waiting for an
  // officer at residence for the unknown commune.
  std::vector<Bundle> bundles;
  const absl::Time deadline = absl::Now() + absl::Seconds(120);
  for (;;) {
    lienthong::v1::ListBundlesRequest list;
    list.set_page_size(1000);
    lienthong::v1::ListBundlesResponse page;
    grpc::Status status =
        env.Stub()->ListBundles(Context(absl::Seconds(10)).get(), list, &page);
    ASSERT_TRUE(status.ok()) << status.error_message();
    int settled = 0;
    for (const Bundle& b : page.bundles()) {
      settled +=
          Ended(b) ||
          (b.state() == lienthong::v1::BUNDLE_WAITING_FOR_OFFICER &&
           StepOf(b, "health_insurance").state() == lienthong::v1::STEP_DONE);
    }
    if (settled == kBundles || absl::Now() > deadline) {
      bundles.assign(page.bundles().begin(), page.bundles().end());
      break;
    }
    absl::SleepFor(absl::Milliseconds(200));  // polling the gateway
  }
  ASSERT_EQ(bundles.size(), static_cast<size_t>(kBundles));
  const absl::Duration settled = absl::Now() - begin;
  std::map<std::string, const Bundle*> by_dossier;
  for (const Bundle& b : bundles) by_dossier[b.dossier_code()] = &b;
  for (int i = 0; i < kBundles; ++i) {
    const Bundle& b = *by_dossier[request(i).dossier_code()];
    if (i % 3 != 2 && i % 10 == 0) {
      EXPECT_EQ(b.state(), lienthong::v1::BUNDLE_WAITING_FOR_OFFICER) << i;
      EXPECT_EQ(StepOf(b, "residence").state(), lienthong::v1::STEP_REFUSED)
          << i;
    } else {
      EXPECT_EQ(b.state(), lienthong::v1::BUNDLE_COMPLETED)
          << i << b.DebugString();
    }
  }

  // At the agencies: one application (or refusal) per dossier and
  // operation, under one key.
  std::map<std::pair<std::string, std::string>, int> per_step;
  int repeats = 0;
  for (const AgencyStep& step : AgencySteps(sim)) {
    ++per_step[{step.dossier, step.operation}];
    repeats += step.requests - 1;
  }
  int twice = 0;
  for (const auto& [step, count] : per_step) twice += count > 1;
  EXPECT_EQ(twice, 0);
  // Three steps in each bundle (a refused residence counts once).
  EXPECT_EQ(per_step.size(), static_cast<size_t>(kBundles * 3));

  ExpectProgressOnceInOrder(env,
                            WaitForPortal(env, bundles, absl::Seconds(60)));
  EXPECT_EQ(env.StopGracefully(), 0);
  std::printf(
      "[bundles kill -9] %d bundles, %d kills, residence down for 5 of them; "
      "%d starts sent again; %d repeated agency requests answered from the "
      "idempotency key; all settled in %.1f s\n",
      kBundles, kKills, start_failures.load(), repeats,
      absl::ToDoubleSeconds(settled));
}

}  // namespace
}  // namespace lienthong::testing
