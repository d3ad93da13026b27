#include "tests/adapters/common/sim_https_fixture.h"

#include <utility>

#include "absl/status/statusor.h"

namespace lienthong::testing {

ScratchDir* SimHttpsTest::scratch_ = nullptr;
sim::CertFiles* SimHttpsTest::files_ = nullptr;

void SimHttpsTest::SetUpTestSuite() {
  scratch_ = new ScratchDir("sim-https");
  absl::StatusOr<sim::CertFiles> files =
      sim::WriteSelfSignedCert(scratch_->path());
  ASSERT_TRUE(files.ok()) << files.status();
  files_ = new sim::CertFiles(*std::move(files));
}

void SimHttpsTest::TearDownTestSuite() {
  delete files_;
  files_ = nullptr;
  delete scratch_;
  scratch_ = nullptr;
}

void SimHttpsTest::SetUp() {
  ASSERT_NE(files_, nullptr) << "the simulator's certificate was not made";
  sim::SimOptions options;
  options.cert_file = files_->cert_file;
  options.key_file = files_->key_file;
  absl::StatusOr<std::unique_ptr<sim::SimServer>> server =
      sim::SimServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  sim_ = *std::move(server);
  absl::StatusOr<std::unique_ptr<adapters::CurlHttpClient>> http =
      adapters::CurlHttpClient::Create({});
  ASSERT_TRUE(http.ok()) << http.status();
  http_ = *std::move(http);
}

}  // namespace lienthong::testing
