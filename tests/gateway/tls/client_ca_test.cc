// The client CA file as it is now: a caller whose CA leaves the file is
// refused at its next call and let in again when the CA is back; a broken
// or missing file keeps the last good CAs; answers are kept per certificate,
// bounded in number, and end with the certificate's validity.
#include "gateway/tls/client_ca.h"

#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gateway/resilience/clock.h"
#include "gateway/tls/client_identity.h"
#include "gateway/tls/handshake_verifier.h"
#include "gateway/tls/openssl_util.h"
#include "gmock/gmock.h"
#include "grpc/grpc_security_constants.h"
#include "grpcpp/security/auth_context.h"
#include "gtest/gtest.h"
#include "tests/testing/cert_factory.h"
#include "tests/testing/status_matchers.h"

namespace lienthong::tls {
namespace {

using ::lienthong::testing::ClientCertOptions;
using ::lienthong::testing::IsOk;
using ::lienthong::testing::MakeCa;
using ::lienthong::testing::MakeClientCert;
using ::lienthong::testing::MakeIntermediateCa;
using ::lienthong::testing::PemPair;
using ::lienthong::testing::ReplaceFile;
using ::lienthong::testing::StatusIs;
using ::testing::HasSubstr;

constexpr absl::Duration kRefresh = absl::Seconds(10);

// The properties of a connection's auth context that RecheckCaller reads;
// the rest of the interface is not used.
class FakeAuthContext final : public grpc::AuthContext {
 public:
  explicit FakeAuthContext(std::map<std::string, std::string> properties)
      : properties_(std::move(properties)) {}

  bool IsPeerAuthenticated() const override { return true; }
  std::vector<grpc::string_ref> GetPeerIdentity() const override { return {}; }
  std::string GetPeerIdentityPropertyName() const override { return ""; }
  std::vector<grpc::string_ref> FindPropertyValues(
      const std::string& name) const override {
    auto it = properties_.find(name);
    if (it == properties_.end()) return {};
    return {grpc::string_ref(it->second)};
  }
  grpc::AuthPropertyIterator begin() const override { return NoProperty(); }
  grpc::AuthPropertyIterator end() const override { return NoProperty(); }
  void AddProperty(const std::string&, const grpc::string_ref&) override {}
  bool SetPeerIdentityPropertyName(const std::string&) override {
    return false;
  }

 private:
  // The iterator's constructor that iterates over nothing is protected.
  struct NoProperty : grpc::AuthPropertyIterator {
    NoProperty() {}
  };

  std::map<std::string, std::string> properties_;
};

class ClientCaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto a = MakeCa("Provincial client CA A");
    auto b = MakeCa("Provincial client CA B");
    ASSERT_THAT(a, IsOk());
    ASSERT_THAT(b, IsOk());
    ca_a_ = *a;
    ca_b_ = *b;
    dir_ = absl::StrCat(::testing::TempDir(), "/client-ca-", getpid());
    ::mkdir(dir_.c_str(), 0700);
    ca_file_ = dir_ + "/client-ca.pem";
  }
  void TearDown() override {
    std::system(absl::StrCat("rm -rf ", dir_).c_str());
  }

  // A client certificate of `ca` for a synthetic identity.
  static PemPair ClientOf(const PemPair& ca,
                          absl::Duration valid_for = absl::Hours(24)) {
    ClientCertOptions options;
    options.uri = "spiffe://lienthong.local/dossier-system";
    options.valid_for = valid_for;
    auto cert = MakeClientCert(ca, options);
    EXPECT_THAT(cert, IsOk());
    return cert.ok() ? *cert : PemPair{};
  }

  static std::string Fingerprint(const PemPair& cert) {
    auto fingerprint = CertificateFingerprint(cert.cert_pem);
    EXPECT_THAT(fingerprint, IsOk());
    return fingerprint.ok() ? *fingerprint : std::string();
  }

