// Client CRLs: which lists are accepted (signed by a client CA), which
// certificates they revoke, and how a changed file is picked up (or, broken,
// refused while the last good lists stay).
#include "gateway/tls/revocation.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/resilience/clock.h"
#include "gateway/tls/handshake_verifier.h"
#include "gateway/tls/openssl_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/cert_factory.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_certs.h"

namespace lienthong::tls {
namespace {

using ::lienthong::testing::IsOk;
using ::lienthong::testing::MakeClientCert;
using ::lienthong::testing::MakeCrl;
using ::lienthong::testing::PemPair;
using ::lienthong::testing::ReplaceFile;
using ::lienthong::testing::StatusIs;
using ::testing::HasSubstr;

class RevocationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ca = lienthong::testing::DevelopmentCa();
    ASSERT_THAT(ca, IsOk());
    ca_ = *ca;
    lienthong::testing::ClientCertOptions options;
    options.uri = "spiffe://lienthong.local/revoked-one";
    auto revoked = MakeClientCert(ca_, options);
    options.uri = "spiffe://lienthong.local/kept-one";
    auto kept = MakeClientCert(ca_, options);
    ASSERT_THAT(revoked, IsOk());
    ASSERT_THAT(kept, IsOk());
    revoked_ = *revoked;
    kept_ = *kept;
    dir_ = absl::StrCat(::testing::TempDir(), "/revocation-", getpid());
    ::mkdir(dir_.c_str(), 0700);
    ca_file_ = dir_ + "/ca.pem";
    crl_file_ = dir_ + "/clients.crl";
  }
  void TearDown() override {
    std::system(absl::StrCat("rm -rf ", dir_).c_str());
  }

  // Writes the client CA to ca_file_ and its empty CRL to crl_file_, and
  // watches them every 10 s of `clock`.
  absl::StatusOr<std::unique_ptr<CrlFileWatcher>> WatchEmptyList(
      resilience::FakeClock* clock) {
    auto empty = MakeCrl(ca_, {});
    if (!empty.ok()) return empty.status();
    if (!ReplaceFile(ca_file_, ca_.cert_pem) ||
        !ReplaceFile(crl_file_, *empty)) {
      return absl::InternalError("cannot write the CA or CRL file");
    }
    return CrlFileWatcher::Create(crl_file_, ca_file_, absl::Seconds(10),
                                  clock);
  }

  bool Revoked(const RevocationLists& lists, const PemPair& cert) {
    X509Ptr x509 = ParseFirstCertificate(cert.cert_pem);
    EXPECT_NE(x509, nullptr);
    return lists.IsRevoked(x509.get());
  }

  PemPair ca_;
  PemPair revoked_;
  PemPair kept_;
  std::string dir_;
  std::string ca_file_;
  std::string crl_file_;
};

TEST_F(RevocationTest, ACrlOfTheClientCaRevokesWhatItLists) {
  auto crl = MakeCrl(ca_, {revoked_.serial_hex});
  ASSERT_THAT(crl, IsOk());
  auto lists = RevocationLists::Parse(*crl, ca_.cert_pem);
  ASSERT_THAT(lists, IsOk());
  EXPECT_EQ((*lists)->list_count(), 1u);
  EXPECT_EQ((*lists)->revoked_count(), 1u);
  EXPECT_TRUE(Revoked(**lists, revoked_));
  EXPECT_FALSE(Revoked(**lists, kept_));
}

