// The "c06-population-soap" adapter against the simulated population
// database (tests/national_sim) over real TLS on 127.0.0.1: both
// capabilities, the signed headers the simulator checks, and the config
// rules; and against a fake HttpClient, what callers are told of replies
// the adapter cannot use.
#include "adapters/c06_population/c06_adapter.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "adapters/c06_population/c06_population_config.pb.h"
#include "adapters/common/http/http_client.h"
#include "adapters/common/retriable.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lienthong/config/v1/config.pb.h"
#include "tests/adapters/common/sim_https_fixture.h"
#include "tests/national_sim/citizen_generator.h"
#include "tests/national_sim/sim_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_officer.h"

namespace lienthong::adapters::c06 {
namespace {

using ::lienthong::adapters::c06::C06PopulationSoapConfig;
using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::lienthong::v1::Citizen;
using ::lienthong::v1::VerifyIdentityResponse;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kFoundId[] = "033085012345";

// A config that passes the adapter's rules, for the system at `base_url`.
C06PopulationSoapConfig BaseConfig(const std::string& base_url) {
  C06PopulationSoapConfig config;
  config.mutable_upstream()->set_base_url(base_url);
  config.set_path("/c06/soap");
  config.set_xroad_client("VN/GOV/000.00.00.H31/LIENTHONG");
  config.set_api_key("dev-population-key");
  config.set_username("lienthong-dev");
  config.set_secret("dev-population-secret");
  config.set_auth_url("https://c06.sim.lienthong.local/xacthuc");
  config.set_integration_code("037");
  config.set_identity_service_code("033");
  return config;
}

absl::StatusOr<std::unique_ptr<Adapter>> MakeAdapter(
    const C06PopulationSoapConfig& config, HttpClient* http) {
  AdapterContext context;
  context.instance_name = "population";
  context.http = http;
  return MakeC06PopulationSoapFactory()->Create(config, context);
}

// Runs one call of `start` and waits for its answer.
template <typename T, typename Start>
absl::StatusOr<Reply<T>> Run(Start start) {
  absl::Notification done;
  absl::StatusOr<Reply<T>> result = absl::UnknownError("not answered");
  CallContext context;
  context.deadline = absl::Now() + absl::Seconds(10);
  context.trace_id = "0123456789abcdef";
  start(context, [&](absl::StatusOr<Reply<T>> reply) {
    result = std::move(reply);
    done.Notify();
  });
  done.WaitForNotification();
  return result;
}

absl::StatusOr<Reply<Citizen>> Lookup(Adapter& adapter, const std::string& id,
                                      const std::string& purpose) {
  lienthong::v1::LookupCitizenRequest request;
  request.set_citizen_id(id);
  request.set_purpose(purpose);
  *request.mutable_officer() = lienthong::testing::TestOfficer();
  return Run<Citizen>([&](const CallContext& context, auto done) {
    adapter.population()->Lookup(request, context, std::move(done));
  });
}

absl::StatusOr<Reply<VerifyIdentityResponse>> Verify(Adapter& adapter,
                                                     const std::string& id,
                                                     const std::string& name) {
  lienthong::v1::VerifyIdentityRequest request;
  request.set_citizen_id(id);
  request.set_full_name(name);
  *request.mutable_officer() = lienthong::testing::TestOfficer();
  return Run<VerifyIdentityResponse>(
      [&](const CallContext& context, auto done) {
        adapter.identity()->Verify(request, context, std::move(done));
      });
}

class C06AdapterTest : public ::lienthong::testing::SimHttpsTest {
 protected:
  C06PopulationSoapConfig Config() const {
    C06PopulationSoapConfig config = BaseConfig(sim_->base_url());
    config.mutable_upstream()->set_ca_file(CertFile());
    return config;
  }