  // Writes `ca_pem` as the CA file and watches it every kRefresh of clock_.
  std::unique_ptr<ClientCaWatcher> Watch(const std::string& ca_pem) {
    EXPECT_TRUE(ReplaceFile(ca_file_, ca_pem));
    auto watcher = ClientCaWatcher::Create(ca_file_, kRefresh, &clock_);
    EXPECT_THAT(watcher, IsOk());
    return watcher.ok() ? *std::move(watcher) : nullptr;
  }

  // Replaces the CA file with `ca_pem` and lets the refresh interval pass.
  void RewriteCaFile(const std::string& ca_pem) {
    ASSERT_TRUE(ReplaceFile(ca_file_, ca_pem));
    clock_.Advance(kRefresh);
  }

  // Certificates are made valid from an hour before the real time.
  resilience::FakeClock clock_{absl::Now()};
  PemPair ca_a_;
  PemPair ca_b_;
  std::string dir_;
  std::string ca_file_;
};

TEST_F(ClientCaTest, ACallerIsRefusedOnceItsCaLeavesTheFileAndLetInWhenBack) {
  std::unique_ptr<ClientCaWatcher> cas = Watch(ca_a_.cert_pem);
  ASSERT_NE(cas, nullptr);
  const PemPair client = ClientOf(ca_a_);
  const std::string fingerprint = Fingerprint(client);
  EXPECT_TRUE(cas->IsCallerTrusted(fingerprint, client.cert_pem, ""));

  // CA A is compromised: the operator leaves only CA B in the file.
  ASSERT_TRUE(ReplaceFile(ca_file_, ca_b_.cert_pem));
  clock_.Advance(kRefresh - absl::Seconds(1));
  EXPECT_TRUE(cas->IsCallerTrusted(fingerprint, client.cert_pem, ""))
      << "not before the refresh interval has passed";
  clock_.Advance(absl::Seconds(1));
  EXPECT_FALSE(cas->IsCallerTrusted(fingerprint, client.cert_pem, ""));
  const PemPair client_of_b = ClientOf(ca_b_);
  EXPECT_TRUE(
      cas->IsCallerTrusted(Fingerprint(client_of_b), client_of_b.cert_pem, ""));

  // Put back (beside B), the same certificate is trusted again.
  RewriteCaFile(ca_b_.cert_pem + ca_a_.cert_pem);
  EXPECT_TRUE(cas->IsCallerTrusted(fingerprint, client.cert_pem, ""));
  EXPECT_EQ(cas->Current()->ca_count(), 2u);
}

TEST_F(ClientCaTest, ACaLeavingTheFileIsSeenAtOnceWhenTheClockStepsBack) {
  std::unique_ptr<ClientCaWatcher> cas = Watch(ca_a_.cert_pem + ca_b_.cert_pem);
  ASSERT_NE(cas, nullptr);
  const PemPair client = ClientOf(ca_a_);
  const std::string fingerprint = Fingerprint(client);
  EXPECT_TRUE(cas->IsCallerTrusted(fingerprint, client.cert_pem, ""));

  // An NTP correction sets the clock back a day; then CA A leaves the file.
  clock_.Advance(-absl::Hours(24));
  ASSERT_TRUE(ReplaceFile(ca_file_, ca_b_.cert_pem));
  EXPECT_FALSE(cas->IsCallerTrusted(fingerprint, client.cert_pem, ""));
  EXPECT_EQ(cas->Current()->ca_count(), 1u);
}