// A client under an intermediate CA that its root's CRL revokes is
// refused whether it sends the intermediate (gRPC's chain on a server is
// then just the intermediate: OpenSSL leaves the leaf out) or not (the
// intermediate is taken from the client CA file, which must hold it to
// check its own CRL). The root itself is a trust anchor, never revoked.
TEST_F(RevocationTest, ARevokedIntermediateRevokesTheClientsUnderIt) {
  auto root = lienthong::testing::MakeCa("Provincial root CA");
  ASSERT_THAT(root, IsOk());
  auto intermediate =
      lienthong::testing::MakeIntermediateCa(*root, "Provincial client CA");
  ASSERT_THAT(intermediate, IsOk());
  lienthong::testing::ClientCertOptions options;
  options.uri = "spiffe://lienthong.local/dossier-system";
  auto client = MakeClientCert(*intermediate, options);
  ASSERT_THAT(client, IsOk());
  const std::string ca_pem = root->cert_pem + intermediate->cert_pem;
  auto root_revokes = MakeCrl(*root, {intermediate->serial_hex});
  auto root_keeps = MakeCrl(*root, {});
  auto intermediate_keeps = MakeCrl(*intermediate, {});
  ASSERT_THAT(root_revokes, IsOk());
  ASSERT_THAT(root_keeps, IsOk());
  ASSERT_THAT(intermediate_keeps, IsOk());
  auto revoking =
      RevocationLists::Parse(*root_revokes + *intermediate_keeps, ca_pem);
  auto keeping =
      RevocationLists::Parse(*root_keeps + *intermediate_keeps, ca_pem);
  ASSERT_THAT(revoking, IsOk());
  ASSERT_THAT(keeping, IsOk());

  X509Ptr leaf = ParseFirstCertificate(client->cert_pem);
  ASSERT_NE(leaf, nullptr);
  const std::vector<X509Ptr> sent = ParseCertificates(intermediate->cert_pem);
  const std::vector<X509Ptr> sent_with_root =
      ParseCertificates(intermediate->cert_pem + root->cert_pem);
  const std::vector<X509Ptr> none;
  EXPECT_FALSE((*revoking)->IsRevoked(leaf.get()));  // the leaf alone is fine
  EXPECT_TRUE((*revoking)->IsPathRevoked(leaf.get(), sent));
  EXPECT_TRUE((*revoking)->IsPathRevoked(leaf.get(), sent_with_root));
  EXPECT_TRUE((*revoking)->IsPathRevoked(leaf.get(), none));
  EXPECT_FALSE((*keeping)->IsPathRevoked(leaf.get(), sent));
  EXPECT_FALSE((*keeping)->IsPathRevoked(leaf.get(), none));
  // A root's own serial in its own list does not make it revoke itself.
  auto root_lists_itself = MakeCrl(*root, {root->serial_hex});
  ASSERT_THAT(root_lists_itself, IsOk());
  auto odd =
      RevocationLists::Parse(*root_lists_itself + *intermediate_keeps, ca_pem);
  ASSERT_THAT(odd, IsOk());
  EXPECT_FALSE((*odd)->IsPathRevoked(leaf.get(), sent_with_root));
  // A self-signed certificate the client made with its revoked CA's name
  // does not stand in for that CA: the path follows signatures, not names.
  auto forged = lienthong::testing::MakeCa("Provincial client CA");
  ASSERT_THAT(forged, IsOk());
  EXPECT_TRUE((*revoking)->IsPathRevoked(leaf.get(),
                                         ParseCertificates(forged->cert_pem)));

  // The handshake's check, with the chain as gRPC gives it on a server.
  ASSERT_TRUE(ReplaceFile(dir_ + "/ca.pem", ca_pem));
  ASSERT_TRUE(
      ReplaceFile(dir_ + "/clients.crl", *root_revokes + *intermediate_keeps));
  auto watcher = CrlFileWatcher::Create(dir_ + "/clients.crl", dir_ + "/ca.pem",
                                        absl::Seconds(60));
  ASSERT_THAT(watcher, IsOk());
  HandshakeChecks checks;
  checks.crls = *std::move(watcher);
  for (const std::string& chain :
       {intermediate->cert_pem, std::string(), forged->cert_pem}) {
    PeerCertificate peer;
    peer.leaf_pem = client->cert_pem;
    peer.chain_pem = chain;
    peer.first_uri = options.uri;
    std::string reason;
    EXPECT_THAT(
        CheckClientCertificate(checks, peer, &reason),
        StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("revoked")));
    EXPECT_EQ(reason, "revoked");
  }
}

TEST_F(RevocationTest, SameSerialFromAnotherIssuerIsNotRevoked) {
  // Another CA's CRL listing the serial does not revoke our CA's certificate
  // (and the other CA, being in the bundle, is accepted as an issuer).
  auto other = lienthong::testing::MakeCa("Another client CA");
  ASSERT_THAT(other, IsOk());
  auto crl = MakeCrl(*other, {revoked_.serial_hex});
  ASSERT_THAT(crl, IsOk());
  auto lists = RevocationLists::Parse(*crl, ca_.cert_pem + other->cert_pem);
  ASSERT_THAT(lists, IsOk());
  EXPECT_FALSE(Revoked(**lists, revoked_));
}

