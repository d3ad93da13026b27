// VNeID sign-in end to end: a citizen portal calls the real gateway over
// mutual TLS with a code the simulated realm issued; the gateway exchanges
// it, verifies the ID token and answers who signed in. Refusals carry their
// code and message, the audit record carries the citizen hashed, the access
// log only masked.
#include <fcntl.h>
#include <unistd.h>

#include <future>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gateway/audit/query.h"
#include "gateway/cli/vneid_commands.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "lienthong/v1/identity.grpc.pb.h"
#include "tests/integration/gateway_env.h"
#include "tests/national_sim/citizen_generator.h"
#include "tests/national_sim/vneid_login.h"

namespace lienthong::testing {
namespace {

using lienthong::v1::IdentityService;
using lienthong::v1::VneidSignInRequest;
using lienthong::v1::VneidSignInResponse;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kCitizen[] = "033085012345";
constexpr char kSignIn[] = "lienthong.v1.IdentityService/SignInWithVneid";

// Everything the process writes to stderr (the gateway's log) while alive.
class StderrCapture {
 public:
  StderrCapture()
      : path_(NewTestDir("vneid-log") + "/stderr.txt") {
    saved_ = dup(STDERR_FILENO);
    int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, STDERR_FILENO);
    close(fd);
  }
  ~StderrCapture() { Restore(); }
  std::string Text() {
    Restore();
    return ReadFileOrEmpty(path_);
  }

 private:
  void Restore() {
    if (saved_ < 0) return;
    dup2(saved_, STDERR_FILENO);
    close(saved_);
    saved_ = -1;
  }
  std::string path_;
  int saved_ = -1;
};

class VneidSignInTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Every refusal gets a record of its own here, so the tests can read
    // each call's outcome in order: with coalescing (tested in the audit
    // tests), two refusals of one kind within a second share one record,
    // which a loaded machine makes likely.
    EnvOptions options;
    options.customize = [](lienthong::config::v1::GatewayConfig& config) {
      config.mutable_audit()->set_coalesce_refusals(false);
    };
    auto env = GatewayEnv::Start(options);
    ASSERT_TRUE(env.ok()) << env.status();
    env_ = *std::move(env);
    auto http = adapters::CurlHttpClient::Create({});
    ASSERT_TRUE(http.ok()) << http.status();
    http_ = *std::move(http);
  }

  // A code the realm issued to `citizen` for `nonce`, as a portal gets it.
  std::string Code(const std::string& nonce,
                   const std::string& redirect_uri = kVneidRedirectUri) {
    sim::VneidLogin login;
    login.realm_url = sim::VneidRealmUrl(env_->sim().base_url());
    login.ca_file = TestCert("ca.pem");
    login.redirect_uri = redirect_uri;
    login.citizen_id = kCitizen;
    login.nonce = nonce;
    absl::StatusOr<std::string> code = sim::VneidAuthorize(*http_, login);
    EXPECT_TRUE(code.ok()) << code.status();
    return code.value_or("");
  }

  VneidSignInRequest Request(
      const std::string& nonce,
      const std::string& redirect_uri = kVneidRedirectUri) {
    VneidSignInRequest r;
    r.set_authorization_code(Code(nonce, redirect_uri));
    r.set_redirect_uri(redirect_uri);
    r.set_nonce(nonce);
    return r;
  }

  grpc::Status SignIn(const VneidSignInRequest& request,
                      VneidSignInResponse* response,
                      const std::string& client = "citizen-portal") {
    auto stub = IdentityService::NewStub(env_->Channel(client));
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    return stub->SignInWithVneid(&context, request, response);
  }

  std::vector<lienthong::v1::AuditRecord> SignInRecords() {
    audit::AuditLog* log = env_->gateway().audit_log();
    lienthong::v1::QueryAuditRequest query;
    query.set_method(kSignIn);
    query.set_page_size(1000);
    auto records = audit::QueryAudit(log->index(), query, log->citizen_key());
    EXPECT_TRUE(records.ok()) << records.status();
    return records.value_or(std::vector<lienthong::v1::AuditRecord>{});
  }

  int64_t VneidReceived() {
    return env_->sim().Stats().of(sim::System::kVneid).received;
  }

  std::unique_ptr<GatewayEnv> env_;
  std::unique_ptr<adapters::CurlHttpClient> http_;
};