  absl::StatusOr<std::unique_ptr<Adapter>> Make(
      const C06PopulationSoapConfig& config) {
    return MakeAdapter(config, http_.get());
  }
};

TEST_F(C06AdapterTest, LooksUpWithTheSignedHeadersTheSimulatorChecks) {
  auto adapter = Make(Config());
  ASSERT_THAT(adapter, IsOk());
  ASSERT_NE((*adapter)->population(), nullptr);
  auto expected = sim::LookupCitizen(kFoundId);
  // The province's form of the procedure: MaDVC gets its national code
  // (the simulator refuses anything else).
  auto reply = Lookup(**adapter, kFoundId, "1.001193.000.00.00.H31");
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->value.citizen_id(), kFoundId);
  EXPECT_EQ(reply->value.name().full(), expected->RecordedName());
  EXPECT_EQ(reply->value.permanent_address().commune_code(),
            expected->permanent.commune);
  EXPECT_THAT(reply->reference, StartsWith("LT-0123456789abcdef-"));
  EXPECT_THAT(Lookup(**adapter, "033085012021", "1.001193"),
              StatusIs(absl::StatusCode::kNotFound, "no citizen has this ID"));
  const sim::SystemStats stats = sim_->Stats().of(sim::System::kPopulation);
  EXPECT_EQ(stats.lookups, 2);
  EXPECT_EQ(stats.auth_failures, 0);
  EXPECT_EQ(stats.answered_client_error, 0);
}

TEST_F(C06AdapterTest, ChecksIdentityOnly) {
  auto adapter = Make(Config());
  ASSERT_THAT(adapter, IsOk());
  ASSERT_NE((*adapter)->identity(), nullptr);
  auto expected = sim::LookupCitizen(kFoundId);
  auto match = Verify(**adapter, kFoundId, expected->FullName());
  ASSERT_THAT(match, IsOk());
  EXPECT_EQ(match->value.result(), VerifyIdentityResponse::MATCH);
  EXPECT_EQ(match->value.reference(), match->reference);
  auto no_match = Verify(**adapter, kFoundId, "Lê Văn Tám");
  ASSERT_THAT(no_match, IsOk());
  EXPECT_EQ(no_match->value.result(), VerifyIdentityResponse::NO_MATCH);
  EXPECT_NE(no_match->reference, match->reference);  // unique MaYeuCau
  EXPECT_THAT(
      Verify(**adapter, kFoundId, "An 7"),
      StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("full_name: ")));
  EXPECT_EQ(sim_->Stats().of(sim::System::kPopulation).identity_checks, 2);
}

TEST_F(C06AdapterTest, TheSimulatorRefusesAWrongSignatureOrIntegrationCode) {
  C06PopulationSoapConfig wrong_url = Config();
  wrong_url.set_auth_url(sim_->base_url() + "/c06/soap");
  auto adapter = Make(wrong_url);
  ASSERT_THAT(adapter, IsOk());
  EXPECT_THAT(Lookup(**adapter, kFoundId, "1.001193"),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("rejected the gateway's request")));
  C06PopulationSoapConfig wrong_code = Config();
  wrong_code.set_integration_code("999");
  adapter = Make(wrong_code);
  ASSERT_THAT(adapter, IsOk());
  EXPECT_THAT(Lookup(**adapter, kFoundId, "1.001193"),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("rejected the gateway's request")));
  const sim::SystemStats stats = sim_->Stats().of(sim::System::kPopulation);
  EXPECT_EQ(stats.auth_failures, 1);
  EXPECT_EQ(stats.answered_client_error, 2);
}

TEST_F(C06AdapterTest, ConfigRules) {
  struct Case {
    const char* what;
    void (*spoil)(C06PopulationSoapConfig&);
    const char* error;
  };
  const Case kCases[] = {
      {"plain http",
       [](C06PopulationSoapConfig& c) {
         c.mutable_upstream()->set_base_url("http://127.0.0.1:1");
       },
       "upstream.base_url must start with https://"},
      {"relative path", [](C06PopulationSoapConfig& c) { c.set_path("c06"); },
       "path must start with /"},
      {"identity path",
       [](C06PopulationSoapConfig& c) { c.set_identity_path("xacthuc"); },
       "identity_path must start with /"},
      {"no auth url", [](C06PopulationSoapConfig& c) { c.clear_auth_url(); },
       "auth_url is required"},
      {"no integration code",
       [](C06PopulationSoapConfig& c) { c.clear_integration_code(); },
       "integration_code is required"},
      {"no identity service code",
       [](C06PopulationSoapConfig& c) { c.clear_identity_service_code(); },
       "identity_service_code is required"},
      {"header injection",
       [](C06PopulationSoapConfig& c) { c.set_api_key("k\r\nX-Evil: 1"); },
       "api_key must be printable ASCII"},
      {"colon in user",
       [](C06PopulationSoapConfig& c) { c.set_username("a:b"); },
       "username must not contain ':'"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.what);
    C06PopulationSoapConfig config = Config();
    c.spoil(config);
    EXPECT_THAT(Make(config), StatusIs(absl::StatusCode::kInvalidArgument,
                                       HasSubstr(c.error)));
  }
  C06PopulationSoapConfig separate = Config();
  separate.set_identity_path("/c06/soap");
  EXPECT_THAT(Make(separate), IsOk());
}

// Answers every request with `response` (or `failure`), counting them.
class FakeHttp final : public HttpClient {
 public:
  void Send(HttpRequest, HttpCallback done) override {
    ++requests;
    if (!failure.ok()) return std::move(done)(failure);
    std::move(done)(response);
  }
  int requests = 0;
  HttpResponse response;
  absl::Status failure;
};

