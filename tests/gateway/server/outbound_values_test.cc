// What the gateway sends back that came from outside, through the real
// in-process server over mutual TLS on 127.0.0.1:0 in front of a fake
// national system: a reference that is no legal header value is dropped and
// counted (gRPC 1.51 would abort the process on it), and the statuses the
// gateway answers with stay within their bound.
#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "adapters/registry.h"
#include "gateway/server/gateway_server.h"
#include "gateway/server/outbound_metadata.h"
#include "gateway/status/bounded_text.h"
#include "gmock/gmock.h"
#include "google/protobuf/empty.pb.h"
#include "grpc/support/time.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"
#include "gtest/gtest.h"
#include "lienthong/config/v1/config.pb.h"
#include "lienthong/v1/identity.grpc.pb.h"
#include "lienthong/v1/population.grpc.pb.h"
#include "tests/integration/gateway_env.h"      // UseTestListener
#include "tests/integration/gateway_process.h"  // ClientChannel
#include "tests/testing/scratch_dir.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_officer.h"

namespace lienthong::server {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::v1::Citizen;
using ::lienthong::v1::LookupCitizenRequest;
using ::lienthong::v1::VerifyIdentityRequest;
using ::lienthong::v1::VerifyIdentityResponse;
using ::testing::HasSubstr;

constexpr char kCitizenId[] = "033085012345";
constexpr char kClient[] = "spiffe://lienthong.local/dossier-system";

// What the fake national system answers next.
struct Answer {
  absl::Mutex mu;
  std::string reference ABSL_GUARDED_BY(mu) = "C06-REF-1";
  absl::Status failure ABSL_GUARDED_BY(mu);
  // The time the last call had left when it reached the adapter.
  absl::Duration time_left ABSL_GUARDED_BY(mu);
};

class FakeAdapter final : public adapters::Adapter,
                          public adapters::IdentityAdapter,
                          public adapters::PopulationAdapter {
 public:
  explicit FakeAdapter(Answer* answer) : answer_(answer) {}
  adapters::IdentityAdapter* identity() override { return this; }
  adapters::PopulationAdapter* population() override { return this; }

  // The reference in the answer's body, as a gRPC upstream sends it.
  void Verify(const VerifyIdentityRequest& request,
              const adapters::CallContext& context,
              adapters::Callback<VerifyIdentityResponse> done) override {
    absl::MutexLock lock(&answer_->mu);
    VerifyIdentityResponse response;
    response.set_result(VerifyIdentityResponse::MATCH);
    response.set_reference(answer_->reference);
    std::move(done)(
        adapters::Reply<VerifyIdentityResponse>{response, std::string()});
  }

  void Lookup(const LookupCitizenRequest& request,
              const adapters::CallContext& context,
              adapters::Callback<Citizen> done) override {
    absl::MutexLock lock(&answer_->mu);
    answer_->time_left = context.deadline - absl::Now();
    if (!answer_->failure.ok()) return std::move(done)(answer_->failure);
    Citizen citizen;
    citizen.set_citizen_id(request.citizen_id());
    citizen.mutable_name()->set_full("Nguyễn Văn An");
    std::move(done)(adapters::Reply<Citizen>{citizen, answer_->reference});
  }

 private:
  Answer* const answer_;
};

class FakeFactory final
    : public adapters::FactoryBase<google::protobuf::Empty> {
 public:
  explicit FakeFactory(Answer* answer) : answer_(answer) {}
  absl::string_view name() const override { return "fake"; }

 protected:
  absl::StatusOr<std::unique_ptr<adapters::Adapter>> CreateTyped(
      const google::protobuf::Empty&,
      const adapters::AdapterContext&) const override {
    return std::make_unique<FakeAdapter>(answer_);
  }

 private:
  Answer* const answer_;
};

lienthong::config::v1::GatewayConfig Config() {
  lienthong::config::v1::GatewayConfig config;
  ::lienthong::testing::UseTestListener(config);
  config.mutable_audit()->set_disabled(true);
  config.mutable_admin()->set_disabled(true);
  auto* adapter = config.add_adapters();
  adapter->set_name("national");
  adapter->set_type("fake");
  adapter->mutable_config()->PackFrom(google::protobuf::Empty());
  auto* route = config.add_routes();
  route->set_method("lienthong.v1.PopulationService/LookupCitizen");
  route->set_adapter("national");
  route->set_timeout_ms(2000);
  auto* verify = config.add_routes();
  verify->set_method("lienthong.v1.IdentityService/VerifyIdentity");
  verify->set_adapter("national");
  verify->set_timeout_ms(2000);
  auto* client = config.add_clients();
  client->set_id(kClient);
  client->add_methods("lienthong.v1.PopulationService/LookupCitizen");
  client->add_methods("lienthong.v1.IdentityService/VerifyIdentity");
  auto* grant = client->add_grants();
  grant->add_purposes("*");
  grant->add_fields("name");
  return config;
}

class OutboundValuesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(registry_.Register(std::make_unique<FakeFactory>(&answer_)),
                IsOk());
    auto server = GatewayServer::Start(Config(), registry_, /*http=*/nullptr);
    ASSERT_THAT(server, IsOk());
    server_ = *std::move(server);
  }

  void Script(std::string reference, absl::Status failure = absl::OkStatus()) {
    absl::MutexLock lock(&answer_.mu);
    answer_.reference = std::move(reference);
    answer_.failure = std::move(failure);
  }

  static LookupCitizenRequest GoodLookup() {
    LookupCitizenRequest r;
    r.set_citizen_id(kCitizenId);
    r.set_purpose("1.001193");
    r.set_dossier_id("000.00.01.H31-251127-00042");
    *r.mutable_officer() = ::lienthong::testing::TestOfficer();
    return r;
  }

  // The call's status; `*reference` gets its lienthong-reference trailer
  // ("<none>" without one).
  grpc::Status Lookup(const LookupCitizenRequest& request,
                      std::string* reference = nullptr,
                      Citizen* citizen = nullptr,
                      const gpr_timespec* deadline = nullptr) {
    grpc::ClientContext context;
    if (deadline != nullptr) {
      context.set_deadline(*deadline);
    } else {
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    }
    Citizen ignored;
    grpc::Status status =
        lienthong::v1::PopulationService::NewStub(
            ::lienthong::testing::ClientChannel(server_->port(), "dossier-system"))
            ->LookupCitizen(&context, request,
                            citizen != nullptr ? citizen : &ignored);
    if (reference != nullptr) {
      const auto& trailers = context.GetServerTrailingMetadata();
      auto it = trailers.find("lienthong-reference");
      *reference = it == trailers.end()
                       ? "<none>"
                       : std::string(it->second.data(), it->second.size());
    }
    return status;
  }

  std::string Metrics() const { return server_->metrics_registry().Render(); }

  Answer answer_;
  adapters::AdapterRegistry registry_;
  std::unique_ptr<GatewayServer> server_;
};

