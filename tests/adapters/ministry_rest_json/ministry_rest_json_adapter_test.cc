// The "ministry-rest-json" factory and adapter, created through the builtin
// registry as the gateway creates them: config errors by field (table), and
// the HTTP request each record type's config makes, against a recording
// fake HttpClient.
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "adapters/common/http/http_client.h"
#include "adapters/common/retriable.h"
#include "adapters/ministry_rest_json/ministry_rest_json_config.pb.h"
#include "adapters/registry.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::adapters::ministry_rest_json {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::StatusIs;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;

// Answers every request with `response` (or `failure`), keeping the request.
class FakeHttp final : public HttpClient {
 public:
  void Send(HttpRequest request, HttpCallback done) override {
    requests.push_back(std::move(request));
    if (!failure.ok()) return std::move(done)(failure);
    std::move(done)(response);
  }
  std::vector<HttpRequest> requests;
  HttpResponse response;
  absl::Status failure;
};

constexpr char kConfig[] = R"pb(
  upstream { base_url: "https://registry.example:8443/api" }
  headers { key: "X-Api-Key" value: "k-123" }
  record_types {
    name: "enterprise"
    path: "/dn/{tax_code}"
    parameters { name: "tax_code" pattern: "[0-9]{10}" }
    fields { name: "name" pointer: "/duLieu/ten" }
    fields { name: "status" pointer: "/duLieu/tinhTrang" }
    reference_pointer: "/maGiaoDich"
  }
  record_types {
    name: "land_parcel"
    method: "POST"
    path: "/thua-dat/tra-cuu"
    body: "{\"soTo\": \"{sheet}\", \"soThua\": \"{parcel}\"}"
    parameters { name: "sheet" }
    parameters { name: "parcel" optional: true }
    fields { name: "area" pointer: "/dienTich" }
    not_found { pointer: "/maLoi" equals: "KHONG_CO" }
  }
)pb";

MinistryRestJsonConfig Config() {
  MinistryRestJsonConfig config;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(kConfig, &config));
  return config;
}

absl::StatusOr<std::unique_ptr<Adapter>> Make(const MinistryRestJsonConfig& c,
                                              HttpClient* http) {
  AdapterRegistry registry;
  RegisterBuiltinAdapters(registry);
  lienthong::config::v1::AdapterInstance instance;
  instance.set_name("registry");
  instance.set_type("ministry-rest-json");
  instance.mutable_config()->PackFrom(c);
  return registry.Create(instance, AdapterContext{"registry", http});
}

absl::StatusOr<Reply<RecordReply>> Fetch(Adapter& adapter,
                                         RecordRequest request) {
  absl::StatusOr<Reply<RecordReply>> result = absl::UnknownError("no answer");
  adapter.records()->Fetch(request, CallContext{},
                           [&](absl::StatusOr<Reply<RecordReply>> reply) {
                             result = std::move(reply);
                           });
  return result;
}

TEST(MinistryRestJsonAdapterTest, DeclaresItsRecordTypes) {
  FakeHttp http;
  auto adapter = Make(Config(), &http);
  ASSERT_THAT(adapter, IsOk());
  const auto& types = (*adapter)->records()->RecordTypes();
  ASSERT_EQ(types.size(), 2u);
  EXPECT_EQ(types[0].name, "enterprise");
  EXPECT_EQ(types[0].parameters[0].pattern, "[0-9]{10}");
  EXPECT_TRUE(types[0].parameters[0].required);
  EXPECT_THAT(types[0].fields, ElementsAre("name", "status"));
  EXPECT_FALSE(types[1].parameters[1].required);
  EXPECT_EQ((*adapter)->population(), nullptr);
}

TEST(MinistryRestJsonAdapterTest, GetRequestFromThePathTemplate) {
  FakeHttp http;
  http.response.status = 200;
  http.response.body =
      R"({"maGiaoDich": "G-9", "duLieu": {"ten": "Công ty A", "tinhTrang": "x"}})";
  auto adapter = Make(Config(), &http);
  ASSERT_THAT(adapter, IsOk());
  auto reply = Fetch(**adapter, {"enterprise", {{"tax_code", "0101234567"}}, "2.001610"});
  ASSERT_THAT(reply, IsOk());
  EXPECT_THAT(reply->value.fields,
              ElementsAre(Pair("name", "Công ty A"), Pair("status", "x")));
  EXPECT_EQ(reply->reference, "G-9");
  ASSERT_EQ(http.requests.size(), 1u);
  EXPECT_EQ(http.requests[0].method, "GET");
  EXPECT_EQ(http.requests[0].url,
            "https://registry.example:8443/api/dn/0101234567");
  EXPECT_THAT(http.requests[0].headers, Contains("X-Api-Key: k-123"));
  EXPECT_THAT(http.requests[0].headers, Contains("Accept: application/json"));
  EXPECT_EQ(http.requests[0].body, "");
}

