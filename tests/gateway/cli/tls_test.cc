// Runs the command functions (RunVerify, RunLookup) against fake
// IdentityService and PopulationService servers over real mutual TLS on
// 127.0.0.1:0, with the development certificates made for the tests.
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gateway/cli/command.h"
#include "gateway/cli/exit_codes.h"
#include "gateway/cli/identity_commands.h"
#include "gateway/cli/population_commands.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/server.h"
#include "grpcpp/server_context.h"
#include "gtest/gtest.h"
#include "lienthong/v1/identity.grpc.pb.h"
#include "lienthong/v1/population.grpc.pb.h"
#include "tests/gateway/cli/tls_server.h"
#include "tests/testing/test_certs.h"

namespace lienthong::cli {
namespace {

using ::lienthong::testing::TestCert;
using ::lienthong::testing::TestCertDir;
using ::lienthong::v1::Citizen;
using ::lienthong::v1::LookupCitizenRequest;
using ::lienthong::v1::VerifyIdentityRequest;
using ::lienthong::v1::VerifyIdentityResponse;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Synthetic IDs, each selecting one behaviour of the fakes.
constexpr char kMatchId[] = "033085012345";
constexpr char kNoMatchId[] = "034190000777";
constexpr char kUnknownId[] = "001099000404";
constexpr char kSlowId[] = "001099000999";
constexpr char kReference[] = "LT-TEST-000042";

// Answers by ID from a fixed table; an ID in `errors` fails with its status.
const std::map<std::string, grpc::Status>& Errors() {
  static const auto* errors = new std::map<std::string, grpc::Status>{
      {"001099000400", {grpc::INVALID_ARGUMENT, "citizen_id is malformed"}},
      {"001099000403", {grpc::PERMISSION_DENIED, "caller may not verify"}},
      {"001099000401", {grpc::UNAUTHENTICATED, "no client identity"}},
      {"001099000503", {grpc::UNAVAILABLE, "VNeID is down"}},
      {"001099000500", {grpc::INTERNAL, "bug\nwith two lines"}},
      {"001099000429", {grpc::RESOURCE_EXHAUSTED, "over quota"}},
  };
  return *errors;
}

// Blocks until the caller gives up, so that its deadline always expires.
grpc::Status WaitForCancel(grpc::ServerContext* context) {
  while (!context->IsCancelled()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return grpc::Status(grpc::CANCELLED, "caller gave up");
}

std::string PeerCommonName(const grpc::ServerContext& context) {
  auto values = context.auth_context()->FindPropertyValues("x509_common_name");
  if (values.empty()) return "";
  return std::string(values.front().data(), values.front().size());
}

class FakeIdentity final : public lienthong::v1::IdentityService::Service {
 public:
  grpc::Status VerifyIdentity(grpc::ServerContext* context,
                              const VerifyIdentityRequest* request,
                              VerifyIdentityResponse* response) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++calls_;
      last_request_ = *request;
      last_peer_ = PeerCommonName(*context);
    }
    const std::string& id = request->citizen_id();
    if (auto it = Errors().find(id); it != Errors().end()) return it->second;
    if (id == kSlowId) return WaitForCancel(context);
    if (id == kMatchId) {
      response->set_result(VerifyIdentityResponse::MATCH);
      response->set_reference("LT-TEST-0001");
    } else if (id == kNoMatchId) {
      response->set_result(VerifyIdentityResponse::NO_MATCH);
      response->set_reference("LT-TEST-0002");
    } else {
      return grpc::Status::OK;  // no result at all
    }
    return grpc::Status::OK;
  }

  int calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  VerifyIdentityRequest last_request() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_request_;
  }
  std::string last_peer() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_peer_;
  }

 private:
  std::mutex mu_;
  int calls_ = 0;
  VerifyIdentityRequest last_request_;
  std::string last_peer_;
};

