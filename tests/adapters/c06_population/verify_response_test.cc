// The identity-check reply parser against the shape anhnbt/lgsp's
// input-output.xml shows: KetQuaXacThucResponse{TonTai} directly under Body.
#include "adapters/c06_population/verify_response.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "adapters/common/retriable.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::adapters::c06 {
namespace {

using ::lienthong::testing::IsOkAndHolds;
using ::lienthong::testing::StatusIs;
using ::testing::HasSubstr;

std::string Reply(absl::string_view inside) {
  return absl::StrCat(
      R"(<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">
   <SOAP-ENV:Header/>
   <SOAP-ENV:Body>
      <ns2:KetQuaXacThucResponse xmlns:ns2="http://dancuquocgia.bca">)",
      inside, R"(</ns2:KetQuaXacThucResponse>
   </SOAP-ENV:Body>
</SOAP-ENV:Envelope>)");
}

TEST(ParseVerifyResponseTest, TonTaiIsAnXsBoolean) {
  EXPECT_THAT(ParseVerifyResponse(200, Reply("<ns2:TonTai>true</ns2:TonTai>")),
              IsOkAndHolds(true));
  EXPECT_THAT(
      ParseVerifyResponse(200, Reply("<ns2:TonTai> false </ns2:TonTai>")),
      IsOkAndHolds(false));
  EXPECT_THAT(ParseVerifyResponse(200, Reply("<ns2:TonTai>1</ns2:TonTai>")),
              IsOkAndHolds(true));
  EXPECT_THAT(ParseVerifyResponse(200, Reply("<ns2:TonTai>0</ns2:TonTai>")),
              IsOkAndHolds(false));
}

TEST(ParseVerifyResponseTest, MalformedAnswers) {
  const struct {
    std::string body;
    const char* what;
  } kCases[] = {
      {Reply(""), "missing TonTai"},
      {Reply("<ns2:TonTai>True</ns2:TonTai>"), "bad TonTai"},
      {Reply("<ns2:TonTai>yes</ns2:TonTai>"), "bad TonTai"},
      {Reply("<ns2:TonTai/>"), "bad TonTai"},
      {R"(<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><ns1:CongdanCollection/></s:Body></s:Envelope>)",
       "missing KetQuaXacThucResponse"},
      {Reply("<ns2:TonTai>true</ns2:TonTai>").substr(0, 150), "not XML"},
      // A reply that says two things, or hides part of what it says from
      // a parser that reads the first piece, is not an answer.
      {Reply("<ns2:TonTai>true</ns2:TonTai><ns2:TonTai>false</ns2:TonTai>"),
       "an element twice where one is expected"},
      {R"(<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><a:KetQuaXacThucResponse xmlns:a="x"><a:TonTai>true</a:TonTai></a:KetQuaXacThucResponse><a:KetQuaXacThucResponse xmlns:a="x"><a:TonTai>false</a:TonTai></a:KetQuaXacThucResponse></s:Body></s:Envelope>)",
       "an element twice where one is expected"},
      {Reply("<ns2:TonTai>true<!---->false</ns2:TonTai>"),
       "text in more than one piece"},
      {Reply("<ns2:TonTai>tr<![CDATA[ue]]></ns2:TonTai>"),
       "text in more than one piece"},
      {Reply("<ns2:TonTai>1&#0;0</ns2:TonTai>"), "a control character"},
      {Reply("<ns2:TonTai>1&#x1B;</ns2:TonTai>"), "a control character"},
      {Reply("<ns2:TonTai>1\x07</ns2:TonTai>"), "a control character"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.what);
    EXPECT_THAT(ParseVerifyResponse(200, c.body),
                StatusIs(absl::StatusCode::kUnavailable,
                         absl::StrCat("population database sent a malformed "
                                      "reply: ",
                                      c.what)));
  }
}

TEST(ParseVerifyResponseTest, FaultsKeepTheirMapping) {
  const std::string busy =
      R"(<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault><faultcode>soap:Server</faultcode><faultstring>He thong dang ban</faultstring></soap:Fault></soap:Body></soap:Envelope>)";
  auto status = ParseVerifyResponse(500, busy).status();
  EXPECT_THAT(status,
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("busy")));
  EXPECT_TRUE(IsRetriable(status));
  EXPECT_THAT(ParseVerifyResponse(401, ""),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("rejected")));
  EXPECT_TRUE(IsRetriable(ParseVerifyResponse(503, "").status()));
}

}  // namespace
}  // namespace lienthong::adapters::c06