TEST(MinistryRestJsonAdapterTest, PostRequestFromTheBodyTemplate) {
  FakeHttp http;
  http.response.status = 200;
  http.response.body = R"({"maLoi": "KHONG_CO"})";
  auto adapter = Make(Config(), &http);
  ASSERT_THAT(adapter, IsOk());
  auto reply = Fetch(**adapter, {"land_parcel", {{"sheet", "12\"3"}}, ""});
  EXPECT_THAT(reply, StatusIs(absl::StatusCode::kNotFound,
                              HasSubstr("land_parcel")));
  ASSERT_EQ(http.requests.size(), 1u);
  EXPECT_EQ(http.requests[0].method, "POST");
  EXPECT_EQ(http.requests[0].body, R"({"soTo": "12\"3", "soThua": ""})");
  EXPECT_THAT(http.requests[0].headers,
              Contains("Content-Type: application/json; charset=utf-8"));
}

TEST(MinistryRestJsonAdapterTest, TransportFailuresAreRetriable) {
  FakeHttp http;
  auto adapter = Make(Config(), &http);
  ASSERT_THAT(adapter, IsOk());
  http.failure = absl::UnavailableError("connection refused");
  auto down = Fetch(**adapter, {"enterprise", {{"tax_code", "0101234567"}}, ""});
  EXPECT_THAT(down, StatusIs(absl::StatusCode::kUnavailable,
                             HasSubstr("'registry' is unreachable")));
  EXPECT_TRUE(IsRetriable(down.status()));
  http.failure = absl::DeadlineExceededError("timeout");
  auto slow = Fetch(**adapter, {"enterprise", {{"tax_code", "0101234567"}}, ""});
  EXPECT_THAT(slow, StatusIs(absl::StatusCode::kDeadlineExceeded,
                             HasSubstr("did not answer in time")));
}

TEST(MinistryRestJsonAdapterTest, DotOrEmptyPathSegmentsAreRefusedUnsent) {
  MinistryRestJsonConfig config = Config();
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(
        name: "case_file"
        path: "/ho-so/{id}/chi-tiet/{part}?nam={year}"
        parameters { name: "id" }
        parameters { name: "part" optional: true }
        parameters { name: "year" optional: true }
        fields { name: "title" pointer: "/tieuDe" }
      )pb",
      config.add_record_types()));
  FakeHttp http;
  http.response.status = 200;
  http.response.body = R"({"tieuDe": "T"})";
  auto adapter = Make(config, &http);
  ASSERT_THAT(adapter, IsOk());
  using Values = std::map<std::string, std::string>;
  const std::pair<Values, const char*> kRefused[] = {
      {{{"id", ".."}, {"part", "p"}}, "'id'"},
      {{{"id", "."}, {"part", "p"}}, "'id'"},
      {{{"id", "a"}, {"part", ".."}}, "'part'"},
      {{{"id", "a"}, {"part", ""}}, "'part'"},
      {{{"id", "a"}}, "'part'"},  // left out: expands to ""
  };
  for (const auto& [parameters, name] : kRefused) {
    auto reply = Fetch(**adapter, {"case_file", parameters, ""});
    EXPECT_THAT(reply, StatusIs(absl::StatusCode::kInvalidArgument,
                                AllOf(HasSubstr(name), HasSubstr("URL path"))))
        << name;
    EXPECT_TRUE(WasNotSent(reply.status())) << name;
    EXPECT_FALSE(IsRetriable(reply.status())) << name;
  }
  EXPECT_TRUE(http.requests.empty());

  // Dots that are not a whole segment, and any value in the query, are sent.
  auto reply = Fetch(
      **adapter,
      {"case_file", {{"id", "..."}, {"part", "..a"}, {"year", ".."}}, ""});
  ASSERT_THAT(reply, IsOk());
  ASSERT_EQ(http.requests.size(), 1u);
  EXPECT_EQ(http.requests[0].url,
            "https://registry.example:8443/api/ho-so/.../chi-tiet/..a?nam=..");
}