class FakePopulation final : public lienthong::v1::PopulationService::Service {
 public:
  grpc::Status LookupCitizen(grpc::ServerContext* context,
                             const LookupCitizenRequest* request,
                             Citizen* citizen) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_request_ = *request;
    }
    const std::string& id = request->citizen_id();
    if (auto it = Errors().find(id); it != Errors().end()) return it->second;
    if (id == kSlowId) return WaitForCancel(context);
    context->AddTrailingMetadata(kReferenceMetadataKey, kReference);
    if (id != kMatchId) {
      return grpc::Status(grpc::NOT_FOUND, "no citizen has this ID");
    }
    citizen->mutable_name()->set_full("Nguyễn Văn An");
    citizen->mutable_birth_date()->set_year(1985);
    citizen->mutable_birth_date()->set_month(3);
    citizen->mutable_birth_date()->set_day(12);
    citizen->mutable_permanent_address()->set_detail("Thôn Đông Tảo");
    citizen->mutable_permanent_address()->set_commune_code("12103");
    citizen->mutable_permanent_address()->set_province_code("33");
    return grpc::Status::OK;
  }

  LookupCitizenRequest last_request() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_request_;
  }

 private:
  std::mutex mu_;
  LookupCitizenRequest last_request_;
};

class CliTlsTest : public ::testing::Test {
 protected:
  // The server is the gateway (localhost / 127.0.0.1) and the client the
  // dossier system, both from the development CA; rogue-ca and rogue-client
  // are the other CA and its client.
  void SetUp() override {
    auto server = testing::StartTlsServer({&identity_, &population_}, &port_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    options_.connection = testing::DossierSystemConnection(port_);
  }

  void TearDown() override {
    if (server_ != nullptr) {
      server_->Shutdown(std::chrono::system_clock::now());
    }
  }

  static VerifyArgs Verify(const std::string& id) {
    VerifyArgs args;
    args.citizen_id = id;
    args.full_name = "Nguyễn Văn An";
    args.birth_date = "12/03/1985";
    args.purpose = "1.001193";
    args.dossier_id = "000.00.01.H31-250715-00123";
    args.officer = Officer();
    return args;
  }

  static LookupArgs Lookup(const std::string& id) {
    return {id, "1.001193", "000.00.01.H31-250715-00123",
            "name, birth_date,permanent_address", Officer()};
  }

  static OfficerArgs Officer() {
    return {"001085004321", "000.00.31.H31", "nguyenvana"};
  }

  ExitCode RunVerify(const VerifyArgs& args) {
    out_.str("");
    err_.str("");
    return cli::RunVerify(args, options_, out_, err_);
  }

  ExitCode RunLookup(const LookupArgs& args) {
    out_.str("");
    err_.str("");
    return cli::RunLookup(args, options_, out_, err_);
  }

  FakeIdentity identity_;
  FakePopulation population_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  CommonOptions options_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(CliTlsTest, VerifyMatchOverMutualTls) {
  EXPECT_EQ(RunVerify(Verify(kMatchId)), ExitCode::kOk) << err_.str();
  EXPECT_EQ(out_.str(), "MATCH  (reference LT-TEST-0001)\n");
  EXPECT_EQ(err_.str(), "");

  VerifyIdentityRequest sent = identity_.last_request();
  EXPECT_EQ(sent.citizen_id(), kMatchId);
  EXPECT_EQ(sent.full_name(), "Nguyễn Văn An");
  EXPECT_EQ(sent.birth_date().year(), 1985);
  EXPECT_EQ(sent.birth_date().month(), 3);
  EXPECT_EQ(sent.birth_date().day(), 12);
  EXPECT_EQ(sent.purpose(), "1.001193");
  EXPECT_EQ(sent.dossier_id(), "000.00.01.H31-250715-00123");
  EXPECT_EQ(sent.officer().citizen_id(), "001085004321");
  EXPECT_EQ(sent.officer().unit_code(), "000.00.31.H31");
  EXPECT_EQ(sent.officer().account(), "nguyenvana");
  EXPECT_EQ(identity_.last_peer(), "dossier-system");
}

TEST_F(CliTlsTest, VerifyResultsAndTheirExitCodes) {
  EXPECT_EQ(RunVerify(Verify(kNoMatchId)), ExitCode::kOk);
  EXPECT_EQ(out_.str(), "NO_MATCH  (reference LT-TEST-0002)\n");
  EXPECT_EQ(err_.str(), "");
  EXPECT_EQ(RunVerify(Verify(kUnknownId)), ExitCode::kOther);
  EXPECT_THAT(err_.str(), HasSubstr("without a verification result"));
}

TEST_F(CliTlsTest, VerifyJsonIsOneObject) {
  options_.json = true;
  EXPECT_EQ(RunVerify(Verify(kMatchId)), ExitCode::kOk);
  const std::string out = out_.str();
  ASSERT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
  VerifyIdentityResponse parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(out, &parsed).ok());
  EXPECT_EQ(parsed.result(), VerifyIdentityResponse::MATCH);
  EXPECT_EQ(parsed.reference(), "LT-TEST-0001");
}

TEST_F(CliTlsTest, NoOfficerFailsBeforeConnecting) {
  VerifyArgs args = Verify(kMatchId);
  args.officer = {};
  EXPECT_EQ(RunVerify(args), ExitCode::kUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--officer-id is required"));
  LookupArgs lookup = Lookup(kMatchId);
  lookup.officer.unit_code = "";
  EXPECT_EQ(RunLookup(lookup), ExitCode::kUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--officer-unit is required"));
  EXPECT_EQ(identity_.calls(), 0);
}

TEST_F(CliTlsTest, RpcErrorsAreOneLineWithTheirExitCode) {
  struct Case {
    const char* id;
    ExitCode code;
    const char* line;
  };
  const Case kCases[] = {
      {"001099000400", ExitCode::kInvalidArgument,
       "lienthong: INVALID_ARGUMENT: citizen_id is malformed\n"},
      {"001099000403", ExitCode::kAccessDenied,
       "lienthong: PERMISSION_DENIED: caller may not verify\n"},
      {"001099000401", ExitCode::kAccessDenied,
       "lienthong: UNAUTHENTICATED: no client identity\n"},
      {"001099000503", ExitCode::kConnection,
       "lienthong: UNAVAILABLE: VNeID is down\n"},
      {"001099000500", ExitCode::kOther,
       "lienthong: INTERNAL: bug with two lines\n"},
      {"001099000429", ExitCode::kOther,
       "lienthong: RESOURCE_EXHAUSTED: over quota\n"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.line);
    EXPECT_EQ(RunVerify(Verify(c.id)), c.code);
    EXPECT_EQ(err_.str(), c.line);
    EXPECT_EQ(out_.str(), "");
    EXPECT_EQ(RunLookup(Lookup(c.id)), c.code);
    EXPECT_EQ(err_.str(), c.line);
  }
}

TEST_F(CliTlsTest, DeadlineExceeded) {
  options_.connection.timeout_seconds = 0.2;
  EXPECT_EQ(RunVerify(Verify(kSlowId)), ExitCode::kDeadlineExceeded);
  EXPECT_THAT(err_.str(), StartsWith("lienthong: DEADLINE_EXCEEDED: "));
  EXPECT_EQ(RunLookup(Lookup(kSlowId)), ExitCode::kDeadlineExceeded);
}

TEST_F(CliTlsTest, LookupPrintsRecordAndReference) {
  EXPECT_EQ(RunLookup(Lookup(kMatchId)), ExitCode::kOk) << err_.str();
  EXPECT_EQ(out_.str(),
            "Name:               Nguyễn Văn An\n"
            "Birth date:         12/03/1985\n"
            "Permanent address:  Thôn Đông Tảo, commune 12103, province 33\n"
            "Reference:          LT-TEST-000042\n");
  EXPECT_EQ(err_.str(), "");
  LookupCitizenRequest sent = population_.last_request();
  EXPECT_EQ(sent.citizen_id(), kMatchId);
  EXPECT_EQ(sent.purpose(), "1.001193");
  EXPECT_EQ(sent.dossier_id(), "000.00.01.H31-250715-00123");
  EXPECT_THAT(sent.fields().paths(),
              ElementsAre("name", "birth_date", "permanent_address"));
  EXPECT_EQ(sent.officer().citizen_id(), "001085004321");
}

TEST_F(CliTlsTest, LookupJsonKeepsStdoutOneObject) {
  options_.json = true;
  EXPECT_EQ(RunLookup(Lookup(kMatchId)), ExitCode::kOk);
  Citizen parsed;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(out_.str(), &parsed).ok());
  EXPECT_EQ(parsed.name().full(), "Nguyễn Văn An");
  EXPECT_EQ(err_.str(), "lienthong: reference: LT-TEST-000042\n");
}

TEST_F(CliTlsTest, LookupNotFound) {
  EXPECT_EQ(RunLookup(Lookup(kUnknownId)), ExitCode::kNotFound);
  EXPECT_EQ(err_.str(), "lienthong: NOT_FOUND: no citizen has this ID\n");
  EXPECT_EQ(out_.str(), "");
}

TEST_F(CliTlsTest, ServerNameOverride) {
  options_.connection.server_name = "localhost";
  EXPECT_EQ(RunVerify(Verify(kMatchId)), ExitCode::kOk) << err_.str();
  options_.connection.server_name = "gateway.other.example";
  EXPECT_EQ(RunVerify(Verify(kMatchId)), ExitCode::kConnection);
  EXPECT_THAT(err_.str(), StartsWith("lienthong: UNAVAILABLE: "));
}

TEST_F(CliTlsTest, UntrustedServerIsAConnectionError) {
  options_.connection.ca_file = TestCert("rogue-ca.pem");
  EXPECT_EQ(RunVerify(Verify(kMatchId)), ExitCode::kConnection);
  EXPECT_THAT(err_.str(), StartsWith("lienthong: UNAVAILABLE: "));
  EXPECT_EQ(identity_.calls(), 0);
}

TEST_F(CliTlsTest, ServerRejectsClientFromAnotherCa) {
  options_.connection.cert_file = TestCert("rogue-client.pem");
  options_.connection.key_file = TestCert("rogue-client.key");
  EXPECT_EQ(RunVerify(Verify(kMatchId)), ExitCode::kConnection);
  EXPECT_THAT(err_.str(), StartsWith("lienthong: UNAVAILABLE: "));
  EXPECT_EQ(identity_.calls(), 0);
}

TEST_F(CliTlsTest, BadTlsFilesFailBeforeConnecting) {
  struct Case {
    const char* ca;
    const char* cert;
    const char* key;
    const char* message;
  };
  const Case kCases[] = {
      {"ca.pem", "dossier-system.pem", "rogue-client.key",
       "--key {dir}/rogue-client.key: does not belong to the certificate in "
       "{dir}/dossier-system.pem"},
      {"ca.pem", "dossier-system.key", "dossier-system.key",
       "--cert {dir}/dossier-system.key: no PEM certificate in the file"},
      {"ca.pem", "dossier-system.pem", "dossier-system.pem",
       "--key {dir}/dossier-system.pem: no unencrypted PEM private key in the "
       "file"},
      {"ca.key", "dossier-system.pem", "dossier-system.key",
       "--ca {dir}/ca.key: no PEM certificate in the file"},
      {"ca.pem", "missing.pem", "dossier-system.key",
       "--cert {dir}/missing.pem: cannot read: No such file or directory"},
  };
  for (const Case& c : kCases) {
    std::string message = c.message;
    for (size_t at; (at = message.find("{dir}")) != std::string::npos;) {
      message.replace(at, 5, TestCertDir());
    }
    SCOPED_TRACE(message);
    options_.connection.ca_file = TestCert(c.ca);
    options_.connection.cert_file = TestCert(c.cert);
    options_.connection.key_file = TestCert(c.key);
    EXPECT_EQ(RunVerify(Verify(kMatchId)), ExitCode::kConnection);
    EXPECT_EQ(err_.str(), absl::StrCat("lienthong: tls: ", message, "\n"));
  }
  EXPECT_EQ(identity_.calls(), 0);
}

TEST_F(CliTlsTest, NothingListeningIsAConnectionError) {
  server_->Shutdown(std::chrono::system_clock::now());
  server_->Wait();
  server_.reset();
  EXPECT_EQ(RunVerify(Verify(kMatchId)), ExitCode::kConnection);
  EXPECT_THAT(err_.str(), StartsWith("lienthong: UNAVAILABLE: "));
}

}  // namespace
}  // namespace lienthong::cli