TEST_F(OutboundValuesTest, AReferenceThatIsNoLegalHeaderValueIsDroppedAndCounted) {
  std::string reference;
  ASSERT_TRUE(Lookup(GoodLookup(), &reference).ok());
  EXPECT_EQ(reference, "C06-REF-1");

  // A Vietnamese letter and a tab (gRPC 1.51 aborted the process on it),
  // a space, a newline, an empty-looking but too long value.
  const std::string kBad[] = {"Mã-ĐƯỢC\t1", "REF 1", "REF\r\nx-injected: 1",
                              std::string(129, 'A'), "REF/1"};
  int dropped = 0;
  for (const std::string& bad : kBad) {
    Script(bad);
    Citizen citizen;
    grpc::Status status = Lookup(GoodLookup(), &reference, &citizen);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(reference, "<none>");
    EXPECT_EQ(citizen.name().full(), "Nguyễn Văn An");
    ++dropped;
    EXPECT_THAT(Metrics(),
                HasSubstr(absl::StrCat(
                    "lienthong_metadata_values_dropped_total{key=\"lienthong-"
                    "reference\"} ",
                    dropped)));
  }
  // Still serving, and a good value still passes.
  Script(std::string(128, 'A'));
  ASSERT_TRUE(Lookup(GoodLookup(), &reference).ok());
  EXPECT_EQ(reference, std::string(128, 'A'));
}