TEST(MinistryRestJsonAdapterTest, ReplyOverTheClientsLimitIsNotRetriable) {
  FakeHttp http;
  auto adapter = Make(Config(), &http);
  ASSERT_THAT(adapter, IsOk());
  // As CurlHttpClient fails a body over its max_response_bytes.
  http.failure = ReplyTooLargeError(4 << 20);
  auto reply =
      Fetch(**adapter, {"enterprise", {{"tax_code", "0101234567"}}, ""});
  EXPECT_THAT(reply, StatusIs(absl::StatusCode::kUnavailable,
                              AllOf(HasSubstr("over 4194304 bytes"),
                                    HasSubstr("enterprise"),
                                    Not(HasSubstr("unreachable")))));
  EXPECT_FALSE(IsRetriable(reply.status()));
  EXPECT_FALSE(WasNotSent(reply.status()));
  EXPECT_EQ(http.requests.size(), 1u);
}

TEST(MinistryRestJsonAdapterTest, SuccessRuleFromTheConfig) {
  MinistryRestJsonConfig config = Config();
  SuccessRule* success = config.mutable_record_types(0)->mutable_success();
  success->set_pointer("/maLoi");
  success->add_equals("00");
  FakeHttp http;
  auto adapter = Make(config, &http);
  ASSERT_THAT(adapter, IsOk());
  const RecordRequest request{"enterprise", {{"tax_code", "0101234567"}}, ""};

  http.response.status = 200;
  http.response.body =
      R"({"maLoi": "00", "maGiaoDich": "G-1", "duLieu": {"ten": "Công ty A"}})";
  auto found = Fetch(**adapter, request);
  ASSERT_THAT(found, IsOk());
  EXPECT_THAT(found->value.fields, ElementsAre(Pair("name", "Công ty A")));

  http.response.body =
      R"({"maLoi": "E05", "thongBao": "Trần Thị Bình đã bị khóa"})";
  auto refused = Fetch(**adapter, request);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kUnavailable,
                                AllOf(HasSubstr("'enterprise'"),
                                      HasSubstr("code 'E05' at /maLoi"),
                                      Not(HasSubstr("Trần")))));
  EXPECT_FALSE(IsRetriable(refused.status()));

  // The record type without the rule reads the same reply as before.
  http.response.body = R"({"maLoi": "E05"})";
  EXPECT_THAT(Fetch(**adapter, {"land_parcel", {{"sheet", "1"}}, ""}), IsOk());
}

struct ConfigCase {
  const char* what;
  void (*spoil)(MinistryRestJsonConfig&);
  const char* error;
};