// The call path's check: the refusal's words, with no certificate or
// identity in them, and nothing checked without a watcher.
TEST_F(ClientCaTest, RecheckCallerRefusesACallerWhoseCaLeftTheFile) {
  std::unique_ptr<ClientCaWatcher> watcher = Watch(ca_a_.cert_pem);
  ASSERT_NE(watcher, nullptr);
  const PemPair client = ClientOf(ca_a_);
  ClientIdentity caller;
  caller.id = "spiffe://lienthong.local/dossier-system";
  caller.fingerprint_sha256 = Fingerprint(client);
  std::map<std::string, std::string> properties;
  properties[GRPC_X509_PEM_CERT_PROPERTY_NAME] = client.cert_pem;
  properties[GRPC_X509_PEM_CERT_CHAIN_PROPERTY_NAME] = "";
  const FakeAuthContext context(std::move(properties));
  HandshakeChecks checks;
  checks.cas = std::move(watcher);
  EXPECT_THAT(RecheckCaller(checks, context, caller), IsOk());

  RewriteCaFile(ca_b_.cert_pem);
  EXPECT_THAT(RecheckCaller(checks, context, caller),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       ::testing::Eq(std::string(
                           "client certificate refused: its issuer is no "
                           "longer a trusted client CA"))));
  EXPECT_THAT(RecheckCaller(HandshakeChecks(), context, caller), IsOk());
}

TEST_F(ClientCaTest, ABrokenOrMissingFileKeepsTheLastGoodCas) {
  std::unique_ptr<ClientCaWatcher> cas = Watch(ca_a_.cert_pem);
  ASSERT_NE(cas, nullptr);
  const std::shared_ptr<const ClientCaSet> good = cas->Current();
  // A certificate not seen before each time, so that the set answers, not
  // a kept answer.
  auto trusts_a_new_client_of_a = [&] {
    const PemPair client = ClientOf(ca_a_);
    return cas->IsCallerTrusted(Fingerprint(client), client.cert_pem, "");
  };
  ASSERT_TRUE(trusts_a_new_client_of_a());

  struct Case {
    const char* name;
    std::string contents;  // empty: the file is removed
  } cases[] = {
      {"not PEM", "this is no certificate\n"},
      {"a damaged certificate",
       "-----BEGIN CERTIFICATE-----\nnonsense\n-----END CERTIFICATE-----\n"},
      {"only a key", ca_a_.key_pem},
      {"removed", ""},
  };
  for (const Case& c : cases) {
    if (c.contents.empty()) {
      ASSERT_EQ(::unlink(ca_file_.c_str()), 0) << c.name;
      clock_.Advance(kRefresh);
    } else {
      RewriteCaFile(c.contents);
    }
    EXPECT_EQ(cas->Current(), good) << c.name;
    EXPECT_TRUE(trusts_a_new_client_of_a()) << c.name;
  }
  // A good file again is used again.
  RewriteCaFile(ca_b_.cert_pem);
  EXPECT_NE(cas->Current(), good);
  EXPECT_FALSE(trusts_a_new_client_of_a());
}

TEST_F(ClientCaTest, WatcherRefusesToStartWithoutAGoodFile) {
  EXPECT_THAT(ClientCaWatcher::Create(dir_ + "/missing.pem", kRefresh, &clock_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("cannot read listener.tls.client_ca_file")));
  ASSERT_TRUE(ReplaceFile(ca_file_, "this is no certificate\n"));
  EXPECT_THAT(ClientCaWatcher::Create(ca_file_, kRefresh, &clock_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("holds no PEM certificate")));
}

