// Who completes the TLS handshake (ClientAdmission), how operators write
// fingerprints (NormalizeFingerprint), and which TLS 1.2 suites the gateway
// lets gRPC use (SecureCipherSuites).
#include "gateway/tls/admission.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/resilience/clock.h"
#include "gateway/tls/client_identity.h"
#include "gateway/tls/fingerprint.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::tls {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::IsOkAndHolds;
using ::lienthong::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kPinA[] =
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
constexpr char kPinB[] =
    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

config::v1::GatewayConfig Clients(const std::string& text) {
  config::v1::GatewayConfig config;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &config));
  return config;
}

const char kClients[] = R"pb(
  clients { id: "spiffe://lienthong.local/dossier-system" }
  clients {
    id: "spiffe://lienthong.local/pinned"
    certificate_sha256: "AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA"
    certificate_sha256: "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
  }
  clients { id: "district-office" match_subject_cn: true }
  clients { id: "cn-not-enabled" }
)pb";

struct AdmitCase {
  const char* name;
  const char* uri;
  const char* cn;
  const char* fingerprint;
  absl::StatusCode code;
  const char* identity_or_reason;
};

const AdmitCase kAdmitCases[] = {
    {"configured SAN URI", "spiffe://lienthong.local/dossier-system", "x",
     kPinA, absl::StatusCode::kOk, "spiffe://lienthong.local/dossier-system"},
    {"unknown SAN URI", "spiffe://lienthong.local/stranger", "", kPinA,
     absl::StatusCode::kPermissionDenied, "unknown_identity"},
    {"the SAN URI wins over a configured CN", "spiffe://other/x",
     "district-office", kPinA, absl::StatusCode::kPermissionDenied,
     "unknown_identity"},
    {"CN-only certificate of a match_subject_cn client", "", "district-office",
     kPinA, absl::StatusCode::kOk, "district-office"},
    {"CN-only certificate of a URI client", "", "cn-not-enabled", kPinA,
     absl::StatusCode::kPermissionDenied, "unknown_identity"},
    {"a URI never matches a CN client", "district-office", "", kPinA,
     absl::StatusCode::kPermissionDenied, "unknown_identity"},
    {"neither URI nor CN", "", "", kPinA, absl::StatusCode::kPermissionDenied,
     "unknown_identity"},
    {"pinned certificate (written with colons, upper case)",
     "spiffe://lienthong.local/pinned", "", kPinA, absl::StatusCode::kOk,
     "spiffe://lienthong.local/pinned"},
    {"second pin", "spiffe://lienthong.local/pinned", "", kPinB,
     absl::StatusCode::kOk, "spiffe://lienthong.local/pinned"},
    {"another certificate of a pinned identity",
     "spiffe://lienthong.local/pinned", "",
     "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
     absl::StatusCode::kPermissionDenied, "not_pinned"},
};

TEST(ClientAdmissionTest, AdmitsByTheIdentityRule) {
  ClientAdmission admission({1000, 1000});
  ASSERT_THAT(admission.Update(Clients(kClients).clients()), IsOk());
  for (const AdmitCase& c : kAdmitCases) {
    SCOPED_TRACE(c.name);
    ClientAdmission::Refusal refusal;
    auto admitted = admission.Admit({c.uri, c.cn, c.fingerprint}, &refusal);
    EXPECT_EQ(admitted.status().code(), c.code) << admitted.status();
    if (admitted.ok()) {
      EXPECT_EQ(*admitted, c.identity_or_reason);
    } else {
      EXPECT_EQ(ClientAdmission::Reason(refusal), c.identity_or_reason);
    }
  }
}

TEST(ClientAdmissionTest, NobodyBeforeTheFirstUpdate) {
  ClientAdmission admission({});
  EXPECT_THAT(admission.Admit({"spiffe://lienthong.local/dossier-system", "",
                               kPinA}),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("not a configured client")));
}

