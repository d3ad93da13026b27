// RecordService on the GatewayServer over real mutual TLS on 127.0.0.1:0, in
// front of fake record adapters (factories registered here, as a new
// national system would be): routing by record type, validation against the
// type's declaration before any upstream call, fields cut to the grant,
// how adapter failures reach the caller, and the config rules BuildRuntime
// owns for record types (one instance per type, grants naming served types
// and fields).
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "adapters/common/retriable.h"
#include "adapters/registry.h"
#include "gateway/config/config_error.h"
#include "gateway/server/gateway_server.h"
#include "gmock/gmock.h"
#include "google/protobuf/empty.pb.h"
#include "gtest/gtest.h"
#include "lienthong/config/v1/config.pb.h"
#include "lienthong/v1/records.grpc.pb.h"
#include "tests/integration/gateway_env.h"      // UseTestListener
#include "tests/integration/gateway_process.h"  // ClientChannel
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_officer.h"

namespace lienthong::server {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::lienthong::v1::GetRecordRequest;
using ::lienthong::v1::Record;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kDossierSystem[] = "spiffe://lienthong.local/dossier-system";
constexpr char kGetRecordMethod[] = "lienthong.v1.RecordService/GetRecord";

// A fake ministry system: answers each record type from a table, or the
// failures queued for it; remembers what it was asked.
class FakeRecords final : public adapters::Adapter,
                          public adapters::RecordAdapter {
 public:
  explicit FakeRecords(std::vector<adapters::RecordType> types)
      : types_(std::move(types)) {}
  adapters::RecordAdapter* records() override { return this; }
  const std::vector<adapters::RecordType>& RecordTypes() const override {
    return types_;
  }
  void Fetch(const adapters::RecordRequest& request,
             const adapters::CallContext& context,
             adapters::Callback<adapters::RecordReply> done) override {
    absl::Status failure;
    {
      absl::MutexLock lock(&mu_);
      ++calls_;
      last_ = request;
      last_caller_ = context.caller;
      if (!failures_.empty()) {
        failure = failures_.front();
        failures_.erase(failures_.begin());
      }
    }
    if (!failure.ok()) return std::move(done)(failure);
    if (request.parameters.at("tax_code") == "0000000000") {
      return std::move(done)(absl::NotFoundError("no such enterprise"));
    }
    adapters::RecordReply reply;
    reply.fields = {{"name", "Công ty TNHH Mô Phỏng"},
                    {"status", "active"},
                    {"address", ""},  // the system left it empty
                    {"legal_representative", "Trần Thị Bình"}};
    std::move(done)(adapters::Reply<adapters::RecordReply>{reply, reference()});
  }

  void set_reference(std::string reference) {
    absl::MutexLock lock(&mu_);
    reference_ = std::move(reference);
  }
  std::string reference() const {
    absl::MutexLock lock(&mu_);
    return reference_;
  }

  void Fail(absl::Status status) {
    absl::MutexLock lock(&mu_);
    failures_.push_back(std::move(status));
  }
  int calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  adapters::RecordRequest last() const {
    absl::MutexLock lock(&mu_);
    return last_;
  }
  std::string last_caller() const {
    absl::MutexLock lock(&mu_);
    return last_caller_;
  }

 private:
  const std::vector<adapters::RecordType> types_;
  mutable absl::Mutex mu_;
  std::vector<absl::Status> failures_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  adapters::RecordRequest last_ ABSL_GUARDED_BY(mu_);
  std::string last_caller_ ABSL_GUARDED_BY(mu_);
  std::string reference_ ABSL_GUARDED_BY(mu_) = "DKKD-7";
};

adapters::RecordType Enterprise() {
  return {"enterprise",
          {{"tax_code", "[0-9]{10}", true}},
          {"name", "status", "address", "legal_representative"}};
}

// Instances are made by config name: "registry" serves enterprises, "land"
// land parcels, "clash" enterprises as well. The adapters live in the
// runtime; `made` lets the test reach the latest of each.
class FakeFactory final
    : public adapters::FactoryBase<google::protobuf::Empty> {
 public:
  absl::string_view name() const override { return "fake-records"; }
  mutable std::map<std::string, FakeRecords*> made;

 protected:
  absl::StatusOr<std::unique_ptr<adapters::Adapter>> CreateTyped(
      const google::protobuf::Empty&,
      const adapters::AdapterContext& context) const override {
    std::vector<adapters::RecordType> types;
    if (context.instance_name == "land") {
      types.push_back({"land_parcel", {{"parcel", "", true}}, {"area"}});
    } else {
      types.push_back(Enterprise());
    }
    auto adapter = std::make_unique<FakeRecords>(std::move(types));
    made[context.instance_name] = adapter.get();
    return adapter;
  }
};

lienthong::config::v1::GatewayConfig Config() {
  lienthong::config::v1::GatewayConfig config;
  config.set_node_name("record-test");
  ::lienthong::testing::UseTestListener(config);
  config.mutable_audit()->set_disabled(true);
  config.mutable_admin()->set_disabled(true);
  for (const char* name : {"registry", "land"}) {
    auto* adapter = config.add_adapters();
    adapter->set_name(name);
    adapter->set_type("fake-records");
    adapter->mutable_config()->PackFrom(google::protobuf::Empty());
  }
  auto* route = config.add_routes();  // tunes the registry's retries
  route->set_method(kGetRecordMethod);
  route->set_adapter("registry");
  route->set_timeout_ms(2000);
  route->mutable_retry()->set_max_attempts(2);
  route->mutable_retry()->set_initial_backoff_ms(1);
  auto* dossier = config.add_clients();
  dossier->set_id(kDossierSystem);
  dossier->add_methods(kGetRecordMethod);
  auto* grant = dossier->add_grants();
  grant->set_record_type("enterprise");
  grant->add_purposes("2.001610");
  grant->add_fields("name");
  grant->add_fields("address");
  grant->add_fields("legal_representative");
  auto* citizen = dossier->add_grants();  // not a record grant
  citizen->add_purposes("*");
  citizen->add_fields("name");
  config.add_clients()->set_id("spiffe://lienthong.local/no-rights");
  return config;
}

class RecordServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto factory = std::make_unique<FakeFactory>();
    factory_ = factory.get();
    ASSERT_THAT(registry_.Register(std::move(factory)), IsOk());
    auto server = GatewayServer::Start(Config(), registry_, /*http=*/nullptr);
    ASSERT_THAT(server, IsOk());
    server_ = *std::move(server);
  }

  grpc::Status Get(const std::string& client, const GetRecordRequest& r,
                   Record* out = nullptr) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    Record record;
    return lienthong::v1::RecordService::NewStub(
               ::lienthong::testing::ClientChannel(server_->port(), client))
        ->GetRecord(&context, r, out != nullptr ? out : &record);
  }

  static GetRecordRequest Good() {
    GetRecordRequest r;
    r.set_record_type("enterprise");
    (*r.mutable_parameters())["tax_code"] = "0101234567";
    r.set_purpose("2.001610");
    r.set_dossier_id("000.00.01.H31-251127-00042");
    *r.mutable_officer() = testing::TestOfficer();
    return r;
  }

  FakeRecords& registry() { return *factory_->made.at("registry"); }

  FakeFactory* factory_ = nullptr;
  adapters::AdapterRegistry registry_;
  std::unique_ptr<GatewayServer> server_;
};