// Answers are kept per fingerprint (a connection's calls verify its chain
// once), with the CA set they were for, and forgotten all at once when one
// more would not fit. A kept answer shows as an answer given for an empty
// PEM, which would otherwise fail closed (and is then kept in its turn).
TEST_F(ClientCaTest, AnswersAreKeptBoundedAndForgottenWithTheSet) {
  std::unique_ptr<ClientCaWatcher> cas = Watch(ca_a_.cert_pem);
  ASSERT_NE(cas, nullptr);
  const PemPair client = ClientOf(ca_a_);
  const std::string fingerprint = Fingerprint(client);
  ASSERT_TRUE(cas->IsCallerTrusted(fingerprint, client.cert_pem, ""));
  EXPECT_TRUE(cas->IsCallerTrusted(fingerprint, "", ""));  // kept
  EXPECT_FALSE(cas->IsCallerTrusted(std::string(64, '0'), "", ""));

  // A new version of the file, even with the same CA: answered afresh.
  RewriteCaFile(ca_a_.cert_pem + ca_b_.cert_pem);
  EXPECT_FALSE(cas->IsCallerTrusted(fingerprint, "", ""));

  const PemPair other = ClientOf(ca_a_);
  const std::string other_fingerprint = Fingerprint(other);
  ASSERT_TRUE(cas->IsCallerTrusted(other_fingerprint, other.cert_pem, ""));
  EXPECT_TRUE(cas->IsCallerTrusted(other_fingerprint, "", ""));  // kept
  // A flood of distinct certificates (here distinct fingerprints: the
  // answers are keyed by them) fills the answers: all are forgotten.
  for (size_t i = 0; i < CertificateAnswers<bool>::kMaxCertificates; ++i) {
    EXPECT_TRUE(
        cas->IsCallerTrusted(absl::StrCat("flood-", i), other.cert_pem, ""));
  }
  EXPECT_FALSE(cas->IsCallerTrusted(other_fingerprint, "", ""));
}

// A client certificate kept as trusted stops being trusted when it expires,
// though the file has not changed.
TEST_F(ClientCaTest, AnExpiredCertificateIsRefusedThoughTheFileIsTheSame) {
  std::unique_ptr<ClientCaWatcher> cas = Watch(ca_a_.cert_pem);
  ASSERT_NE(cas, nullptr);
  const PemPair client = ClientOf(ca_a_, absl::Hours(2));
  const std::string fingerprint = Fingerprint(client);
  EXPECT_TRUE(cas->IsCallerTrusted(fingerprint, client.cert_pem, ""));
  clock_.Advance(absl::Hours(1));
  EXPECT_TRUE(cas->IsCallerTrusted(fingerprint, client.cert_pem, ""));
  clock_.Advance(absl::Hours(2));
  EXPECT_FALSE(cas->IsCallerTrusted(fingerprint, client.cert_pem, ""));
}

// A client under an intermediate CA: trusted when it sends the intermediate
// (gRPC's chain on a server is then just the intermediate) or the file
// holds it, as the handshake would trust it; not with a forged stand-in
// for the intermediate, nor once the root leaves the file.
TEST_F(ClientCaTest, AClientOfAnIntermediateIsCheckedWithTheChainItSent) {
  auto root = MakeCa("Provincial root CA");
  ASSERT_THAT(root, IsOk());
  auto intermediate = MakeIntermediateCa(*root, "Provincial issuing CA");
  ASSERT_THAT(intermediate, IsOk());
  auto forged = MakeCa("Provincial issuing CA");  // its name, another key
  ASSERT_THAT(forged, IsOk());
  const PemPair client = ClientOf(*intermediate);
  const absl::Time now = clock_.Now();
  X509Ptr leaf = ParseFirstCertificate(client.cert_pem);
  ASSERT_NE(leaf, nullptr);

  struct Case {
    const char* name;
    std::string ca_pem;
    std::string sent;
    bool trusted;
  } cases[] = {
      {"root in the file, intermediate sent", root->cert_pem,
       intermediate->cert_pem, true},
      {"root in the file, intermediate and root sent", root->cert_pem,
       intermediate->cert_pem + root->cert_pem, true},
      {"both in the file, nothing sent",
       root->cert_pem + intermediate->cert_pem, "", true},
      {"only the intermediate in the file (a partial chain, as gRPC allows)",
       intermediate->cert_pem, "", true},
      {"root in the file, nothing sent", root->cert_pem, "", false},
      {"root in the file, a forged intermediate sent", root->cert_pem,
       forged->cert_pem, false},
      {"another CA in the file, intermediate and root sent", ca_b_.cert_pem,
       intermediate->cert_pem + root->cert_pem, false},
  };
  for (const Case& c : cases) {
    auto set = ClientCaSet::Parse(c.ca_pem);
    ASSERT_THAT(set, IsOk()) << c.name;
    EXPECT_EQ((*set)->Verifies(leaf.get(), ParseCertificates(c.sent), now),
              c.trusted)
        << c.name;
  }

  // Through the watcher, as a call on a live connection is checked.
  std::unique_ptr<ClientCaWatcher> cas = Watch(root->cert_pem);
  ASSERT_NE(cas, nullptr);
  const std::string fingerprint = Fingerprint(client);
  // A connection of the certificate that sent no chain (a resumed session
  // may carry none) is refused; that answer is kept for its chain only, so
  // a connection that sent the intermediate is trusted, either way round.
  EXPECT_FALSE(cas->IsCallerTrusted(fingerprint, client.cert_pem, ""));
  EXPECT_TRUE(cas->IsCallerTrusted(fingerprint, client.cert_pem,
                                   intermediate->cert_pem));
  EXPECT_FALSE(cas->IsCallerTrusted(fingerprint, client.cert_pem, ""));
  RewriteCaFile(ca_b_.cert_pem);
  EXPECT_FALSE(cas->IsCallerTrusted(fingerprint, client.cert_pem,
                                    intermediate->cert_pem));
}