TEST_F(VneidSignInTest, APortalLearnsWhoSignedInAndTheCallIsAuditedHashed) {
  std::optional<sim::Citizen> citizen = sim::LookupCitizen(kCitizen);
  ASSERT_TRUE(citizen.has_value());
  VneidSignInRequest request = Request("portal-nonce-0123456789");
  StderrCapture log;
  VneidSignInResponse response;
  grpc::Status status = SignIn(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.citizen_id(), kCitizen);
  EXPECT_EQ(response.full_name(), citizen->FullName());
  EXPECT_EQ(response.birth_date().year(), citizen->birth_year);
  EXPECT_EQ(response.assurance_level(), citizen->vneid_level);
  EXPECT_FALSE(response.subject().empty());

  std::vector<lienthong::v1::AuditRecord> records = SignInRecords();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].outcome(), "OK");
  EXPECT_EQ(records[0].caller(), ClientId("citizen-portal"));
  EXPECT_EQ(records[0].national_system(), "vneid");
  EXPECT_EQ(records[0].citizen_masked(), "033*******45");
  EXPECT_FALSE(records[0].citizen_hmac().empty());
  EXPECT_THAT(records[0].citizen_hmac(), Not(HasSubstr(kCitizen)));
  // Security teams find the sign-in by the citizen's ID.
  lienthong::v1::QueryAuditRequest by_citizen;
  by_citizen.set_citizen_id(kCitizen);
  audit::AuditLog* audit_log = env_->gateway().audit_log();
  auto found = audit::QueryAudit(audit_log->index(), by_citizen,
                                 audit_log->citizen_key());
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->size(), 1u);

  // The gateway writes the access line after answering: it is stopped
  // first, so that the line is written by the time the log is read (and
  // the checks that something is not in it check the whole line).
  env_.reset();
  const std::string log_text = log.Text();
  // The access log names the call with the citizen masked, and nothing of
  // the code, the nonce, the name or the ID.
  EXPECT_THAT(log_text, HasSubstr("SignInWithVneid"));
  EXPECT_THAT(log_text, HasSubstr("033*******45"));
  EXPECT_THAT(log_text, Not(HasSubstr(kCitizen)));
  EXPECT_THAT(log_text, Not(HasSubstr(request.authorization_code())));
  EXPECT_THAT(log_text, Not(HasSubstr(request.nonce())));
  EXPECT_THAT(log_text, Not(HasSubstr(citizen->FullName())));
}

TEST_F(VneidSignInTest, RefusalsHaveTheirCodeAndMessage) {
  VneidSignInResponse response;
  // Malformed request: no call to VNeID.
  int64_t before = VneidReceived();
  VneidSignInRequest no_nonce;
  no_nonce.set_authorization_code("abc");
  no_nonce.set_redirect_uri(kVneidRedirectUri);
  grpc::Status status = SignIn(no_nonce, &response);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "nonce is required");
  EXPECT_EQ(VneidReceived(), before);
  // A redirect URI the gateway allows only to another caller.
  VneidSignInRequest foreign =
      Request("foreign-nonce-0123456789", kVneidPortalRedirectUri);
  before = VneidReceived();
  auto stub = IdentityService::NewStub(env_->Channel("dossier-system"));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  status = stub->SignInWithVneid(&context, foreign, &response);
  EXPECT_EQ(status.error_code(), grpc::PERMISSION_DENIED);  // not its method
  EXPECT_EQ(SignIn(foreign, &response).error_code(), grpc::OK);  // its own
  VneidSignInRequest elsewhere = Request("elsewhere-nonce-0123456789");
  elsewhere.set_redirect_uri("https://evil.example/callback");
  before = VneidReceived();
  status = SignIn(elsewhere, &response);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "redirect_uri is not one the gateway allows for this caller");
  EXPECT_EQ(VneidReceived(), before);

  // The same code twice.
  VneidSignInRequest request = Request("twice-nonce-0123456789");
  ASSERT_TRUE(SignIn(request, &response).ok());
  status = SignIn(request, &response);
  EXPECT_EQ(status.error_code(), grpc::UNAUTHENTICATED);
  EXPECT_EQ(status.error_message(), "authorization code refused by VNeID");

  // An expired token.
  sim::VneidTokenFaults expired;
  expired.expired = true;
  env_->sim().SetVneidTokenFaults(expired);
  status = SignIn(Request("expired-nonce-0123456789"), &response);
  env_->sim().SetVneidTokenFaults({});
  EXPECT_EQ(status.error_code(), grpc::UNAUTHENTICATED);
  EXPECT_EQ(status.error_message(), "id token expired");

  // Every call audited with its outcome; failures name no citizen.
  std::vector<lienthong::v1::AuditRecord> records = SignInRecords();
  std::vector<std::string> outcomes;
  for (const auto& r : records) {
    outcomes.push_back(r.outcome());
    if (r.outcome() != "OK") {
      EXPECT_TRUE(r.citizen_hmac().empty());
    }
  }
  EXPECT_THAT(outcomes,
              ::testing::ElementsAre("INVALID_ARGUMENT", "PERMISSION_DENIED",
                                     "OK", "INVALID_ARGUMENT", "OK",
                                     "UNAUTHENTICATED", "UNAUTHENTICATED"));
}