TEST_F(RecordServiceTest, ARecordComesFromItsTypesAdapterCutToTheGrant) {
  Record record;
  ASSERT_TRUE(Get("dossier-system", Good(), &record).ok());
  EXPECT_EQ(registry().calls(), 1);
  EXPECT_EQ(factory_->made.at("land")->calls(), 0);
  EXPECT_EQ(registry().last_caller(), kDossierSystem);
  EXPECT_EQ(registry().last().record_type, "enterprise");
  EXPECT_EQ(registry().last().parameters.at("tax_code"), "0101234567");
  EXPECT_EQ(registry().last().purpose, "2.001610");
  EXPECT_EQ(record.record_type(), "enterprise");
  EXPECT_EQ(record.source_system(), "registry");
  EXPECT_EQ(record.reference(), "DKKD-7");
  // status is not granted; address was empty; the type's order is kept.
  ASSERT_EQ(record.fields_size(), 2);
  EXPECT_EQ(record.fields(0).name(), "name");
  EXPECT_EQ(record.fields(0).value(), "Công ty TNHH Mô Phỏng");
  EXPECT_EQ(record.fields(1).name(), "legal_representative");

  GetRecordRequest one = Good();
  one.add_fields("legal_representative");
  ASSERT_TRUE(Get("dossier-system", one, &record).ok());
  ASSERT_EQ(record.fields_size(), 1);
  EXPECT_EQ(record.fields(0).name(), "legal_representative");
}