// A set checks a chain at the time it is given, and says until when its
// answer holds: the earliest expiry on the chain.
TEST_F(ClientCaTest, VerifiesAtTheTimeItIsGiven) {
  auto set = ClientCaSet::Parse(ca_a_.cert_pem);
  ASSERT_THAT(set, IsOk());
  const PemPair client = ClientOf(ca_a_, absl::Hours(2));
  X509Ptr leaf = ParseFirstCertificate(client.cert_pem);
  ASSERT_NE(leaf, nullptr);
  const std::vector<X509Ptr> none;
  const absl::Time now = absl::Now();
  absl::Time until;
  EXPECT_TRUE((*set)->Verifies(leaf.get(), none, now, &until));
  // The client's notAfter comes before its CA's.
  EXPECT_NEAR(absl::ToDoubleHours(until - now), 2.0, 0.1);
  EXPECT_FALSE((*set)->Verifies(leaf.get(), none, now + absl::Hours(3)));
  EXPECT_FALSE((*set)->Verifies(leaf.get(), none, now - absl::Hours(2)));
}

// A CA written as OpenSSL's "TRUSTED CERTIFICATE" (openssl x509
// -trustout) is a CA as gRPC's handshake reads the file: the recheck must
// not refuse the clients gRPC let in.
TEST_F(ClientCaTest, ATrustedCertificateBlockIsACaToo) {
  X509Ptr b = ParseFirstCertificate(ca_b_.cert_pem);
  ASSERT_NE(b, nullptr);
  std::unique_ptr<BIO, BioDeleter> out(BIO_new(BIO_s_mem()));
  ASSERT_EQ(PEM_write_bio_X509_AUX(out.get(), b.get()), 1);
  char* data = nullptr;
  const long size = BIO_get_mem_data(out.get(), &data);
  const std::string trusted(data, static_cast<size_t>(size));
  ASSERT_THAT(trusted, HasSubstr("-----BEGIN TRUSTED CERTIFICATE-----"));

  auto set = ClientCaSet::Parse(ca_a_.cert_pem + trusted);
  ASSERT_THAT(set, IsOk());
  EXPECT_EQ((*set)->ca_count(), 2u);
  X509Ptr leaf = ParseFirstCertificate(ClientOf(ca_b_).cert_pem);
  ASSERT_NE(leaf, nullptr);
  EXPECT_TRUE((*set)->Verifies(leaf.get(), {}, absl::Now()));
  // Alone in the file, it is still a CA.
  EXPECT_THAT(ClientCaSet::Parse(trusted), IsOk());
}

}  // namespace
}  // namespace lienthong::tls