// A reference in an answer's body follows the same rule: it could hold
// anything another system put there, personal data included.
TEST_F(OutboundValuesTest, AReferenceInTheAnswersBodyFollowsTheSameRule) {
  auto verify = [&](VerifyIdentityResponse* response) {
    VerifyIdentityRequest request;
    request.set_citizen_id(kCitizenId);
    request.set_full_name("Nguyễn Văn An");
    *request.mutable_officer() = ::lienthong::testing::TestOfficer();
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    return lienthong::v1::IdentityService::NewStub(
               ::lienthong::testing::ClientChannel(server_->port(),
                                                   "dossier-system"))
        ->VerifyIdentity(&context, request, response);
  };
  int dropped = 0;
  for (const std::string& bad :
       {std::string("NOT_FOUND 033085012345"), std::string("Nguyễn Văn An"),
        std::string(129, 'A')}) {
    Script(bad);
    VerifyIdentityResponse response;
    grpc::Status status = verify(&response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.result(), VerifyIdentityResponse::MATCH);
    EXPECT_EQ(response.reference(), "");
    EXPECT_THAT(Metrics(), HasSubstr(absl::StrCat(
                               "lienthong_metadata_values_dropped_total{key="
                               "\"reference\"} ",
                               ++dropped)));
  }
  Script("VNEID-REF-7");
  VerifyIdentityResponse response;
  ASSERT_TRUE(verify(&response).ok());
  EXPECT_EQ(response.reference(), "VNEID-REF-7");
}

TEST_F(OutboundValuesTest, NoStatusMessageExceedsItsBound) {
  // An adapter error built from something long (non-ASCII, so that gRPC's
  // percent-encoding triples it).
  std::string huge;
  for (int i = 0; i < 20000; ++i) huge += "Đ";
  Script("R", absl::UnavailableError(huge));
  grpc::Status status = Lookup(GoodLookup());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(), HasSubstr("[truncated]"));
  size_t encoded = 0;
  for (unsigned char c : status.error_message()) {
    encoded += (c >= 0x20 && c <= 0x7E && c != '%') ? 1 : 3;
  }
  EXPECT_LE(encoded, kMaxStatusMessageBytes);
  EXPECT_GT(encoded, kMaxStatusMessageBytes - 16);
  // Cut at a character boundary: the message is valid UTF-8 ending in 'Đ'.
  EXPECT_EQ(status.error_message().rfind("Đ [truncated]"),
            status.error_message().size() - std::string("Đ [truncated]").size());
}