const ConfigCase kConfigCases[] = {
    {"http", [](auto& c) { c.mutable_upstream()->set_base_url("http://x"); },
     "upstream.base_url: must start with https://"},
    {"fragment",
     [](auto& c) { c.mutable_upstream()->set_base_url("https://h/api#"); },
     "upstream.base_url: must have no query or fragment"},
    {"header name", [](auto& c) { (*c.mutable_headers())["X Key"] = "v"; },
     "headers: 'X Key' is not a header name"},
    {"header value",
     [](auto& c) { (*c.mutable_headers())["X-A"] = "a\r\nB: c"; },
     "the value of 'X-A' must be"},
    {"no record type", [](auto& c) { c.clear_record_types(); },
     "record_types: required"},
    {"method", [](auto& c) { c.mutable_record_types(0)->set_method("DELETE"); },
     "record_types[0].method: must be GET or POST"},
    {"path",
     [](auto& c) { c.mutable_record_types(0)->set_path("dn/{tax_code}"); },
     "record_types[0].path: must start with /"},
    {"placeholder",
     [](auto& c) { c.mutable_record_types(0)->set_path("/dn/{mst}"); },
     "record_types[0].path: placeholder {mst} names no parameter"},
    {"body on GET", [](auto& c) { c.mutable_record_types(0)->set_body("{}"); },
     "record_types[0].body: needs method POST"},
    {"body not JSON",
     [](auto& c) { c.mutable_record_types(1)->set_body("{\"a\": {sheet}"); },
     "record_types[1].body: is not JSON"},
    // protobuf's parser takes single quotes and bare keys: a value there,
    // escaped only for a double-quoted string, could add members.
    {"body placeholder in single quotes",
     [](auto& c) {
       c.mutable_record_types(1)->set_body(
           "{\"soTo\": '{sheet}', \"soThua\": \"{parcel}\"}");
     },
     "record_types[1].body: has a single quote outside a string"},
    {"path with a mistyped placeholder",
     [](auto& c) { c.mutable_record_types(0)->set_path("/dn/{taxCode}"); },
     "record_types[0].path: has a { or } that is not a placeholder"},
    {"body with a mistyped placeholder",
     [](auto& c) {
       c.mutable_record_types(1)->set_body(
           "{\"soTo\": \"{sheet}\", \"soThua\": \"{Parcel}\"}");
     },
     "record_types[1].body: has a { or } that is not a placeholder"},
    {"parameter in no placeholder",
     [](auto& c) { c.mutable_record_types(0)->set_path("/dn/tra-cuu"); },
     "record_types[0].parameters: 'tax_code' is in no placeholder"},
    {"body placeholder as a bare key",
     [](auto& c) { c.mutable_record_types(1)->set_body("{ {sheet}: \"1\" }"); },
     "record_types[1].body: puts a placeholder outside a double-quoted"},
    {"pointer",
     [](auto& c) {
       c.mutable_record_types(0)->mutable_fields(1)->set_pointer("duLieu");
     },
     "record_types[0].fields[1].pointer: JSON pointer 'duLieu' must start"},
    {"not found equals alone",
     [](auto& c) {
       c.mutable_record_types(0)->mutable_not_found()->set_equals("x");
     },
     "record_types[0].not_found.equals: needs not_found.pointer"},
    {"not found status",
     [](auto& c) {
       c.mutable_record_types(0)->mutable_not_found()->add_http_statuses(99);
     },
     "record_types[0].not_found.http_statuses"},
    {"success pointer",
     [](auto& c) {
       c.mutable_record_types(0)->mutable_success()->set_pointer("maLoi");
       c.mutable_record_types(0)->mutable_success()->add_equals("00");
     },
     "record_types[0].success.pointer: JSON pointer 'maLoi' must start"},
    {"success pointer escape",
     [](auto& c) {
       c.mutable_record_types(1)->mutable_success()->set_pointer("/ma~2");
       c.mutable_record_types(1)->mutable_success()->add_equals("00");
     },
     "record_types[1].success.pointer: JSON pointer '/ma~2'"},
    {"success without codes",
     [](auto& c) {
       c.mutable_record_types(0)->mutable_success()->set_pointer("/maLoi");
     },
     "record_types[0].success.equals: required with success.pointer"},
    {"success with too many codes",
     [](auto& c) {
       SuccessRule* s = c.mutable_record_types(0)->mutable_success();
       s->set_pointer("/maLoi");
       for (int i = 0; i < 101; ++i) s->add_equals(absl::StrCat(i));
     },
     "record_types[0].success.equals: required with success.pointer: 1 to "
     "100 codes"},
    {"success codes alone",
     [](auto& c) {
       c.mutable_record_types(0)->mutable_success()->add_equals("0");
     },
     "record_types[0].success.equals: needs success.pointer"},
    {"success code empty",
     [](auto& c) {
       SuccessRule* s = c.mutable_record_types(0)->mutable_success();
       s->set_pointer("/maLoi");
       s->add_equals("00");
       s->add_equals("");
     },
     "record_types[0].success.equals[1]: must be 1 to 64 bytes"},
    {"success code too long",
     [](auto& c) {
       SuccessRule* s = c.mutable_record_types(0)->mutable_success();
       s->set_pointer("/maLoi");
       s->add_equals(std::string(65, '0'));
     },
     "record_types[0].success.equals[0]: must be 1 to 64 bytes"},
    {"success code control character",
     [](auto& c) {
       SuccessRule* s = c.mutable_record_types(0)->mutable_success();
       s->set_pointer("/maLoi");
       s->add_equals("0\n");
     },
     "record_types[0].success.equals[0]: must be 1 to 64 bytes without "
     "control characters"},
    {"repeated type",
     [](auto& c) { c.mutable_record_types(1)->set_name("enterprise"); },
     "record_types[1].name: 'enterprise' is repeated"},
    {"reply limit", [](auto& c) { c.set_max_reply_bytes(5 << 20); },
     "max_reply_bytes"},
};

TEST(MinistryRestJsonFactoryTest, ConfigErrorsNameTheField) {
  FakeHttp http;
  for (const ConfigCase& c : kConfigCases) {
    MinistryRestJsonConfig config = Config();
    c.spoil(config);
    EXPECT_THAT(Make(config, &http),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.error)))
        << c.what;
  }
  EXPECT_THAT(Make(Config(), nullptr),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("HTTP client")));
}

}  // namespace
}  // namespace lienthong::adapters::ministry_rest_json