// The system's reference reaches the caller only when it is a plain token
// ([A-Za-z0-9._:-]{1,128}): a reference pointer aimed at a person's field,
// or a system putting text there, must not hand the caller what its grant
// withholds. The record itself still comes; the drop is counted.
TEST_F(RecordServiceTest, AReferenceThatIsNoPlainTokenIsDropped) {
  int dropped = 0;
  for (const std::string& bad :
       {std::string("Trần Thị Bình"), std::string("033085012345 Tran Thi Binh"),
        std::string(129, 'R')}) {
    registry().set_reference(bad);
    Record record;
    ASSERT_TRUE(Get("dossier-system", Good(), &record).ok());
    EXPECT_EQ(record.reference(), "");
    EXPECT_EQ(record.fields_size(), 2);
    EXPECT_THAT(server_->metrics_registry().Render(),
                HasSubstr(absl::StrCat("lienthong_metadata_values_dropped_"
                                       "total{key=\"reference\"} ",
                                       ++dropped)));
  }
  registry().set_reference("DKKD:2026.12-06_7");
  Record record;
  ASSERT_TRUE(Get("dossier-system", Good(), &record).ok());
  EXPECT_EQ(record.reference(), "DKKD:2026.12-06_7");
}

// A record lookup involves no citizen: its access line says so with an
// empty value, where "***" would stand for an ID that is not one.
TEST_F(RecordServiceTest, TheAccessLineOfARecordLookupNamesNoCitizen) {
  ::testing::internal::CaptureStderr();
  const grpc::Status status = Get("dossier-system", Good());
  server_.reset();  // the lines of its calls are written by now
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(log, HasSubstr("\"record_type\":\"enterprise\""));
  EXPECT_THAT(log, HasSubstr("\"citizen\":\"\""));
  EXPECT_THAT(log, HasSubstr("\"officer\":\"001*******21\""));
  EXPECT_THAT(log, Not(HasSubstr("\"citizen\":\"***\"")));
}