TEST_F(OutboundValuesTest, FieldMasksAndTheirRefusalsAreBounded) {
  // 65 paths, or 10,000: refused before the grants are looked at, with a
  // message that does not list them.
  for (int n : {65, 10000}) {
    LookupCitizenRequest request = GoodLookup();
    for (int i = 0; i < n; ++i) request.mutable_fields()->add_paths("name");
    grpc::Status status = Lookup(request);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << n;
    EXPECT_THAT(status.error_message(),
                HasSubstr(absl::StrCat("at most 64 paths (got ", n, ")")));
    EXPECT_LT(status.error_message().size(), 100u);
  }
  // Ten fields beyond the grant (only "name"): the first five named, and how
  // many more.
  const char* kFields[] = {"religion", "nationality", "hometown",
                           "father", "mother", "spouse", "gender",
                           "ethnicity", "birth_date", "old_id_number"};
  LookupCitizenRequest request = GoodLookup();
  for (const char* field : kFields) request.mutable_fields()->add_paths(field);
  grpc::Status denied = Lookup(request);
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(denied.error_message(),
              HasSubstr("religion, nationality, hometown, father, mother and "
                        "5 more"));
  // A path that is no field, however long, is quoted only in part.
  request = GoodLookup();
  request.mutable_fields()->add_paths(std::string(100000, 'x'));
  grpc::Status invalid = Lookup(request);
  EXPECT_EQ(invalid.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(invalid.error_message(), HasSubstr("is not a field of Citizen"));
  EXPECT_LT(invalid.error_message().size(), 200u);
}

TEST_F(OutboundValuesTest, ADeadlineBeyond2262IsClampedNotOverflowed) {
  // The year 3000 (nanoseconds since 1970 no longer fit in an int64).
  const gpr_timespec far = {32503680000, 0, GPR_CLOCK_REALTIME};
  grpc::Status status = Lookup(GoodLookup(), nullptr, nullptr, &far);
  ASSERT_TRUE(status.ok()) << status.error_message();
  absl::MutexLock lock(&answer_.mu);
  // The route's 2 s, not the past.
  EXPECT_GT(answer_.time_left, absl::Seconds(1));
  EXPECT_LE(answer_.time_left, absl::Seconds(2));
}

// `bytes` sent as the request of `method` with `stub`; the status.
grpc::Status RawCall(grpc::GenericStub& stub, const std::string& method,
                     const std::string& bytes) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  absl::Notification done;
  grpc::Status status;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();
  return status;
}

// The same as the dossier system, on a channel of its own.
grpc::Status RawCall(int port, const std::string& method,
                     const std::string& bytes) {
  grpc::GenericStub stub(
      ::lienthong::testing::ClientChannel(port, "dossier-system"));
  return RawCall(stub, method, bytes);
}

TEST_F(OutboundValuesTest, CallsRefusedBeforeAHandlerAreAccountedFor) {
  const std::string kLookupMethod =
      "/lienthong.v1.PopulationService/LookupCitizen";
  struct Case {
    const char* name;
    std::string bytes;
  };
  const Case kCases[] = {
      {"random bytes", std::string("\xff\xfe\x13\x37\x00\x01", 6)},
      {"truncated", GoodLookup().SerializeAsString().substr(0, 9)},
      {"wrong wire type", std::string("\x0f\x01\x02\x03\x04", 5)},
      {"invalid UTF-8", std::string("\x0a\x02\xc3\x28", 4)},
  };
  int refused = 0;
  for (const Case& c : kCases) {
    grpc::Status status = RawCall(server_->port(), kLookupMethod, c.bytes);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.name;
    EXPECT_EQ(status.error_message(),
              "request body is not a valid LookupCitizen request")
        << c.name;
    ++refused;
    EXPECT_THAT(Metrics(),
                HasSubstr(absl::StrCat(
                    "lienthong_calls_total{method=\"lienthong.v1."
                    "PopulationService/LookupCitizen\",client=\"",
                    kClient, "\",system=\"\",code=\"INVALID_ARGUMENT\"} ",
                    refused)))
        << c.name;
  }
  // A method no service has.
  for (int i = 1; i <= 2; ++i) {
    grpc::Status status =
        RawCall(server_->port(), "/lienthong.v1.PopulationService/Nope", "");
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
    EXPECT_THAT(Metrics(),
                HasSubstr(absl::StrCat(
                    "lienthong_calls_total{method=\"(unknown method)\",client=\"",
                    kClient, "\",system=\"\",code=\"UNIMPLEMENTED\"} ", i)));
  }
  // A good call still works.
  EXPECT_TRUE(Lookup(GoodLookup()).ok());
}