TEST(ClientAdmissionTest, UpdateReplacesTheClientsAndRefusesBadPins) {
  ClientAdmission admission({1000, 1000});
  ASSERT_THAT(admission.Update(Clients(kClients).clients()), IsOk());
  const ClientAdmission::Presented dossier{
      "spiffe://lienthong.local/dossier-system", "", kPinA};
  ASSERT_THAT(admission.Admit(dossier), IsOk());

  // A bad pin refuses the whole update; the running set stays.
  EXPECT_THAT(admission.Update(Clients(R"pb(clients {
                                  id: "spiffe://lienthong.local/other"
                                  certificate_sha256: "not-hex"
                                })pb")
                                   .clients()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("spiffe://lienthong.local/other")));
  EXPECT_THAT(admission.Admit(dossier), IsOk());

  ASSERT_THAT(admission.Update(Clients(R"pb(clients {
                                 id: "spiffe://lienthong.local/other"
                               })pb")
                                   .clients()),
              IsOk());
  EXPECT_THAT(admission.Admit(dossier),
              StatusIs(absl::StatusCode::kPermissionDenied, ::testing::_));
  EXPECT_THAT(admission.Admit({"spiffe://lienthong.local/other", "", kPinA}),
              IsOkAndHolds("spiffe://lienthong.local/other"));
}

TEST(ClientAdmissionTest, EachIdentityHasItsOwnHandshakeRate) {
  resilience::FakeClock clock;
  ClientAdmission admission({2, 3}, &clock);
  ASSERT_THAT(admission.Update(Clients(kClients).clients()), IsOk());
  const ClientAdmission::Presented dossier{
      "spiffe://lienthong.local/dossier-system", "", kPinA};
  for (int i = 0; i < 3; ++i) EXPECT_THAT(admission.Admit(dossier), IsOk());
  ClientAdmission::Refusal refusal;
  EXPECT_THAT(admission.Admit(dossier, &refusal),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("dossier-system")));
  EXPECT_EQ(refusal, ClientAdmission::Refusal::kRateLimited);
  // Another client is not held up by it.
  EXPECT_THAT(admission.Admit({"", "district-office", kPinA}), IsOk());
  // Two handshakes a second come back.
  clock.Advance(absl::Milliseconds(500));
  EXPECT_THAT(admission.Admit(dossier), IsOk());
  EXPECT_THAT(admission.Admit(dossier),
              StatusIs(absl::StatusCode::kResourceExhausted, ::testing::_));
  // A reload is no way around the rate.
  ASSERT_THAT(admission.Update(Clients(kClients).clients()), IsOk());
  EXPECT_THAT(admission.Admit(dossier),
              StatusIs(absl::StatusCode::kResourceExhausted, ::testing::_));
}

// A call on a live connection is held to the clients as they are now, by
// the handshake's identity and pin rules, without its rate.
TEST(ClientAdmissionTest, RecheckHoldsALiveConnectionToTheClientsOfNow) {
  resilience::FakeClock clock;
  ClientAdmission admission({1, 1}, &clock);
  ASSERT_THAT(admission.Update(Clients(kClients).clients()), IsOk());
  const ClientAdmission::Presented pinned{"spiffe://lienthong.local/pinned", "",
                                          kPinA};
  ASSERT_THAT(admission.Admit(pinned), IsOk());
  // The handshake's rate (one) is spent; calls do not take it.
  ASSERT_THAT(admission.Admit(pinned),
              StatusIs(absl::StatusCode::kResourceExhausted, ::testing::_));
  for (int i = 0; i < 3; ++i) EXPECT_THAT(admission.Recheck(pinned), IsOk());
  // The same rules as the handshake: CN only where configured.
  EXPECT_THAT(admission.Recheck({"", "district-office", kPinA}), IsOk());
  EXPECT_THAT(admission.Recheck({"", "cn-not-enabled", kPinA}),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       HasSubstr("is not a configured client")));

  // A reload re-pins the client to another certificate.
  const config::v1::GatewayConfig repinned = Clients(
      absl::StrCat(R"pb(clients { id: "spiffe://lienthong.local/pinned")pb",
                   R"pb(certificate_sha256: ")pb", kPinB, R"pb(" })pb"));
  ASSERT_THAT(admission.Update(repinned.clients()), IsOk());
  EXPECT_THAT(admission.Recheck(pinned),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       AllOf(HasSubstr("client certificate refused: "),
                             HasSubstr("'spiffe://lienthong.local/pinned' is "
                                       "not one of its certificate_sha256"),
                             Not(HasSubstr(kPinA)))));
  EXPECT_THAT(admission.Recheck({"spiffe://lienthong.local/pinned", "", kPinB}),
              IsOk());

  // And one that removes it.
  ASSERT_THAT(admission.Update(Clients("").clients()), IsOk());
  EXPECT_THAT(admission.Recheck({"spiffe://lienthong.local/pinned", "", kPinB}),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       HasSubstr("is not a configured client")));
}