TEST_F(VneidSignInTest, ConcurrentSignInsAfterARotationFetchTheKeysOnce) {
  VneidSignInResponse response;
  ASSERT_TRUE(SignIn(Request("first-nonce-0123456789"), &response).ok());
  ASSERT_EQ(env_->sim().VneidStats().jwks_served, 1);
  ASSERT_TRUE(env_->sim().RotateVneidKeys(/*keep_old=*/false).ok());
  std::vector<VneidSignInRequest> requests;
  for (int i = 0; i < 20; ++i) {
    requests.push_back(Request(absl::StrCat("rotated-", i, "-0123456789abc")));
  }
  std::vector<std::future<grpc::Status>> calls;
  for (const auto& r : requests) {
    calls.push_back(std::async(std::launch::async, [this, &r] {
      VneidSignInResponse out;
      return SignIn(r, &out);
    }));
  }
  for (auto& call : calls) {
    grpc::Status status = call.get();
    EXPECT_TRUE(status.ok()) << status.error_message();
  }
  EXPECT_EQ(env_->sim().VneidStats().jwks_served, 2);
}

TEST_F(VneidSignInTest, AFailingTokenEndpointIsNotRetried) {
  VneidSignInResponse response;
  ASSERT_TRUE(SignIn(Request("warm-nonce-0123456789"), &response).ok());
  VneidSignInRequest request = Request("failing-nonce-0123456789");
  sim::Knobs failing;
  failing.error_rate = 1;
  failing.error_kind = sim::ErrorKind::kHttp503;
  ASSERT_TRUE(env_->sim().SetKnobs(sim::System::kVneid, failing).ok());
  int64_t before = VneidReceived();
  grpc::Status status = SignIn(request, &response);
  EXPECT_EQ(status.error_code(), grpc::UNAVAILABLE);
  EXPECT_EQ(status.error_message(), "VNeID token endpoint answered HTTP 503");
  // The route retries up to 3 attempts, but never a code exchange.
  EXPECT_EQ(VneidReceived(), before + 1);
}

// `lienthong vneid signin` as a portal's operator runs it.
TEST_F(VneidSignInTest, TheCliSignsInAndExitsWithTheCodeOfARefusal) {
  cli::CommonOptions options;
  options.connection.server = absl::StrCat("127.0.0.1:", env_->port());
  options.connection.ca_file = TestCert("ca.pem");
  options.connection.cert_file = TestCert("citizen-portal.pem");
  options.connection.key_file = TestCert("citizen-portal.key");
  const std::string nonce = "cli-nonce-0123456789abcdef";
  cli::SignInArgs args;
  args.code = Code(nonce);
  args.redirect_uri = kVneidRedirectUri;
  args.nonce = nonce;
  std::ostringstream out, err;
  EXPECT_EQ(cli::RunVneidSignIn(args, options, out, err), cli::ExitCode::kOk)
      << err.str();
  EXPECT_THAT(out.str(), HasSubstr(absl::StrCat("Citizen ID:   ", kCitizen)));
  std::ostringstream again_out, again_err;
  EXPECT_EQ(cli::RunVneidSignIn(args, options, again_out, again_err),
            cli::ExitCode::kAccessDenied);
  EXPECT_EQ(
      again_err.str(),
      "lienthong: UNAUTHENTICATED: authorization code refused by VNeID\n");
}

}  // namespace
}  // namespace lienthong::testing