TEST_F(RevocationTest, RefusesListsThatAreNotFromAClientCa) {
  auto other = lienthong::testing::MakeCa("Lienthong development CA");
  ASSERT_THAT(other, IsOk());
  auto forged = MakeCrl(*other, {kept_.serial_hex});  // same name, other key
  auto good = MakeCrl(ca_, {});
  ASSERT_THAT(forged, IsOk());
  ASSERT_THAT(good, IsOk());
  std::string tampered = *good;
  tampered[tampered.size() / 2] ^= 0x01;
  struct Case {
    const char* name;
    std::string pem;
    const char* message;
  } cases[] = {
      {"empty", "", "holds no PEM CRL"},
      {"a certificate, not a CRL", ca_.cert_pem, "holds no PEM CRL"},
      {"signed by a key that is not the client CA's", *forged,
       "not signed by a certificate of the client CA file"},
      {"the second of two is forged", *good + *forged, "CRL 2 is not signed"},
      {"damaged", tampered, "CRL"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(RevocationLists::Parse(c.pem, ca_.cert_pem),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)))
        << c.name;
  }
}

TEST_F(RevocationTest, NextUpdateIsTheEarliestOfTheLists) {
  auto soon = MakeCrl(ca_, {}, absl::Hours(1));
  auto later = MakeCrl(ca_, {}, absl::Hours(48));
  ASSERT_THAT(soon, IsOk());
  ASSERT_THAT(later, IsOk());
  auto lists = RevocationLists::Parse(*later + *soon, ca_.cert_pem);
  ASSERT_THAT(lists, IsOk());
  EXPECT_NEAR(absl::ToDoubleHours((*lists)->next_update() - absl::Now()), 1.0,
              0.1);
}

TEST_F(RevocationTest, WatcherPicksUpAChangedFileAfterTheRefresh) {
  resilience::FakeClock clock;
  auto watcher = WatchEmptyList(&clock);
  ASSERT_THAT(watcher, IsOk());
  EXPECT_FALSE(Revoked(*(*watcher)->Current(), revoked_));

  auto revoking = MakeCrl(ca_, {revoked_.serial_hex});
  ASSERT_THAT(revoking, IsOk());
  ASSERT_TRUE(ReplaceFile(crl_file_, *revoking));
  // Not before the refresh interval has passed...
  clock.Advance(absl::Seconds(9));
  EXPECT_FALSE(Revoked(*(*watcher)->Current(), revoked_));
  // ... then at once.
  clock.Advance(absl::Seconds(1));
  EXPECT_TRUE(Revoked(*(*watcher)->Current(), revoked_));

  // A broken replacement is refused; the last good lists stay.
  ASSERT_TRUE(ReplaceFile(crl_file_, "-----BEGIN X509 CRL-----\nnonsense\n"));
  clock.Advance(absl::Seconds(10));
  EXPECT_TRUE(Revoked(*(*watcher)->Current(), revoked_));
  // So does a deleted file.
  ASSERT_EQ(::unlink(crl_file_.c_str()), 0);
  clock.Advance(absl::Seconds(10));
  EXPECT_TRUE(Revoked(*(*watcher)->Current(), revoked_));
  // A good file again is used again.
  auto empty = MakeCrl(ca_, {});
  ASSERT_THAT(empty, IsOk());
  ASSERT_TRUE(ReplaceFile(crl_file_, *empty));
  clock.Advance(absl::Seconds(10));
  EXPECT_FALSE(Revoked(*(*watcher)->Current(), revoked_));
}

// A clock stepped back (an NTP correction, a restored snapshot) does not
// hold the old lists for the step plus the refresh interval.
TEST_F(RevocationTest, WatcherRechecksAtOnceWhenTheClockStepsBack) {
  resilience::FakeClock clock;
  auto watcher = WatchEmptyList(&clock);
  ASSERT_THAT(watcher, IsOk());
  EXPECT_FALSE(Revoked(*(*watcher)->Current(), revoked_));

  clock.Advance(-absl::Hours(24));
  auto revoking = MakeCrl(ca_, {revoked_.serial_hex});
  ASSERT_THAT(revoking, IsOk());
  ASSERT_TRUE(ReplaceFile(crl_file_, *revoking));
  EXPECT_TRUE(Revoked(*(*watcher)->Current(), revoked_));
  // From then on, the refresh interval counts from the new time.
  ASSERT_TRUE(ReplaceFile(crl_file_, *MakeCrl(ca_, {})));
  clock.Advance(absl::Seconds(9));
  EXPECT_TRUE(Revoked(*(*watcher)->Current(), revoked_));
  clock.Advance(absl::Seconds(1));
  EXPECT_FALSE(Revoked(*(*watcher)->Current(), revoked_));
}