TEST_F(OutboundValuesTest, EveryClientHasALimitCheckedBeforeRightsAndAudit) {
  // A second gateway, audited, with a low default limit and a client that
  // has no rate_limit of its own and no right to lookups.
  lienthong::config::v1::GatewayConfig config = Config();
  const ::lienthong::testing::ScratchDir scratch("limits");
  const std::string& dir = scratch.path();
  config.mutable_audit()->set_disabled(false);
  config.mutable_audit()->set_store_file(dir + "/audit.db");
  config.mutable_listener()->mutable_limits()->set_client_requests_per_second(
      0.01);
  config.mutable_listener()->mutable_limits()->set_client_burst(2);
  config.add_clients()->set_id("spiffe://lienthong.local/no-rights");
  auto audited = GatewayServer::Start(config, registry_, /*http=*/nullptr);
  ASSERT_THAT(audited, IsOk());
  auto records = [&audited]() -> uint64_t {
    return (*audited)->audit_log()->durable_sequence();
  };
  // One channel per client: a client's TLS handshakes have a limit of
  // their own (10/s, burst 50), which a channel per call would meet first
  // on a fast machine.
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels;
  auto call = [&audited, &channels](const std::string& client) {
    std::shared_ptr<grpc::Channel>& channel = channels[client];
    if (channel == nullptr) {
      channel = ::lienthong::testing::ClientChannel((*audited)->port(), client);
    }
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    Citizen citizen;
    return lienthong::v1::PopulationService::NewStub(channel)
        ->LookupCitizen(&context, GoodLookup(), &citizen)
        .error_code();
  };
  // Refused by policy while within the limit, then by the limit: the limit
  // comes first.
  EXPECT_EQ(call("no-rights"), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(call("no-rights"), grpc::StatusCode::PERMISSION_DENIED);
  const uint64_t before = records();
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(call("no-rights"), grpc::StatusCode::RESOURCE_EXHAUSTED) << i;
  }
  // Fifty refusals within a second or two: a handful of audit records (the
  // audit log coalesces refusals: one a second and a count), not fifty;
  // every one counted.
  EXPECT_GE(records() - before, 1u);
  EXPECT_LE(records() - before, 8u);
  EXPECT_THAT((*audited)->metrics_registry().Render(),
              HasSubstr("lienthong_rate_limited_total{client=\"spiffe://"
                        "lienthong.local/no-rights\"} 50"));
  // Calls no handler takes (a method no service has, a body gRPC cannot
  // parse) take from the limit too: over it, they are cut off like any.
  // One channel: the client's TLS handshakes have a limit of their own.
  grpc::GenericStub stub(
      ::lienthong::testing::ClientChannel((*audited)->port(), "no-rights"));
  for (const char* method : {"/lienthong.v1.PopulationService/Nope",
                             "/lienthong.v1.PopulationService/LookupCitizen"}) {
    EXPECT_EQ(
        RawCall(stub, method, std::string("\xff\xfe\x13\x37", 4)).error_code(),
        grpc::StatusCode::RESOURCE_EXHAUSTED)
        << method;
  }
  EXPECT_THAT((*audited)->metrics_registry().Render(),
              HasSubstr("lienthong_rate_limited_total{client=\"spiffe://"
                        "lienthong.local/no-rights\"} 52"));
  // The other client has a bucket of its own.
  EXPECT_EQ(call("dossier-system"), grpc::StatusCode::OK);
}

TEST(OutboundMetadataTest, OnlyTheSafeAlphabetPasses) {
  EXPECT_TRUE(IsSafeMetadataValue("LT-1d3d7f9d5d847720-0"));
  EXPECT_TRUE(IsSafeMetadataValue("a.b_c:d-E9"));
  EXPECT_TRUE(IsSafeMetadataValue(std::string(128, 'x')));
  EXPECT_FALSE(IsSafeMetadataValue(""));
  EXPECT_FALSE(IsSafeMetadataValue(std::string(129, 'x')));
  for (const char* bad : {"a b", "a\tb", "Mã", "a/b", "a\nb", "a=b", "a%20"}) {
    EXPECT_FALSE(IsSafeMetadataValue(bad)) << bad;
  }
  EXPECT_FALSE(IsSafeMetadataValue(absl::string_view("a\0b", 3)));
}

}  // namespace
}  // namespace lienthong::server