TEST(ClientAdmissionTest, MessagesShortenLongIdentities) {
  ClientAdmission admission({});
  ASSERT_THAT(admission.Update(Clients(kClients).clients()), IsOk());
  const std::string long_uri = "spiffe://x/" + std::string(5000, 'a');
  auto refused = admission.Admit({long_uri, "", kPinA});
  ASSERT_FALSE(refused.ok());
  EXPECT_LT(refused.status().message().size(), 250u);
}

TEST(NormalizeFingerprintTest, AcceptsTheUsualSpellings) {
  const std::string lower(64, 'a');
  EXPECT_THAT(NormalizeFingerprint(lower), IsOkAndHolds(lower));
  EXPECT_THAT(NormalizeFingerprint(std::string(64, 'A')), IsOkAndHolds(lower));
  std::string colons;
  for (int i = 0; i < 32; ++i) colons += i == 0 ? "AA" : ":AA";
  EXPECT_THAT(NormalizeFingerprint(colons), IsOkAndHolds(lower));
  EXPECT_THAT(NormalizeFingerprint("sha256 Fingerprint=" + colons + "\n"),
              IsOkAndHolds(lower));
}

TEST(NormalizeFingerprintTest, RefusesWhatIsNotOne) {
  for (const std::string& bad :
       {std::string(), std::string(63, 'a'), std::string(65, 'a'),
        std::string(64, 'g'), std::string(40, 'a') /* SHA-1 */}) {
    EXPECT_THAT(NormalizeFingerprint(bad),
                StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_))
        << bad;
  }
  auto refused = NormalizeFingerprint("secret-looking-value");
  EXPECT_THAT(refused.status().message(),
              ::testing::Not(HasSubstr("secret")));
}

TEST(SecureCipherSuitesTest, KeepsOnlyAeadSuitesWithForwardSecrecy) {
  EXPECT_EQ(SecureCipherSuites(nullptr), kCipherSuites);
  std::vector<std::string> dropped;
  EXPECT_EQ(SecureCipherSuites(
                "AES128-SHA:ECDHE-ECDSA-AES256-GCM-SHA384:RC4-MD5:"
                "ECDHE-RSA-AES128-SHA:TLS_AES_128_GCM_SHA256",
                &dropped),
            "ECDHE-ECDSA-AES256-GCM-SHA384:TLS_AES_128_GCM_SHA256");
  EXPECT_THAT(dropped, ElementsAre("AES128-SHA", "RC4-MD5",
                                   "ECDHE-RSA-AES128-SHA"));
  dropped.clear();
  EXPECT_EQ(SecureCipherSuites("ALL:NULL", &dropped), kCipherSuites);
  EXPECT_THAT(dropped, ElementsAre("ALL", "NULL"));
}

}  // namespace
}  // namespace lienthong::tls