TEST_F(RecordServiceTest, FieldsOrPurposesBeyondTheGrantAreRefused) {
  GetRecordRequest status = Good();
  status.add_fields("status");
  grpc::Status refused = Get("dossier-system", status);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(refused.error_message(), HasSubstr("may not receive status"));
  GetRecordRequest other_purpose = Good();
  other_purpose.set_purpose("1.001193");  // only a citizen grant covers it
  refused = Get("dossier-system", other_purpose);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(refused.error_message(), HasSubstr("no grant for record type"));
  EXPECT_EQ(Get("no-rights", Good()).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(registry().calls(), 0);
}

TEST_F(RecordServiceTest, MalformedRequestsNeverReachTheNationalSystem) {
  struct Case {
    const char* name;
    void (*change)(GetRecordRequest&);
    const char* message;
  };
  const Case kCases[] = {
      {"no type", [](auto& r) { r.clear_record_type(); },
       "record_type is required"},
      {"type not served", [](auto& r) { r.set_record_type("vehicle"); },
       "'vehicle' is not served"},
      {"type malformed", [](auto& r) { r.set_record_type("Vehicle"); },
       "record_type must be"},
      {"value breaks the pattern",
       [](auto& r) { (*r.mutable_parameters())["tax_code"] = "98765x"; },
       "parameters.tax_code does not have the form"},
      {"unknown parameter",
       [](auto& r) { (*r.mutable_parameters())["owner"] = "98765"; },
       "'owner' is not a parameter"},
      {"no officer", [](auto& r) { r.clear_officer(); }, "officer is required"},
      {"purpose not a code", [](auto& r) { r.set_purpose("enterprise"); },
       "procedure code"},
      {"unknown field", [](auto& r) { r.add_fields("capital"); },
       "'capital' is not a field"},
  };
  for (const Case& c : kCases) {
    GetRecordRequest request = Good();
    c.change(request);
    grpc::Status status = Get("dossier-system", request);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << c.name;
    EXPECT_THAT(status.error_message(),
                AllOf(HasSubstr(c.message), Not(HasSubstr("98765"))))
        << c.name;
  }
  EXPECT_EQ(registry().calls(), 0);
}

TEST_F(RecordServiceTest, AdapterFailuresReachTheCallerRetriedWhenRetriable) {
  GetRecordRequest missing = Good();
  (*missing.mutable_parameters())["tax_code"] = "0000000000";
  EXPECT_EQ(Get("dossier-system", missing).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(registry().calls(), 1);
  // One retriable failure is retried (the route allows 2 attempts) ...
  registry().Fail(adapters::MarkRetriable(absl::UnavailableError("busy")));
  EXPECT_TRUE(Get("dossier-system", Good()).ok());
  EXPECT_EQ(registry().calls(), 3);
  // ... a non-retriable one is not.
  registry().Fail(absl::UnavailableError("unreadable reply"));
  EXPECT_EQ(Get("dossier-system", Good()).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(registry().calls(), 4);
}

// GetRecord's routes are kept by adapter instance, apart from the other
// methods' routes: a ministry system's open breaker still makes the
// RecordService unready (grpc.health.v1 NOT_SERVING), and only it.
TEST_F(RecordServiceTest, AnOpenBreakerMakesTheServiceUnready) {
  constexpr char kRecordService[] = "lienthong.v1.RecordService";
  lienthong::config::v1::GatewayConfig config = Config();
  auto* breaker = config.mutable_adapters(0)->mutable_breaker();  // registry
  breaker->set_consecutive_failures(1);
  breaker->set_open_seconds(60);
  ASSERT_THAT(server_->Reload(config), IsOk());
  EXPECT_THAT(server_->ServiceReady(kRecordService), IsOk());
  registry().Fail(absl::UnavailableError("down"));
  EXPECT_EQ(Get("dossier-system", Good()).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(server_->ServiceReady(kRecordService),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("circuit breaker to 'registry' is open")));
  EXPECT_THAT(server_->ServiceReady("lienthong.v1.PopulationService"), IsOk());
}

// BuildRuntime's rules, reached through Start as --check reaches them.
absl::Status StartWith(const lienthong::config::v1::GatewayConfig& config) {
  adapters::AdapterRegistry registry;
  EXPECT_THAT(registry.Register(std::make_unique<FakeFactory>()), IsOk());
  return GatewayServer::Start(config, registry, nullptr).status();
}

TEST(RecordRuntimeTest, ARecordTypeComesFromOneInstance) {
  auto config = Config();
  auto* clash = config.add_adapters();
  *clash = config.adapters(0);
  clash->set_name("clash");
  absl::Status status = StartWith(config);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument,
                               HasSubstr("record type 'enterprise' is already "
                                         "served by adapter 'registry'")));
  EXPECT_EQ(config::ConfigFieldOf(status), "adapters[2].config");
}

TEST(RecordRuntimeTest, RecordGrantsNameServedTypesAndTheirFields) {
  auto config = Config();
  config.mutable_clients(0)->mutable_grants(0)->set_record_type("vehicle");
  absl::Status status = StartWith(config);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument,
                               HasSubstr("no configured adapter serves record "
                                         "type 'vehicle'")));
  EXPECT_EQ(config::ConfigFieldOf(status), "clients[0].grants[0].record_type");

  config = Config();
  config.mutable_clients(0)->mutable_grants(0)->add_fields("capital");
  status = StartWith(config);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument,
                               HasSubstr("'capital' is not a field of record "
                                         "type 'enterprise'")));
  EXPECT_EQ(config::ConfigFieldOf(status), "clients[0].grants[0].fields[3]");
}

TEST(RecordRuntimeTest, GetRecordIsRoutedOncePerAdapterInstance) {
  auto config = Config();
  auto* land = config.add_routes();  // another instance: fine
  *land = config.routes(0);
  land->set_adapter("land");
  EXPECT_THAT(StartWith(config), IsOk());
  config.mutable_routes()->RemoveLast();
  auto* twice = config.add_routes();
  *twice = config.routes(0);
  absl::Status status = StartWith(config);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument,
                               HasSubstr("is already routed by routes[0]")));
  EXPECT_EQ(config::ConfigFieldOf(status), "routes[1].method");
}

}  // namespace
}  // namespace lienthong::server