// An HTTP 200 SOAP reply with `body_content` inside the Body, laid out as
// the population database's (docs/wire-formats.md).
HttpResponse SoapReply(absl::string_view body_content) {
  HttpResponse response;
  response.status = 200;
  response.body = absl::StrCat(
      R"(<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
  <soapenv:Body>)",
      body_content, R"(</soapenv:Body>
</soapenv:Envelope>)");
  return response;
}

// A lookup reply holding one CongDan with `congdan` inside.
HttpResponse CongDanReply(absl::string_view congdan) {
  return SoapReply(absl::StrCat(
      R"(<ns1:CongdanCollection xmlns:ns1="http://www.mic.gov.vn/dancu/1.0">)",
      "<ns1:CongDan>", congdan, "</ns1:CongDan></ns1:CongdanCollection>"));
}

TEST(C06AdapterReplyTest, ReplyOverTheClientsLimitIsNotRetriable) {
  FakeHttp http;
  auto adapter = MakeAdapter(BaseConfig("https://c06.example"), &http);
  ASSERT_THAT(adapter, IsOk());
  // As CurlHttpClient fails a body over its max_response_bytes: sending
  // again would download the same reply.
  http.failure = ReplyTooLargeError(4 << 20);
  auto lookup = Lookup(**adapter, kFoundId, "1.001193");
  EXPECT_THAT(lookup, StatusIs(absl::StatusCode::kUnavailable,
                               AllOf(HasSubstr("reply over 4194304 bytes"),
                                     Not(HasSubstr("unreachable")))));
  EXPECT_FALSE(IsRetriable(lookup.status()));
  EXPECT_FALSE(WasNotSent(lookup.status()));
  auto verify = Verify(**adapter, kFoundId, "Lê Văn Tám");
  EXPECT_THAT(verify, StatusIs(absl::StatusCode::kUnavailable,
                               AllOf(HasSubstr("reply over 4194304 bytes"),
                                     Not(HasSubstr("unreachable")))));
  EXPECT_FALSE(IsRetriable(verify.status()));
  EXPECT_EQ(http.requests, 2);
}

// The element that broke the rules can tell what the caller's grant
// withholds (here that the citizen has a spouse on record): only the
// operator's log names it.
TEST(C06AdapterReplyTest, AMalformedLookupReplyNamesNoElementToTheCaller) {
  FakeHttp http;
  auto adapter = MakeAdapter(BaseConfig("https://c06.example"), &http);
  ASSERT_THAT(adapter, IsOk());
  http.response = CongDanReply(absl::StrCat(
      "<ns1:SoDinhDanh>", kFoundId, "</ns1:SoDinhDanh>",
      "<ns1:VoChong><ns1:SoDinhDanh>12345</ns1:SoDinhDanh></ns1:VoChong>"));
  ::testing::internal::CaptureStderr();
  auto reply = Lookup(**adapter, kFoundId, "1.001193");
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(reply, StatusIs(absl::StatusCode::kUnavailable,
                              AllOf(StartsWith("population database "),
                                    HasSubstr("malformed reply"),
                                    Not(HasSubstr("VoChong")),
                                    Not(HasSubstr("SoDinhDanh")))));
  EXPECT_FALSE(IsRetriable(reply.status()));
  EXPECT_THAT(log, AllOf(HasSubstr("\"level\":\"warning\""),
                         HasSubstr("\"trace_id\":\"0123456789abcdef\""),
                         HasSubstr("\"problem\":\"population database sent "
                                   "a malformed reply: bad SoDinhDanh in "
                                   "VoChong\"")));
}

TEST(C06AdapterReplyTest, AMalformedVerifyReplyNamesNoElementToTheCaller) {
  FakeHttp http;
  auto adapter = MakeAdapter(BaseConfig("https://c06.example"), &http);
  ASSERT_THAT(adapter, IsOk());
  http.response = SoapReply(
      "<dan:KetQuaXacThucResponse xmlns:dan=\"http://dancuquocgia.bca\">"
      "<dan:TonTai>perhaps</dan:TonTai></dan:KetQuaXacThucResponse>");
  auto reply = Verify(**adapter, kFoundId, "Lê Văn Tám");
  EXPECT_THAT(reply, StatusIs(absl::StatusCode::kUnavailable,
                              AllOf(HasSubstr("malformed reply"),
                                    Not(HasSubstr("TonTai")))));
  EXPECT_FALSE(IsRetriable(reply.status()));
}

}  // namespace
}  // namespace lienthong::adapters::c06