// A live connection's calls are checked against the lists as they are now.
// Each certificate is parsed once per version of the lists: its answer is
// remembered, and forgotten when the lists change.
TEST_F(RevocationTest, CallersAreCheckedAgainstTheCurrentListsOncePerVersion) {
  resilience::FakeClock clock;
  auto watcher = WatchEmptyList(&clock);
  ASSERT_THAT(watcher, IsOk());
  CrlFileWatcher& crls = **watcher;
  auto fingerprint = [](const PemPair& cert) {
    X509Ptr x509 = ParseFirstCertificate(cert.cert_pem);
    if (x509 == nullptr) return std::string();
    absl::StatusOr<std::string> hex = Sha256Fingerprint(x509.get());
    return hex.ok() ? *hex : std::string();
  };
  const std::string revoked = fingerprint(revoked_);
  const std::string kept = fingerprint(kept_);
  ASSERT_EQ(revoked.size(), 64u);
  ASSERT_EQ(kept.size(), 64u);
  EXPECT_FALSE(crls.IsCallerRevoked(revoked, revoked_.cert_pem, ""));

  auto revoking = MakeCrl(ca_, {revoked_.serial_hex});
  ASSERT_THAT(revoking, IsOk());
  ASSERT_TRUE(ReplaceFile(crl_file_, *revoking));
  clock.Advance(absl::Seconds(10));
  EXPECT_TRUE(crls.IsCallerRevoked(revoked, revoked_.cert_pem, ""));
  EXPECT_FALSE(crls.IsCallerRevoked(kept, kept_.cert_pem, ""));
  // Remembered: not parsed again (a PEM that does not parse fails closed).
  EXPECT_TRUE(crls.IsCallerRevoked(revoked, "", ""));
  EXPECT_FALSE(crls.IsCallerRevoked(kept, "", ""));
  EXPECT_TRUE(crls.IsCallerRevoked(std::string(64, '0'), "", ""));

  // Lifted: the answers go with the lists they were for.
  auto empty = MakeCrl(ca_, {});
  ASSERT_THAT(empty, IsOk());
  ASSERT_TRUE(ReplaceFile(crl_file_, *empty));
  clock.Advance(absl::Seconds(10));
  EXPECT_FALSE(crls.IsCallerRevoked(revoked, revoked_.cert_pem, ""));
}

// A CRL file refused because a list's CA is not yet in the CA file is
// loaded once the CA file has it, though the CRL file has not changed
// since.
TEST_F(RevocationTest, WatcherTriesAgainWhenTheCaFileChanges) {
  resilience::FakeClock clock;
  auto watcher = WatchEmptyList(&clock);
  ASSERT_THAT(watcher, IsOk());

  auto other = lienthong::testing::MakeCa("New client CA");
  ASSERT_THAT(other, IsOk());
  auto revoking = MakeCrl(ca_, {revoked_.serial_hex});
  auto others = MakeCrl(*other, {});
  ASSERT_THAT(revoking, IsOk());
  ASSERT_THAT(others, IsOk());
  ASSERT_TRUE(ReplaceFile(crl_file_, *revoking + *others));
  clock.Advance(absl::Seconds(10));
  EXPECT_FALSE(Revoked(*(*watcher)->Current(), revoked_));  // refused
  ASSERT_TRUE(ReplaceFile(ca_file_, ca_.cert_pem + other->cert_pem));
  clock.Advance(absl::Seconds(10));
  EXPECT_TRUE(Revoked(*(*watcher)->Current(), revoked_));
}

TEST_F(RevocationTest, WatcherRefusesToStartWithoutAGoodFile) {
  ASSERT_TRUE(ReplaceFile(ca_file_, ca_.cert_pem));
  EXPECT_THAT(
      CrlFileWatcher::Create(dir_ + "/missing.crl", ca_file_, absl::Seconds(1)),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("cannot read listener.tls.client_crl_file")));
  ASSERT_TRUE(ReplaceFile(dir_ + "/bad.crl", ca_.cert_pem));
  EXPECT_THAT(
      CrlFileWatcher::Create(dir_ + "/bad.crl", ca_file_, absl::Seconds(1)),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("listener.tls.client_crl_file '")));
}

TEST_F(RevocationTest, AnExpiredListIsStillEnforced) {
  auto stale = MakeCrl(ca_, {revoked_.serial_hex}, -absl::Hours(1));
  ASSERT_THAT(stale, IsOk());
  auto lists = RevocationLists::Parse(*stale, ca_.cert_pem);
  ASSERT_THAT(lists, IsOk());
  EXPECT_LT((*lists)->next_update(), absl::Now());
  EXPECT_TRUE(Revoked(**lists, revoked_));
}

}  // namespace
}  // namespace lienthong::tls
