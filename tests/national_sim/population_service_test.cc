// The simulated population database's request checks and answers, called
// directly (no networking): authentication, the lookup's and the identity
// check's elements, TonTai, not found, and the counters per operation.
#include <optional>
#include <pugixml.hpp>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/national_sim/citizen_generator.h"
#include "tests/national_sim/population_requests.h"
#include "tests/national_sim/services.h"

namespace lienthong::sim {
namespace {

class PopulationServiceTest : public ::testing::Test {
 protected:
  SimReply Send(const std::string& body, const PopulationAuth& auth = {}) {
    SimRequest request;
    request.method = "POST";
    request.uri = request.path = "/c06/soap";
    request.headers = PopulationHeaderMap(auth, now_);
    request.body = body;
    return service_.Handle(request, now_);
  }

  // The reply's Body, parsed into `doc`.
  static pugi::xml_node Body(const SimReply& reply, pugi::xml_document& doc) {
    EXPECT_TRUE(doc.load_string(reply.body.c_str())) << reply.body;
    return doc.child("soapenv:Envelope").child("soapenv:Body");
  }

  const absl::Time now_ = absl::Now();
  PopulationService service_{PopulationConfig{}};
};

TEST_F(PopulationServiceTest, NotFoundIsAnEmptyCollectionAndCmndFindsItsOwner) {
  for (const std::string& id :
       {std::string("033085012012"), std::string("033485012345")}) {
    SimReply r = Send(SoapLookup(id));
    ASSERT_EQ(r.status, 200) << r.body;
    pugi::xml_document doc;
    pugi::xml_node collection = Body(r, doc).child("ns1:CongdanCollection");
    ASSERT_TRUE(collection) << id;
    EXPECT_STREQ(collection.attribute("SoCongDan").value(), "0");
    EXPECT_FALSE(collection.child("ns1:CongDan")) << id;
  }
  // A name that does not match is as good as not found.
  LookupFields other;
  other.name = "AI DO KHAC";
  EXPECT_FALSE(absl::StrContains(Send(SoapLookup("033085012345", other)).body,
                                 "<ns1:CongDan>"));
  EXPECT_TRUE(absl::StrContains(Send(SoapLookup("145123456")).body,
                                "<ns1:SoCMND>145123456</ns1:SoCMND>"));
  EXPECT_EQ(service_.lookups(), 4);
}

TEST_F(PopulationServiceTest, RejectsBadAuthentication) {
  std::vector<std::pair<const char*, PopulationAuth>> cases(8);
  cases[0] = {"wrong api key", {}};
  cases[0].second.key = "nope";
  cases[1] = {"wrong client", {}};
  cases[1].second.client = "VN/GOV/000.00.00.H99/OTHER";
  cases[2] = {"stale timestamp", {}};
  cases[2].second.clock_skew_s = -301;
  cases[3] = {"future timestamp", {}};
  cases[3].second.clock_skew_s = 400;
  cases[4] = {"wrong secret", {}};
  cases[4].second.secret = "guess";
  cases[5] = {"wrong user", {}};
  cases[5].second.user = "mallory";
  cases[6] = {"the URL called instead of authUrl", {}};
  cases[6].second.auth_url = "https://127.0.0.1:9443/c06/soap";
  cases[7] = {"timestamp in seconds", {}};
  cases[7].second.seconds = true;
  for (const auto& [what, auth] : cases) {
    SimReply r = Send(SoapLookup("033085012345"), auth);
    EXPECT_EQ(r.status, 401) << what;
    EXPECT_TRUE(r.auth_failure) << what;
    EXPECT_TRUE(absl::StrContains(r.body, "soap:Client")) << what;
    EXPECT_TRUE(absl::StrContains(r.body, "Xac thuc khong hop le")) << what;
  }
  // Within the window either way: accepted.
  PopulationAuth skewed;
  skewed.clock_skew_s = -250;
  EXPECT_EQ(Send(SoapLookup("033085012345"), skewed).status, 200);
  skewed.clock_skew_s = 250;
  EXPECT_EQ(Send(SoapLookup("033085012345"), skewed).status, 200);
}

TEST_F(PopulationServiceTest, RejectsBadRequests) {
  std::vector<std::pair<const char*, std::string>> cases;
  auto lookup = [&](const char* what, auto spoil) {
    LookupFields fields;
    spoil(fields);
    cases.emplace_back(what, SoapLookup("033085012345", fields));
  };
  lookup("integration code", [](LookupFields& x) { x.integration = "999"; });
  lookup("officer not an ID", [](LookupFields& x) { x.officer = "CB001"; });
  lookup("officer's old card",
         [](LookupFields& x) { x.officer = "145123456"; });
  lookup("no unit", [](LookupFields& x) { x.unit = ""; });
  lookup("no account", [](LookupFields& x) { x.account = ""; });
  lookup("provincial unit as MaDVC",
         [](LookupFields& x) { x.procedure = "000.00.00.H31"; });
  lookup("provincial form as MaDVC",
         [](LookupFields& x) { x.procedure = "1.001193.000.00.00.H31"; });
  lookup("no request id", [](LookupFields& x) { x.request_id = ""; });
  cases.emplace_back("check: service code",
                     SoapCheck("033085012345", "NGUYEN VAN AN", "034"));
  cases.emplace_back("check: officer",
                     SoapCheck("033085012345", "NGUYEN VAN AN", "033", "1"));
  cases.emplace_back("check: no name", SoapCheck("033085012345", ""));
  cases.emplace_back("unknown operation",
                     Soap("TraCuuKhac", E("MaYeuCau", "x")));
  cases.emplace_back("not XML", "<q:TraCuuThongTinCongDan>");
  for (const auto& [what, body] : cases) {
    SimReply r = Send(body);
    EXPECT_EQ(r.status, 500) << what;
    EXPECT_TRUE(r.client_fault) << what;
    EXPECT_TRUE(absl::StrContains(r.body, "Yeu cau khong hop le")) << what;
  }
}

TEST_F(PopulationServiceTest,
       IdentityCheckSaysOnlyWhetherTheCombinationExists) {
  const std::string id = "033085012345";
  std::optional<Citizen> c = LookupCitizen(id);
  std::optional<Citizen> by_card = LookupCitizen("145123456");
  ASSERT_TRUE(c.has_value() && by_card.has_value());
  struct Case {
    std::string id;
    std::string name;
    const char* exists;
  };
  const Case kCases[] = {
      {id, FoldName(c->FullName()), "true"},
      {id, c->RecordedName(), "true"},  // any case and diacritics
      {"145123456", FoldName(by_card->FullName()), "true"},
      {id, "NGUYEN VAN KHAC", "false"},
      {"033085012012", "NGUYEN VAN AN", "false"},  // no such citizen
  };
  for (const Case& k : kCases) {
    SimReply r = Send(SoapCheck(k.id, k.name));
    ASSERT_EQ(r.status, 200) << r.body;
    pugi::xml_document doc;
    pugi::xml_node result = Body(r, doc).child("ns2:KetQuaXacThucResponse");
    ASSERT_TRUE(result) << r.body;
    EXPECT_STREQ(result.attribute("xmlns:ns2").value(),
                 "http://dancuquocgia.bca");
    EXPECT_STREQ(result.child_value("ns2:TonTai"), k.exists) << k.name;
  }
  EXPECT_EQ(service_.identity_checks(), 5);
  EXPECT_EQ(service_.lookups(), 0);
}

}  // namespace
}  // namespace lienthong::sim
